// Limits of the logical volume store (design/STYLE.md #1). LimitsTests checks how they relate.

public enum LvolLimits {
    /// Smallest cluster: one metadata page; smaller clusters would make maps larger than data.
    public static let minClusterSize = 4096
    /// Default cluster size of a new lvstore, as SPDK's `bdev_lvol_create_lvstore` (4 MiB).
    public static let defaultClusterSize = 4 * 1024 * 1024
    /// Largest cluster: one copy-on-write buffer per allocation must stay a reasonable allocation.
    public static let maxClusterSize = 1024 * 1024 * 1024
    /// Longest lvstore or lvol name in UTF-8 bytes (SPDK fork: 256 including the NUL).
    public static let maxNameBytes = 255
    /// Metadata page: the unit of atomic metadata writes.
    public static let metadataPageSize = 4096
    /// Default metadata reservation, in percent of one page per cluster (SPDK's
    /// `num_md_pages_per_cluster_ratio`); it bounds how far the store can grow.
    public static let defaultMetadataPagesPerClusterPercent = 100
    /// Cluster numbers are stored as 32 bits on disk.
    public static let maxClusters = UInt64(UInt32.max - 1)
    /// Largest lvol, as a multiple of the store's clusters: thin lvols may promise more than the
    /// store holds, within reason; the bound also caps the memory a corrupt size could demand.
    public static let maxOverprovisionFactor: UInt64 = 1024
    /// Most bytes of one xattr value; keeps metadata entries small.
    public static let maxXattrValueBytes = 64 * 1024
    /// Copy-on-write buffers per lvstore (one cluster each): bounds the memory of first writes
    /// to clones; more writers wait for a buffer.
    public static let copyOnWriteBuffers = 4
    /// Smallest journal: room for a few dozen commits between checkpoints.
    public static let minJournalBytes = 64 * 1024
}

/// What is done to clusters when they are freed (and to the data region at lvstore create).
public enum ClearMethod: UInt8, Sendable, CaseIterable {
    case none = 0
    case unmap = 1
    case writeZeroes = 2

    /// Parses SPDK's names (`none`, `unmap`, `write_zeroes`), case-insensitively.
    public init?(spdkName: String) {
        switch spdkName.lowercased() {
        case "none": self = .none
        case "unmap": self = .unmap
        case "write_zeroes": self = .writeZeroes
        default: return nil
        }
    }

    public var spdkName: String {
        switch self {
        case .none: "none"
        case .unmap: "unmap"
        case .writeZeroes: "write_zeroes"
        }
    }
}
