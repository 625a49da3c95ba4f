// The volume controller (longhorn-api.md §7): for each volume this manager owns, one reconcile
// reads the volume, its engine, its replicas and the nodes, and takes the steps still missing:
// - owned resources: Engine `<vol>-e-0` and `numberOfReplicas` Replicas `<vol>-r-<8 hex>`, made
//   stopped and unscheduled (VolumeController+Owned);
// - scheduling of every replica without a node, and the `Scheduled` condition
//   (VolumeController+Scheduling); a volume left unscheduled is reconciled again at any change to
//   a node, a setting or an instance manager (UnscheduledVolumes);
// - attach and detach in Longhorn's order (VolumeController+Attach): replicas running, then the
//   engine over their addresses, then `attached`; the engine stopped, then the replicas, then
//   `detached`; robustness from the engine's replica modes, replicas that fail marked `failedAt`;
// - deletion once asked for (VolumeController+Delete): the engine, then the replicas, each
//   stopped and deleted by the instance handler, then the attachment and the volume.
// Every write is compare-and-swap; a lost race or a crash between two steps is finished by the
// next reconcile, which starts again from what is stored.

public import Foundation
public import ManagerModel
import ManagerScheduler
import ManagerStore

public struct VolumeController: Reconciler {
    public struct Configuration: Sendable {
        /// The node this manager runs on: it owns volumes that have no owner yet.
        public var nodeName: String
        public var now: @Sendable () -> Date
        /// The 8 hex digits of a new replica's name and data directory.
        public var suffix: @Sendable () -> String

        public init(
            nodeName: String, now: @escaping @Sendable () -> Date = Date.init,
            suffix: @escaping @Sendable () -> String = VolumeController.randomSuffix
        ) {
            self.nodeName = nodeName
            self.now = now
            self.suffix = suffix
        }
    }

    let store: any ResourceStore
    let configuration: Configuration
    let unscheduled = UnscheduledVolumes()

    public init(store: any ResourceStore, configuration: Configuration) {
        self.store = store
        self.configuration = configuration
    }

    public func keys() async throws -> [String] {
        try await store.list(Volume.self).items.map(\.name)
    }

    public func keys(affectedBy event: ResourceEvent) -> [String] {
        switch event.resource.kind {
        case .volumes, .volumeAttachments: [event.resource.name]
        case .engines, .replicas: event.resource.labels[VolumeLabels.volume].map { [$0] } ?? []
        // What may let a replica be placed now.
        case .nodes, .settings, .instanceManagers: unscheduled.all
        default: []
        }
    }

    public func reconcile(_ key: String) async throws {
        guard let stored = try await store.get(Volume.self, key) else {
            unscheduled.mark(key, unscheduled: false)
            return
        }
        guard stored.value.status.ownerID.isEmpty || stored.value.status.ownerID == configuration.nodeName else {
            return
        }
        var state = try await VolumeState(store: store, volume: stored)
        // Claimed by this reconcile's status write.
        if state.volume.status.ownerID.isEmpty { state.volume.status.ownerID = configuration.nodeName }
        if state.volume.metadata.isBeingDeleted {
            unscheduled.mark(key, unscheduled: false)
            try await delete(&state)
            return
        }
        if try await ensureOwned(state) { return }
        try await schedule(&state)
        try await attachOrDetach(&state)
        try await writeStatus(state)
    }

    /// Writes the volume's status when the reconcile changed it.
    func writeStatus(_ state: VolumeState) async throws {
        guard state.volume.status != state.stored.value.status else { return }
        var volume = state.stored.value
        volume.status = state.volume.status
        _ = try await store.update(
            volume, name: state.stored.name, labels: state.stored.labels, expectedVersion: state.stored.resourceVersion)
    }

    public static func randomSuffix() -> String {
        String(format: "%08x", UInt32.random(in: .min ... .max))
    }
}

/// The labels that tie engines and replicas to their volume and node.
public enum VolumeLabels {
    public static let volume = "longhornvolume"
    public static let node = "longhornnode"
    public static let diskUUID = "longhorndiskuuid"
}

/// What one reconcile of a volume reads: the stored volume (for its version), the volume as this
/// reconcile changes its status, and what it owns.
struct VolumeState {
    let stored: StoredObject<Volume>
    var volume: Volume
    var engines: [StoredObject<Engine>]
    var replicas: [StoredObject<Replica>]

    init(store: any ResourceStore, volume: StoredObject<Volume>) async throws {
        stored = volume
        self.volume = volume.value
        let selector = ResourceSelector(labels: [VolumeLabels.volume: volume.name])
        engines = try await store.list(Engine.self, selector: selector).items.filter {
            $0.value.spec.instance.volumeName == volume.name
        }.sorted { $0.name < $1.name }
        replicas = try await store.list(Replica.self, selector: selector).items.filter {
            $0.value.spec.instance.volumeName == volume.name
        }.sorted { $0.name < $1.name }
    }

    var name: String { stored.name }
    var engine: StoredObject<Engine>? { engines.first { $0.value.spec.active } ?? engines.first }
}
