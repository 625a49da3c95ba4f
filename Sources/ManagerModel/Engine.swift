// A Longhorn engine (`engines.longhorn.io`): the instance that serves a volume from its replicas
// (for v2: the RAID1 bdev and its frontend). Its spec and status inline InstanceSpec and
// InstanceStatus; their fields are reachable directly (`engine.spec.nodeID`).

/// An engine resource.
public struct Engine: Codable, Sendable, Equatable {
    public var metadata: ResourceMetadata
    public var spec: EngineSpec
    public var status: EngineStatus

    public init(metadata: ResourceMetadata, spec: EngineSpec, status: EngineStatus = EngineStatus()) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try c.decode(ResourceMetadata.self, forKey: .metadata)
        spec = try c.decodeIfPresent(EngineSpec.self, forKey: .spec) ?? EngineSpec()
        status = try c.decodeIfPresent(EngineStatus.self, forKey: .status) ?? EngineStatus()
    }
}

/// What an engine should be.
@dynamicMemberLookup
public struct EngineSpec: Codable, Sendable, Equatable {
    public var instance: InstanceSpec = InstanceSpec()
    public var frontend: VolumeFrontend = .unset
    public var ublkQueueDepth: Int = 0
    public var ublkNumberOfQueue: Int = 0
    /// Replica name → "ip:port", built from the running replicas' `storageIP:port`.
    public var replicaAddressMap: [String: String] = [:]
    public var upgradedReplicaAddressMap: [String: String] = [:]
    public var backupVolume: String = ""
    public var requestedBackupRestore: String = ""
    public var requestedDataSource: String = ""
    public var disableFrontend: Bool = false
    public var revisionCounterDisabled: Bool = false
    public var unmapMarkSnapChainRemovedEnabled: Bool = false
    /// Whether this is the volume's current engine.
    public var active: Bool = false
    public var snapshotMaxCount: Int = 0
    public var snapshotMaxSize: StringInt64 = 0
    public var rebuildConcurrentSyncLimit: Int = 0

    public init(instance: InstanceSpec = InstanceSpec()) { self.instance = instance }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<InstanceSpec, Value>) -> Value {
        get { instance[keyPath: keyPath] }
        set { instance[keyPath: keyPath] = newValue }
    }

    private enum CodingKeys: String, CodingKey {
        case frontend, ublkQueueDepth, ublkNumberOfQueue, replicaAddressMap, upgradedReplicaAddressMap
        case backupVolume, requestedBackupRestore, requestedDataSource, disableFrontend, revisionCounterDisabled
        case unmapMarkSnapChainRemovedEnabled, active, snapshotMaxCount, snapshotMaxSize
        case rebuildConcurrentSyncLimit
    }

    public init(from decoder: any Decoder) throws {
        instance = try InstanceSpec(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        frontend = try c.lenient(.frontend)
        ublkQueueDepth = try c.lenient(.ublkQueueDepth)
        ublkNumberOfQueue = try c.lenient(.ublkNumberOfQueue)
        replicaAddressMap = try c.lenient(.replicaAddressMap)
        upgradedReplicaAddressMap = try c.lenient(.upgradedReplicaAddressMap)
        backupVolume = try c.lenient(.backupVolume)
        requestedBackupRestore = try c.lenient(.requestedBackupRestore)
        requestedDataSource = try c.lenient(.requestedDataSource)
        disableFrontend = try c.lenient(.disableFrontend)
        revisionCounterDisabled = try c.lenient(.revisionCounterDisabled)
        unmapMarkSnapChainRemovedEnabled = try c.lenient(.unmapMarkSnapChainRemovedEnabled)
        active = try c.lenient(.active)
        snapshotMaxCount = try c.lenient(.snapshotMaxCount)
        snapshotMaxSize = try c.lenient(.snapshotMaxSize)
        rebuildConcurrentSyncLimit = try c.lenient(.rebuildConcurrentSyncLimit)
    }

    public func encode(to encoder: any Encoder) throws {
        try instance.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(frontend, forKey: .frontend)
        try c.encodeUnlessZero(ublkQueueDepth, forKey: .ublkQueueDepth)
        try c.encodeUnlessZero(ublkNumberOfQueue, forKey: .ublkNumberOfQueue)
        try c.encode(replicaAddressMap, forKey: .replicaAddressMap)
        try c.encode(upgradedReplicaAddressMap, forKey: .upgradedReplicaAddressMap)
        try c.encode(backupVolume, forKey: .backupVolume)
        try c.encode(requestedBackupRestore, forKey: .requestedBackupRestore)
        try c.encode(requestedDataSource, forKey: .requestedDataSource)
        try c.encode(disableFrontend, forKey: .disableFrontend)
        try c.encode(revisionCounterDisabled, forKey: .revisionCounterDisabled)
        try c.encode(unmapMarkSnapChainRemovedEnabled, forKey: .unmapMarkSnapChainRemovedEnabled)
        try c.encode(active, forKey: .active)
        try c.encode(snapshotMaxCount, forKey: .snapshotMaxCount)
        try c.encode(snapshotMaxSize, forKey: .snapshotMaxSize)
        try c.encodeUnlessZero(rebuildConcurrentSyncLimit, forKey: .rebuildConcurrentSyncLimit)
    }
}
