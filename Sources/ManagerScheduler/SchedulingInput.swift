// What the replica scheduler decides from: the settings that govern placement, the nodes as the
// store has them (with whether each node's instance manager for the volume's data engine is
// ready), the volume, and the volume's other replicas. All values: the scheduler reads no store.

public import ManagerModel

/// The settings of longhorn-api.md §2 that placement reads, already parsed.
public struct SchedulingSettings: Sendable, Equatable {
    /// `storage-over-provisioning-percentage`.
    public var overProvisioningPercentage: Int64
    /// `storage-minimal-available-percentage`.
    public var minimalAvailablePercentage: Int64
    /// `replica-soft-anti-affinity`: a second replica of a volume may share a node.
    public var replicaSoftAntiAffinity: Bool
    /// `replica-zone-soft-anti-affinity`: a second replica may share a zone.
    public var replicaZoneSoftAntiAffinity: Bool
    /// `replica-disk-soft-anti-affinity`: a second replica may share a disk.
    public var replicaDiskSoftAntiAffinity: Bool
    /// `allow-empty-node-selector-volume`: a volume without a node selector may use tagged nodes.
    public var allowEmptyNodeSelectorVolume: Bool
    /// `allow-empty-disk-selector-volume`: a volume without a disk selector may use tagged disks.
    public var allowEmptyDiskSelectorVolume: Bool

    /// Longhorn's defaults.
    public init(
        overProvisioningPercentage: Int64 = 100, minimalAvailablePercentage: Int64 = 25,
        replicaSoftAntiAffinity: Bool = false, replicaZoneSoftAntiAffinity: Bool = true,
        replicaDiskSoftAntiAffinity: Bool = true, allowEmptyNodeSelectorVolume: Bool = true,
        allowEmptyDiskSelectorVolume: Bool = true
    ) {
        self.overProvisioningPercentage = overProvisioningPercentage
        self.minimalAvailablePercentage = minimalAvailablePercentage
        self.replicaSoftAntiAffinity = replicaSoftAntiAffinity
        self.replicaZoneSoftAntiAffinity = replicaZoneSoftAntiAffinity
        self.replicaDiskSoftAntiAffinity = replicaDiskSoftAntiAffinity
        self.allowEmptyNodeSelectorVolume = allowEmptyNodeSelectorVolume
        self.allowEmptyDiskSelectorVolume = allowEmptyDiskSelectorVolume
    }
}

/// A node as placement sees it.
public struct SchedulingNode: Sendable, Equatable {
    public var node: Node
    /// Whether the node's instance manager for the volume's data engine is running.
    public var instanceManagerReady: Bool

    public init(node: Node, instanceManagerReady: Bool) {
        self.node = node
        self.instanceManagerReady = instanceManagerReady
    }
}

/// Where a replica goes: the fields the scheduler writes into its spec.
public struct ReplicaPlacement: Sendable, Equatable {
    public var nodeID: String
    /// The disk's UUID (for a block disk, its lvstore's).
    public var diskID: String
    public var diskName: String
    public var diskPath: String
    /// `<volume>-<8 hex>`: the replica's directory on a filesystem disk.
    public var dataDirectoryName: String

    public init(nodeID: String, diskID: String, diskName: String, diskPath: String, dataDirectoryName: String) {
        self.nodeID = nodeID
        self.diskID = diskID
        self.diskName = diskName
        self.diskPath = diskPath
        self.dataDirectoryName = dataDirectoryName
    }
}

/// The label that keeps v2 replicas off a node.
public let disableV2DataEngineLabel = "node.longhorn.io/disable-v2-data-engine"
