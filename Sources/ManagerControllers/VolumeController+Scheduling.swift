// Scheduling a volume's replicas (longhorn-api.md §5): every replica without a node that has not
// failed is placed by the ReplicaScheduler over the stored nodes, with the settings and each
// node's instance manager for the volume's data engine; a placement is written into the replica
// (node, disk UUID, disk path, data directory; labelled with its node and disk). The volume's
// `Scheduled` condition is True when every such replica has a node, else False with reason
// `ReplicaSchedulingFailure` and the scheduler's message. Tried again every reconcile; a volume
// left unscheduled is reconciled again as soon as a node, a setting or an instance manager
// changes, so a disk added or tagged later is used at once.

import Foundation
import ManagerModel
import ManagerScheduler
import ManagerStore

extension VolumeController {
    func schedule(_ state: inout VolumeState) async throws {
        let pending = state.replicas.indices.filter {
            let replica = state.replicas[$0].value
            return replica.spec.instance.nodeID.isEmpty && replica.spec.failedAt.isEmpty
                && !replica.metadata.isBeingDeleted
        }
        var failure: SchedulingFailure?
        if !pending.isEmpty {
            let scheduler = ReplicaScheduler(settings: try await schedulingSettings())
            let nodes = try await schedulingNodes(engine: state.volume.spec.dataEngine)
            for index in pending {
                let current = state.replicas[index]
                let others = state.replicas.map(\.value)
                switch scheduler.place(
                    current.value, of: state.volume, nodes: nodes, replicas: others,
                    directorySuffix: String(current.value.spec.dataDirectoryName.suffix(8)))
                {
                case .success(let placement):
                    var replica = current.value
                    replica.spec.instance.nodeID = placement.nodeID
                    replica.spec.diskID = placement.diskID
                    replica.spec.diskPath = placement.diskPath
                    if replica.spec.dataDirectoryName.isEmpty { replica.spec.dataDirectoryName = placement.dataDirectoryName }
                    var labels = current.labels
                    labels[VolumeLabels.node] = placement.nodeID
                    labels[VolumeLabels.diskUUID] = placement.diskID
                    state.replicas[index] = try await store.update(
                        replica, name: current.name, labels: labels, expectedVersion: current.resourceVersion)
                case .failure(let reason):
                    failure = reason
                }
            }
        }
        unscheduled.mark(state.name, unscheduled: failure != nil)
        let now = configuration.now()
        if let failure {
            _ = state.volume.status.conditions.setCondition(
                VolumeConditionType.scheduled, status: .isFalse, reason: "ReplicaSchedulingFailure",
                message: failure.message, now: now)
        } else {
            _ = state.volume.status.conditions.setCondition(VolumeConditionType.scheduled, status: .isTrue, now: now)
        }
    }

    private func schedulingSettings() async throws -> SchedulingSettings {
        let settings = SettingValues(store: store)
        return SchedulingSettings(
            overProvisioningPercentage: try await settings.integer("storage-over-provisioning-percentage"),
            minimalAvailablePercentage: try await settings.integer("storage-minimal-available-percentage"),
            replicaSoftAntiAffinity: try await settings.bool("replica-soft-anti-affinity"),
            replicaZoneSoftAntiAffinity: try await settings.bool("replica-zone-soft-anti-affinity"),
            replicaDiskSoftAntiAffinity: try await settings.bool("replica-disk-soft-anti-affinity"),
            allowEmptyNodeSelectorVolume: try await settings.bool("allow-empty-node-selector-volume"),
            allowEmptyDiskSelectorVolume: try await settings.bool("allow-empty-disk-selector-volume"))
    }

    /// Every node, with whether its instance manager for `engine` runs.
    private func schedulingNodes(engine: DataEngine) async throws -> [SchedulingNode] {
        let managers = try await store.list(.instanceManagers, selector: .everything).items.map {
            try JSONDecoder().decode(InstanceManagerSummary.self, from: $0.document)
        }
        return try await store.list(Node.self).items.map { stored in
            let ready = managers.contains {
                $0.spec.nodeID == stored.name && $0.spec.dataEngine == engine && $0.currentState == .running
            }
            return SchedulingNode(node: stored.value, instanceManagerReady: ready)
        }
    }
}
