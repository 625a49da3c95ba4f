// The node controller of this node: keeps the Node resource of the node it runs on.
//
// Each reconcile (see ReconcileLoop for the model):
// 1. Creates the Node if it is missing: this node's name, scheduling allowed, and a default
//    filesystem disk `default-disk` under `<data-dir>/disks/default` reserving the setting
//    `storage-reserved-percentage-for-default-disk` of its size.
// 2. Deletes from the V2 instance manager's disk service every block disk that left `spec.disks`.
// 3. Checks every disk of `spec.disks` (FilesystemDisk, BlockDiskService) into
//    `status.diskStatus`, adds the replicas scheduled on each disk, and sets the disk conditions
//    Ready and Schedulable and the node's Ready and Schedulable.
// A replica change has the node checked again only when it changes where a replica is placed
// (ReplicaPlacements); the resync checks the disks every 30 s.
// 4. Writes the status, if it changed, with compare-and-swap on the version it read.
// Every step can be repeated: a reconcile cut short is finished by the next one.

public import Foundation
public import ManagerModel
import ManagerStore

/// Reconciles this node's Node resource.
public struct NodeController: Reconciler {
    public struct Configuration: Sendable {
        public var nodeName: String
        /// The node's data directory; the default disk lives in `<dataDirectory>/disks/default`.
        public var dataDirectory: String
        public var instanceManagers: InstanceManagerAddresses
        public var image: String

        public init(
            nodeName: String, dataDirectory: String, instanceManagers: InstanceManagerAddresses,
            image: String = InstanceManager.defaultImage
        ) {
            self.nodeName = nodeName
            self.dataDirectory = dataDirectory
            self.instanceManagers = instanceManagers
            self.image = image
        }
    }

    /// The default disk's name in `spec.disks`.
    public static let defaultDiskName = "default-disk"
    /// How soon a disk being created is looked at again.
    static let pendingDiskPollDelay: Duration = .milliseconds(200)

    let store: any ResourceStore
    let configuration: Configuration
    let clock: @Sendable () -> Date
    /// What a replica event must change for the node to be checked again.
    private let placements = ReplicaPlacements()

    public init(
        store: any ResourceStore, configuration: Configuration, clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
    }

    var nodeName: String { configuration.nodeName }

    public var defaultDiskPath: String {
        URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("disks/default").path
    }

    public func keys() async throws -> [String] { [nodeName] }

    public func keys(affectedBy event: ResourceEvent) -> [String] {
        switch event.resource.kind {
        case .nodes where event.resource.name == nodeName: [nodeName]
        case .replicas: placements.changes(event) ? [nodeName] : []
        case .settings: [nodeName]
        default: []
        }
    }

    public func reconcile(_ key: String) async throws {
        guard key == nodeName else { return }
        let stored = try await existingOrNewNode()
        let settings = SettingValues(store: store)
        let replicas = try await placements.list(from: store)
        let inputs = DiskInputs(
            nodeName: nodeName, v2Enabled: try await settings.bool(SettingName.v2DataEngine),
            minimalAvailablePercentage: try await settings.integer(SettingName.storageMinimalAvailablePercentage),
            overProvisioningPercentage: try await settings.integer(SettingName.storageOverProvisioningPercentage),
            replicas: replicas,
            instanceManagers: configuration.instanceManagers,
            instanceManagerNames: [
                .v1: InstanceManager.name(nodeName: nodeName, image: configuration.image, dataEngine: .v1),
                .v2: InstanceManager.name(nodeName: nodeName, image: configuration.image, dataEngine: .v2),
            ],
            now: clock())
        let node = stored.value

        try await deleteRemovedBlockDisks(node, v2Enabled: inputs.v2Enabled)

        var status = node.status
        var pending: [String] = []
        var diskStatus: [String: DiskStatus] = [:]
        for name in node.spec.disks.keys.sorted() {
            guard let spec = node.spec.disks[name] else { continue }
            let checked = await DiskCheck.status(
                of: name, spec: spec, node: node.spec, previous: node.status.diskStatus[name], inputs: inputs)
            diskStatus[name] = checked.status
            if checked.pending { pending.append(name) }
        }
        status.diskStatus = diskStatus
        status.conditions.setCondition(NodeConditionType.ready, status: .isTrue, now: inputs.now)
        status.conditions.setCondition(NodeConditionType.schedulable, status: .isTrue, now: inputs.now)

        if status != node.status {
            var updated = node
            updated.status = status
            _ = try await store.update(
                updated, name: nodeName, labels: stored.labels, expectedVersion: stored.resourceVersion)
        }
        if !pending.isEmpty {
            throw ReconcileRequeue(
                after: Self.pendingDiskPollDelay, "disks not ready yet: \(pending.joined(separator: ", "))")
        }
    }

    private func existingOrNewNode() async throws -> StoredObject<Node> {
        if let stored = try await store.get(Node.self, nodeName) { return stored }
        let path = defaultDiskPath
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let percentage = try await SettingValues(store: store).integer(
            SettingName.storageReservedPercentageForDefaultDisk)
        let maximum = try FilesystemDisk.statistics(path).maximum
        let disk = DiskSpec(path: path, allowScheduling: true, storageReserved: maximum / 100 * percentage)
        let node = Node(
            metadata: ResourceMetadata(name: nodeName, creationTimestamp: KubernetesTime.format(clock())),
            spec: NodeSpec(name: nodeName, disks: [Self.defaultDiskName: disk]))
        do {
            return try await store.create(node, name: nodeName)
        } catch .alreadyExists {
            guard let stored = try await store.get(Node.self, nodeName) else {
                throw ResourceStoreError.notFound(kind: .nodes, name: nodeName)
            }
            return stored
        }
    }

    /// Block disks whose status remains after they left the spec are deleted from the disk service
    /// (the status write that follows drops them). A disk that never got a UUID may never have
    /// reached the disk service: failing to delete it does not hold the node back.
    private func deleteRemovedBlockDisks(_ node: Node, v2Enabled: Bool) async throws {
        guard v2Enabled, let address = configuration.instanceManagers.v2 else { return }
        for (name, status) in node.status.diskStatus.sorted(by: { $0.key < $1.key })
        where node.spec.disks[name] == nil && status.diskType == .block {
            do {
                try await BlockDiskService(address: address).delete(name: name, status: status)
            } catch  where status.diskUUID.isEmpty {
                continue
            }
        }
    }
}
