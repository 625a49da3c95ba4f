// A Longhorn node (`nodes.longhorn.io`): the disks a user gives it and whether replicas may be
// scheduled there; its status holds what the node and disk monitors observe.

/// A node resource.
public struct Node: Codable, Sendable, Equatable {
    public var metadata: ResourceMetadata
    public var spec: NodeSpec
    public var status: NodeStatus

    public init(metadata: ResourceMetadata, spec: NodeSpec, status: NodeStatus = NodeStatus()) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try c.decode(ResourceMetadata.self, forKey: .metadata)
        spec = try c.decodeIfPresent(NodeSpec.self, forKey: .spec) ?? NodeSpec(name: metadata.name)
        status = try c.decodeIfPresent(NodeStatus.self, forKey: .status) ?? NodeStatus()
    }
}

/// Node condition types.
public enum NodeConditionType {
    public static let ready = "Ready"
    public static let schedulable = "Schedulable"
    public static let mountPropagation = "MountPropagation"
    public static let multipathd = "Multipathd"
    public static let kernelModulesLoaded = "KernelModulesLoaded"
    public static let requiredPackages = "RequiredPackages"
    public static let nfsClientInstalled = "NFSClientInstalled"
    public static let hugePagesAvailable = "HugePagesAvailable"
}

/// What a user asks of a node.
public struct NodeSpec: Codable, Sendable, Equatable {
    public var name: String
    /// Disk name → disk.
    public var disks: [String: DiskSpec]
    public var allowScheduling: Bool
    public var evictionRequested: Bool
    public var tags: [String]
    /// Millicpu for the node's instance managers; 0 follows the setting.
    public var instanceManagerCPURequest: Int

    public init(
        name: String, disks: [String: DiskSpec] = [:], allowScheduling: Bool = true,
        evictionRequested: Bool = false, tags: [String] = [], instanceManagerCPURequest: Int = 0
    ) {
        self.name = name
        self.disks = disks
        self.allowScheduling = allowScheduling
        self.evictionRequested = evictionRequested
        self.tags = tags
        self.instanceManagerCPURequest = instanceManagerCPURequest
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.lenient(.name)
        disks = try c.lenient(.disks)
        allowScheduling = try c.lenient(.allowScheduling)
        evictionRequested = try c.lenient(.evictionRequested)
        tags = try c.lenient(.tags)
        instanceManagerCPURequest = try c.lenient(.instanceManagerCPURequest)
    }
}

/// When the node's snapshots were last checked.
public struct SnapshotCheckStatus: Codable, Sendable, Equatable {
    public var lastPeriodicCheckedAt: String
    public init(lastPeriodicCheckedAt: String = "") { self.lastPeriodicCheckedAt = lastPeriodicCheckedAt }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lastPeriodicCheckedAt = try c.lenient(.lastPeriodicCheckedAt)
    }
}

/// What the node and disk monitors observe.
public struct NodeStatus: Codable, Sendable, Equatable {
    /// `Ready`, `Schedulable` and the environment checks (see NodeConditionType).
    public var conditions: [Condition]
    /// Disk name → status; the same names as `spec.disks` once synced.
    public var diskStatus: [String: DiskStatus]
    public var region: String
    public var zone: String
    public var snapshotCheckStatus: SnapshotCheckStatus
    public var autoEvicting: Bool
    public var cpuPolicy: String

    public init(
        conditions: [Condition] = [], diskStatus: [String: DiskStatus] = [:], region: String = "",
        zone: String = "", snapshotCheckStatus: SnapshotCheckStatus = SnapshotCheckStatus(),
        autoEvicting: Bool = false, cpuPolicy: String = ""
    ) {
        self.conditions = conditions
        self.diskStatus = diskStatus
        self.region = region
        self.zone = zone
        self.snapshotCheckStatus = snapshotCheckStatus
        self.autoEvicting = autoEvicting
        self.cpuPolicy = cpuPolicy
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        conditions = try c.lenient(.conditions)
        diskStatus = try c.lenient(.diskStatus)
        region = try c.lenient(.region)
        zone = try c.lenient(.zone)
        snapshotCheckStatus = try c.decodeIfPresent(SnapshotCheckStatus.self, forKey: .snapshotCheckStatus) ?? .init()
        autoEvicting = try c.lenient(.autoEvicting)
        cpuPolicy = try c.lenient(.cpuPolicy)
    }
}
