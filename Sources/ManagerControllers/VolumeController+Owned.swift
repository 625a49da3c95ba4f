// The engine and replicas a volume owns, made when missing: Engine `<vol>-e-0` (active, stopped,
// no replicas yet) and Replicas `<vol>-r-<8 hex>` up to `numberOfReplicas` healthy ones, each
// stopped and unscheduled. New replicas are added only while the volume is detached and holds no
// data yet (no replica was ever healthy): a new replica starts empty, and filling it from the
// others needs a rebuild, which Hornbill does not do yet. A volume whose replicas failed keeps
// them, for a salvage.

import Foundation
import ManagerModel
import ManagerStore

extension VolumeController {
    /// Creates what is missing; true when it created something (the next reconcile goes on).
    func ensureOwned(_ state: VolumeState) async throws -> Bool {
        let volume = state.volume
        if state.engines.isEmpty {
            _ = try await createIfAbsent(
                Self.engine(for: volume, now: configuration.now()), name: "\(state.name)-e-0", labels: labels(volume))
            return true
        }
        guard volume.status.state == .creating || volume.status.state == .detached else { return false }
        let healthy = state.replicas.filter {
            $0.value.spec.failedAt.isEmpty && !$0.value.metadata.isBeingDeleted
        }
        let missing = volume.spec.numberOfReplicas - healthy.count
        let holdsData = state.replicas.contains { !$0.value.spec.healthyAt.isEmpty }
        guard missing > 0, !holdsData else { return false }
        for _ in 0..<missing {
            let name = "\(state.name)-r-\(configuration.suffix())"
            _ = try await createIfAbsent(
                Self.replica(
                    for: volume, name: name, engine: state.engine?.name ?? "\(state.name)-e-0",
                    directory: "\(state.name)-\(configuration.suffix())", now: configuration.now()),
                name: name, labels: labels(volume))
        }
        return true
    }

    func labels(_ volume: Volume) -> [String: String] { [VolumeLabels.volume: volume.metadata.name] }

    static func engine(for volume: Volume, now: Date) -> Engine {
        var spec = EngineSpec()
        spec.instance = InstanceSpec(
            volumeName: volume.metadata.name, volumeSize: volume.spec.size, nodeID: "", image: "",
            desireState: .stopped, dataEngine: volume.spec.dataEngine)
        spec.frontend = volume.spec.frontend
        spec.disableFrontend = volume.spec.disableFrontend
        spec.revisionCounterDisabled = volume.spec.revisionCounterDisabled
        spec.active = true
        spec.snapshotMaxCount = volume.spec.snapshotMaxCount
        spec.snapshotMaxSize = volume.spec.snapshotMaxSize
        return Engine(
            metadata: ResourceMetadata(
                name: "\(volume.metadata.name)-e-0", labels: [VolumeLabels.volume: volume.metadata.name],
                creationTimestamp: KubernetesTime.format(now)),
            spec: spec)
    }

    static func replica(for volume: Volume, name: String, engine: String, directory: String, now: Date) -> Replica {
        var spec = ReplicaSpec()
        spec.instance = InstanceSpec(
            volumeName: volume.metadata.name, volumeSize: volume.spec.size, nodeID: "", image: "",
            desireState: .stopped, dataEngine: volume.spec.dataEngine)
        spec.engineName = engine
        spec.active = true
        spec.dataDirectoryName = directory
        spec.revisionCounterDisabled = volume.spec.revisionCounterDisabled
        spec.snapshotMaxCount = volume.spec.snapshotMaxCount
        spec.snapshotMaxSize = volume.spec.snapshotMaxSize
        return Replica(
            metadata: ResourceMetadata(
                name: name, labels: [VolumeLabels.volume: volume.metadata.name],
                creationTimestamp: KubernetesTime.format(now)),
            spec: spec)
    }

    /// Creates the resource; one that already exists (a reconcile cut short after creating it) is fine.
    private func createIfAbsent<Resource: StoredResourceType>(
        _ value: Resource, name: String, labels: [String: String]
    ) async throws -> Bool {
        do {
            _ = try await store.create(value, name: name, labels: labels)
            return true
        } catch .alreadyExists {
            return false
        }
    }
}
