/// What a user (and the attachment controller, for `nodeID`) asks of a volume. `VolumeSpec()` is
/// what a document without any of these fields decodes as.
public struct VolumeSpec: Codable, Sendable, Equatable {
    /// Bytes, a multiple of 2 MiB once mutated.
    public var size: StringInt64 = 0
    public var frontend: VolumeFrontend = .unset
    public var ublkQueueDepth: Int = 0
    public var ublkNumberOfQueue: Int = 0
    /// v2 only; 0 follows `default-nvme-tcp-nr-io-queues`.
    public var nvmeTcpNrIoQueues: Int = 0
    public var fromBackup: String = ""
    public var restoreVolumeRecurringJob: VolumeSettingOverride = .ignored
    public var dataSource: String = ""
    public var cloneMode: String = ""
    public var dataLocality: DataLocality = .disabled
    /// Minutes.
    public var staleReplicaTimeout: Int = 0
    /// The node the volume should be attached on (written by the attachment controller).
    public var nodeID: String = ""
    /// The node for the v2 target; `""` means `nodeID`.
    public var engineNodeID: String = ""
    public var migrationNodeID: String = ""
    public var image: String = ""
    public var backingImage: String = ""
    /// JSON `Standby`, capital S as in Longhorn.
    public var standby: Bool = false
    public var diskSelector: [String] = []
    public var nodeSelector: [String] = []
    public var topologyRequirement: [TopologyRequirement] = []
    public var disableFrontend: Bool = false
    public var revisionCounterDisabled: Bool = false
    public var unmapMarkSnapChainRemoved: VolumeSettingOverride = .ignored
    public var replicaSoftAntiAffinity: VolumeSettingOverride = .ignored
    public var replicaZoneSoftAntiAffinity: VolumeSettingOverride = .ignored
    public var replicaDiskSoftAntiAffinity: VolumeSettingOverride = .ignored
    public var lastAttachedBy: String = ""
    public var accessMode: VolumeAccessMode = .readWriteOnce
    public var migratable: Bool = false
    public var encrypted: Bool = false
    /// 0 follows `default-replica-count`.
    public var numberOfReplicas: Int = 0
    public var replicaAutoBalance: ReplicaAutoBalance = .ignored
    public var snapshotDataIntegrity: SnapshotDataIntegrity = .ignored
    public var backupCompressionMethod: BackupCompressionMethod = .lz4
    public var backupBlockSize: StringInt64 = 0
    public var dataEngine: DataEngine = .v1
    public var snapshotMaxCount: Int = 0
    public var snapshotMaxSize: StringInt64 = 0
    public var freezeFilesystemForSnapshot: VolumeSettingOverride = .ignored
    public var backupTargetName: String = ""
    public var offlineRebuilding: VolumeSettingOverride = .ignored
    public var replicaRebuildingBandwidthLimit: Int64 = 0
    public var rebuildConcurrentSyncLimit: Int = 0
    public var snapshotHashingRequestedAt: String = ""

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case size, frontend, ublkQueueDepth, ublkNumberOfQueue, nvmeTcpNrIoQueues, fromBackup
        case restoreVolumeRecurringJob, dataSource, cloneMode, dataLocality, staleReplicaTimeout, nodeID
        case engineNodeID, migrationNodeID, image, backingImage
        case standby = "Standby"
        case diskSelector, nodeSelector, topologyRequirement, disableFrontend, revisionCounterDisabled
        case unmapMarkSnapChainRemoved, replicaSoftAntiAffinity, replicaZoneSoftAntiAffinity
        case replicaDiskSoftAntiAffinity, lastAttachedBy, accessMode, migratable, encrypted, numberOfReplicas
        case replicaAutoBalance, snapshotDataIntegrity, backupCompressionMethod, backupBlockSize
        case snapshotMaxCount, snapshotMaxSize, freezeFilesystemForSnapshot, backupTargetName
        case offlineRebuilding, replicaRebuildingBandwidthLimit, rebuildConcurrentSyncLimit
        case snapshotHashingRequestedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        size = try c.lenient(.size)
        frontend = try c.lenient(.frontend)
        ublkQueueDepth = try c.lenient(.ublkQueueDepth)
        ublkNumberOfQueue = try c.lenient(.ublkNumberOfQueue)
        nvmeTcpNrIoQueues = try c.lenient(.nvmeTcpNrIoQueues)
        fromBackup = try c.lenient(.fromBackup)
        restoreVolumeRecurringJob = try c.lenient(.restoreVolumeRecurringJob)
        dataSource = try c.lenient(.dataSource)
        cloneMode = try c.lenient(.cloneMode)
        dataLocality = try c.lenient(.dataLocality)
        staleReplicaTimeout = try c.lenient(.staleReplicaTimeout)
        nodeID = try c.lenient(.nodeID)
        engineNodeID = try c.lenient(.engineNodeID)
        migrationNodeID = try c.lenient(.migrationNodeID)
        image = try c.lenient(.image)
        backingImage = try c.lenient(.backingImage)
        standby = try c.lenient(.standby)
        diskSelector = try c.lenient(.diskSelector)
        nodeSelector = try c.lenient(.nodeSelector)
        topologyRequirement = try c.lenient(.topologyRequirement)
        disableFrontend = try c.lenient(.disableFrontend)
        revisionCounterDisabled = try c.lenient(.revisionCounterDisabled)
        unmapMarkSnapChainRemoved = try c.lenient(.unmapMarkSnapChainRemoved)
        replicaSoftAntiAffinity = try c.lenient(.replicaSoftAntiAffinity)
        replicaZoneSoftAntiAffinity = try c.lenient(.replicaZoneSoftAntiAffinity)
        replicaDiskSoftAntiAffinity = try c.lenient(.replicaDiskSoftAntiAffinity)
        lastAttachedBy = try c.lenient(.lastAttachedBy)
        accessMode = try c.lenient(.accessMode)
        migratable = try c.lenient(.migratable)
        encrypted = try c.lenient(.encrypted)
        numberOfReplicas = try c.lenient(.numberOfReplicas)
        replicaAutoBalance = try c.lenient(.replicaAutoBalance)
        snapshotDataIntegrity = try c.lenient(.snapshotDataIntegrity)
        backupCompressionMethod = try c.lenient(.backupCompressionMethod)
        backupBlockSize = try c.lenient(.backupBlockSize)
        dataEngine = try DataEngine.decodeCompatible(from: decoder)
        snapshotMaxCount = try c.lenient(.snapshotMaxCount)
        snapshotMaxSize = try c.lenient(.snapshotMaxSize)
        freezeFilesystemForSnapshot = try c.lenient(.freezeFilesystemForSnapshot)
        backupTargetName = try c.lenient(.backupTargetName)
        offlineRebuilding = try c.lenient(.offlineRebuilding)
        replicaRebuildingBandwidthLimit = try c.lenient(.replicaRebuildingBandwidthLimit)
        rebuildConcurrentSyncLimit = try c.lenient(.rebuildConcurrentSyncLimit)
        snapshotHashingRequestedAt = try c.lenient(.snapshotHashingRequestedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(size, forKey: .size)
        try c.encode(frontend, forKey: .frontend)
        try c.encodeUnlessZero(ublkQueueDepth, forKey: .ublkQueueDepth)
        try c.encodeUnlessZero(ublkNumberOfQueue, forKey: .ublkNumberOfQueue)
        try c.encodeUnlessZero(nvmeTcpNrIoQueues, forKey: .nvmeTcpNrIoQueues)
        try c.encode(fromBackup, forKey: .fromBackup)
        try c.encode(restoreVolumeRecurringJob, forKey: .restoreVolumeRecurringJob)
        try c.encode(dataSource, forKey: .dataSource)
        try c.encode(cloneMode, forKey: .cloneMode)
        try c.encode(dataLocality, forKey: .dataLocality)
        try c.encode(staleReplicaTimeout, forKey: .staleReplicaTimeout)
        try c.encode(nodeID, forKey: .nodeID)
        try c.encode(engineNodeID, forKey: .engineNodeID)
        try c.encode(migrationNodeID, forKey: .migrationNodeID)
        try c.encode(image, forKey: .image)
        try c.encode(backingImage, forKey: .backingImage)
        try c.encode(standby, forKey: .standby)
        try c.encode(diskSelector, forKey: .diskSelector)
        try c.encode(nodeSelector, forKey: .nodeSelector)
        try c.encode(topologyRequirement, forKey: .topologyRequirement)
        try c.encode(disableFrontend, forKey: .disableFrontend)
        try c.encode(revisionCounterDisabled, forKey: .revisionCounterDisabled)
        try c.encode(unmapMarkSnapChainRemoved, forKey: .unmapMarkSnapChainRemoved)
        try c.encode(replicaSoftAntiAffinity, forKey: .replicaSoftAntiAffinity)
        try c.encode(replicaZoneSoftAntiAffinity, forKey: .replicaZoneSoftAntiAffinity)
        try c.encode(replicaDiskSoftAntiAffinity, forKey: .replicaDiskSoftAntiAffinity)
        try c.encode(lastAttachedBy, forKey: .lastAttachedBy)
        try c.encode(accessMode, forKey: .accessMode)
        try c.encode(migratable, forKey: .migratable)
        try c.encode(encrypted, forKey: .encrypted)
        try c.encode(numberOfReplicas, forKey: .numberOfReplicas)
        try c.encode(replicaAutoBalance, forKey: .replicaAutoBalance)
        try c.encode(snapshotDataIntegrity, forKey: .snapshotDataIntegrity)
        try c.encode(backupCompressionMethod, forKey: .backupCompressionMethod)
        try c.encode(backupBlockSize, forKey: .backupBlockSize)
        try dataEngine.encodeCompatible(to: encoder)
        try c.encode(snapshotMaxCount, forKey: .snapshotMaxCount)
        try c.encode(snapshotMaxSize, forKey: .snapshotMaxSize)
        try c.encode(freezeFilesystemForSnapshot, forKey: .freezeFilesystemForSnapshot)
        try c.encode(backupTargetName, forKey: .backupTargetName)
        try c.encode(offlineRebuilding, forKey: .offlineRebuilding)
        try c.encode(replicaRebuildingBandwidthLimit, forKey: .replicaRebuildingBandwidthLimit)
        try c.encode(rebuildConcurrentSyncLimit, forKey: .rebuildConcurrentSyncLimit)
        try c.encode(snapshotHashingRequestedAt, forKey: .snapshotHashingRequestedAt)
    }
}
