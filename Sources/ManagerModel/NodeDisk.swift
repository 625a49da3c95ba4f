// A node's disks: what the user asks for (`node.spec.disks[name]`) and what the disk monitor
// observes (`node.status.diskStatus[name]`, same keys).

/// `filesystem` (a directory) or `block` (a block device for the v2 data engine).
public enum DiskType: String, LonghornEnum {
    case filesystem, block
    /// Longhorn's mutator turns `""` into `filesystem`.
    public static var zero: DiskType { .filesystem }
}

/// How a block disk is driven: `auto` lets the engine choose; only `block` disks may name one.
public enum DiskDriver: String, LonghornEnum {
    case unset = ""
    case auto, aio, nvme
    public static var zero: DiskDriver { .unset }
}

/// Disk condition types.
public enum DiskConditionType {
    public static let ready = "Ready"
    public static let schedulable = "Schedulable"
}

/// One disk a user gave a node.
public struct DiskSpec: Codable, Sendable, Equatable {
    public var diskType: DiskType
    /// A directory (filesystem) or a block device path or PCI address (block).
    public var path: String
    public var diskDriver: DiskDriver
    public var allowScheduling: Bool
    public var evictionRequested: Bool
    /// Bytes kept free of replicas.
    public var storageReserved: Int64
    public var tags: [String]

    public init(
        diskType: DiskType = .filesystem, path: String, diskDriver: DiskDriver = .unset,
        allowScheduling: Bool = true, evictionRequested: Bool = false, storageReserved: Int64 = 0,
        tags: [String] = []
    ) {
        self.diskType = diskType
        self.path = path
        self.diskDriver = diskDriver
        self.allowScheduling = allowScheduling
        self.evictionRequested = evictionRequested
        self.storageReserved = storageReserved
        self.tags = tags
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        diskType = try c.lenient(.diskType)
        path = try c.lenient(.path)
        diskDriver = try c.lenient(.diskDriver)
        allowScheduling = try c.lenient(.allowScheduling)
        evictionRequested = try c.lenient(.evictionRequested)
        storageReserved = try c.lenient(.storageReserved)
        tags = try c.lenient(.tags)
    }
}

/// What the disk monitor knows of one disk. For a block disk `diskUUID` is its lvstore's UUID and
/// `diskName` its lvstore's name.
public struct DiskStatus: Codable, Sendable, Equatable {
    /// `Ready` and `Schedulable`.
    public var conditions: [Condition]
    public var storageAvailable: Int64
    /// The sum of the sizes of the replicas scheduled on the disk.
    public var storageScheduled: Int64
    public var storageMaximum: Int64
    /// Replica name → volume size in bytes.
    public var scheduledReplica: [String: Int64]
    public var scheduledBackingImage: [String: Int64]
    public var diskUUID: String
    public var diskName: String
    public var diskPath: String
    public var diskType: DiskType
    /// The driver the engine resolved (`aio`, `nvme`, …).
    public var diskDriver: DiskDriver
    /// Filesystem disks only.
    public var filesystemType: String
    /// The instance manager whose disk service reports the disk.
    public var instanceManagerName: String

    public init(
        conditions: [Condition] = [], storageAvailable: Int64 = 0, storageScheduled: Int64 = 0,
        storageMaximum: Int64 = 0, scheduledReplica: [String: Int64] = [:],
        scheduledBackingImage: [String: Int64] = [:], diskUUID: String = "", diskName: String = "",
        diskPath: String = "", diskType: DiskType = .filesystem, diskDriver: DiskDriver = .unset,
        filesystemType: String = "", instanceManagerName: String = ""
    ) {
        self.conditions = conditions
        self.storageAvailable = storageAvailable
        self.storageScheduled = storageScheduled
        self.storageMaximum = storageMaximum
        self.scheduledReplica = scheduledReplica
        self.scheduledBackingImage = scheduledBackingImage
        self.diskUUID = diskUUID
        self.diskName = diskName
        self.diskPath = diskPath
        self.diskType = diskType
        self.diskDriver = diskDriver
        self.filesystemType = filesystemType
        self.instanceManagerName = instanceManagerName
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        conditions = try c.lenient(.conditions)
        storageAvailable = try c.lenient(.storageAvailable)
        storageScheduled = try c.lenient(.storageScheduled)
        storageMaximum = try c.lenient(.storageMaximum)
        scheduledReplica = try c.lenient(.scheduledReplica)
        scheduledBackingImage = try c.lenient(.scheduledBackingImage)
        diskUUID = try c.lenient(.diskUUID)
        diskName = try c.lenient(.diskName)
        diskPath = try c.lenient(.diskPath)
        diskType = try c.lenient(.diskType)
        diskDriver = try c.lenient(.diskDriver)
        filesystemType = try c.lenient(.filesystemType)
        instanceManagerName = try c.lenient(.instanceManagerName)
    }
}
