/// What the engine controller observes of an engine. (Backup, restore, purge, rebuild and clone
/// progress of the V1 engine are not kept.)
@dynamicMemberLookup
public struct EngineStatus: Codable, Sendable, Equatable {
    public var instance: InstanceStatus = InstanceStatus()
    public var currentSize: StringInt64 = 0
    /// The replica addresses the running instance was created with (copied from the spec before
    /// the instance is created; the v2 create input).
    public var currentReplicaAddressMap: [String: String] = [:]
    public var replicaModeMap: [String: ReplicaMode] = [:]
    public var replicaTransitionTimeMap: [String: String] = [:]
    public var endpoint: String = ""
    public var lastRestoredBackup: String = ""
    public var snapshots: [String: SnapshotInfo] = [:]
    public var snapshotsError: String = ""
    public var isExpanding: Bool = false
    public var lastExpansionError: String = ""
    public var lastExpansionFailedAt: String = ""
    public var unmapMarkSnapChainRemovedEnabled: Bool = false
    public var snapshotMaxCount: Int = 0
    public var snapshotMaxSize: StringInt64 = 0
    public var rebuildConcurrentSyncLimit: Int = 0

    public init(instance: InstanceStatus = InstanceStatus()) { self.instance = instance }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<InstanceStatus, Value>) -> Value {
        get { instance[keyPath: keyPath] }
        set { instance[keyPath: keyPath] = newValue }
    }

    private enum CodingKeys: String, CodingKey {
        case currentSize, currentReplicaAddressMap, replicaModeMap, replicaTransitionTimeMap, endpoint
        case lastRestoredBackup, snapshots, snapshotsError, isExpanding, lastExpansionError
        case lastExpansionFailedAt, unmapMarkSnapChainRemovedEnabled, snapshotMaxCount, snapshotMaxSize
        case rebuildConcurrentSyncLimit
    }

    public init(from decoder: any Decoder) throws {
        instance = try InstanceStatus(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        currentSize = try c.lenient(.currentSize)
        currentReplicaAddressMap = try c.lenient(.currentReplicaAddressMap)
        replicaModeMap = try c.lenient(.replicaModeMap)
        replicaTransitionTimeMap = try c.lenient(.replicaTransitionTimeMap)
        endpoint = try c.lenient(.endpoint)
        lastRestoredBackup = try c.lenient(.lastRestoredBackup)
        snapshots = try c.lenient(.snapshots)
        snapshotsError = try c.lenient(.snapshotsError)
        isExpanding = try c.lenient(.isExpanding)
        lastExpansionError = try c.lenient(.lastExpansionError)
        lastExpansionFailedAt = try c.lenient(.lastExpansionFailedAt)
        unmapMarkSnapChainRemovedEnabled = try c.lenient(.unmapMarkSnapChainRemovedEnabled)
        snapshotMaxCount = try c.lenient(.snapshotMaxCount)
        snapshotMaxSize = try c.lenient(.snapshotMaxSize)
        rebuildConcurrentSyncLimit = try c.lenient(.rebuildConcurrentSyncLimit)
    }

    public func encode(to encoder: any Encoder) throws {
        try instance.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(currentSize, forKey: .currentSize)
        try c.encode(currentReplicaAddressMap, forKey: .currentReplicaAddressMap)
        try c.encode(replicaModeMap, forKey: .replicaModeMap)
        try c.encode(replicaTransitionTimeMap, forKey: .replicaTransitionTimeMap)
        try c.encode(endpoint, forKey: .endpoint)
        try c.encode(lastRestoredBackup, forKey: .lastRestoredBackup)
        try c.encode(snapshots, forKey: .snapshots)
        try c.encode(snapshotsError, forKey: .snapshotsError)
        try c.encode(isExpanding, forKey: .isExpanding)
        try c.encode(lastExpansionError, forKey: .lastExpansionError)
        try c.encode(lastExpansionFailedAt, forKey: .lastExpansionFailedAt)
        try c.encode(unmapMarkSnapChainRemovedEnabled, forKey: .unmapMarkSnapChainRemovedEnabled)
        try c.encode(snapshotMaxCount, forKey: .snapshotMaxCount)
        try c.encode(snapshotMaxSize, forKey: .snapshotMaxSize)
        try c.encodeUnlessZero(rebuildConcurrentSyncLimit, forKey: .rebuildConcurrentSyncLimit)
    }
}

/// One snapshot of a volume as its engine reports it.
public struct SnapshotInfo: Codable, Sendable, Equatable {
    public var name: String = ""
    public var parent: String = ""
    public var children: [String: Bool] = [:]
    public var removed: Bool = false
    public var usercreated: Bool = false
    public var created: String = ""
    /// Bytes, as a decimal string.
    public var size: String = ""
    public var labels: [String: String] = [:]

    public init(name: String = "", parent: String = "") {
        self.name = name
        self.parent = parent
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.lenient(.name)
        parent = try c.lenient(.parent)
        children = try c.lenient(.children)
        removed = try c.lenient(.removed)
        usercreated = try c.lenient(.usercreated)
        created = try c.lenient(.created)
        size = try c.lenient(.size)
        labels = try c.lenient(.labels)
    }
}
