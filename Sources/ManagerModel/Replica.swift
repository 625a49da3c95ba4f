// A Longhorn replica (`replicas.longhorn.io`): one copy of a volume's data on one disk (for v2,
// an lvol named like the replica in the lvstore whose UUID is `spec.diskID`). Its spec inlines
// InstanceSpec, its status is InstanceStatus.

/// A replica resource.
public struct Replica: Codable, Sendable, Equatable {
    public var metadata: ResourceMetadata
    public var spec: ReplicaSpec
    public var status: InstanceStatus

    public init(metadata: ResourceMetadata, spec: ReplicaSpec, status: InstanceStatus = InstanceStatus()) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try c.decode(ResourceMetadata.self, forKey: .metadata)
        spec = try c.decodeIfPresent(ReplicaSpec.self, forKey: .spec) ?? ReplicaSpec()
        status = try c.decodeIfPresent(InstanceStatus.self, forKey: .status) ?? InstanceStatus()
    }
}

/// Replica condition types.
public enum ReplicaConditionType {
    public static let rebuildFailed = "RebuildFailed"
    public static let waitForBackingImage = "WaitForBackingImage"
}

/// What a replica should be.
@dynamicMemberLookup
public struct ReplicaSpec: Codable, Sendable, Equatable {
    public var instance: InstanceSpec = InstanceSpec()
    public var engineName: String = ""
    public var migrationEngineName: String = ""
    public var healthyAt: String = ""
    public var lastHealthyAt: String = ""
    public var failedAt: String = ""
    public var lastFailedAt: String = ""
    /// The disk's UUID (for v2, its lvstore's UUID).
    public var diskID: String = ""
    public var diskPath: String = ""
    /// `<volume>-<8 hex>`; v1's data directory, kept for v2 too.
    public var dataDirectoryName: String = ""
    public var backingImage: String = ""
    public var active: Bool = false
    public var hardNodeAffinity: String = ""
    public var revisionCounterDisabled: Bool = false
    public var unmapMarkDiskChainRemovedEnabled: Bool = false
    public var rebuildRetryCount: Int = 0
    public var evictionRequested: Bool = false
    public var snapshotMaxCount: Int = 0
    public var snapshotMaxSize: StringInt64 = 0

    public init(instance: InstanceSpec = InstanceSpec()) { self.instance = instance }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<InstanceSpec, Value>) -> Value {
        get { instance[keyPath: keyPath] }
        set { instance[keyPath: keyPath] = newValue }
    }

    private enum CodingKeys: String, CodingKey {
        case engineName, migrationEngineName, healthyAt, lastHealthyAt, failedAt, lastFailedAt, diskID, diskPath
        case dataDirectoryName, backingImage, active, hardNodeAffinity, revisionCounterDisabled
        case unmapMarkDiskChainRemovedEnabled, rebuildRetryCount, evictionRequested, snapshotMaxCount
        case snapshotMaxSize
    }

    public init(from decoder: any Decoder) throws {
        instance = try InstanceSpec(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        engineName = try c.lenient(.engineName)
        migrationEngineName = try c.lenient(.migrationEngineName)
        healthyAt = try c.lenient(.healthyAt)
        lastHealthyAt = try c.lenient(.lastHealthyAt)
        failedAt = try c.lenient(.failedAt)
        lastFailedAt = try c.lenient(.lastFailedAt)
        diskID = try c.lenient(.diskID)
        diskPath = try c.lenient(.diskPath)
        dataDirectoryName = try c.lenient(.dataDirectoryName)
        backingImage = try c.lenient(.backingImage)
        active = try c.lenient(.active)
        hardNodeAffinity = try c.lenient(.hardNodeAffinity)
        revisionCounterDisabled = try c.lenient(.revisionCounterDisabled)
        unmapMarkDiskChainRemovedEnabled = try c.lenient(.unmapMarkDiskChainRemovedEnabled)
        rebuildRetryCount = try c.lenient(.rebuildRetryCount)
        evictionRequested = try c.lenient(.evictionRequested)
        snapshotMaxCount = try c.lenient(.snapshotMaxCount)
        snapshotMaxSize = try c.lenient(.snapshotMaxSize)
    }

    public func encode(to encoder: any Encoder) throws {
        try instance.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(engineName, forKey: .engineName)
        try c.encode(migrationEngineName, forKey: .migrationEngineName)
        try c.encode(healthyAt, forKey: .healthyAt)
        try c.encode(lastHealthyAt, forKey: .lastHealthyAt)
        try c.encode(failedAt, forKey: .failedAt)
        try c.encode(lastFailedAt, forKey: .lastFailedAt)
        try c.encode(diskID, forKey: .diskID)
        try c.encode(diskPath, forKey: .diskPath)
        try c.encode(dataDirectoryName, forKey: .dataDirectoryName)
        try c.encode(backingImage, forKey: .backingImage)
        try c.encode(active, forKey: .active)
        try c.encode(hardNodeAffinity, forKey: .hardNodeAffinity)
        try c.encode(revisionCounterDisabled, forKey: .revisionCounterDisabled)
        try c.encode(unmapMarkDiskChainRemovedEnabled, forKey: .unmapMarkDiskChainRemovedEnabled)
        try c.encode(rebuildRetryCount, forKey: .rebuildRetryCount)
        try c.encode(evictionRequested, forKey: .evictionRequested)
        try c.encode(snapshotMaxCount, forKey: .snapshotMaxCount)
        try c.encode(snapshotMaxSize, forKey: .snapshotMaxSize)
    }
}
