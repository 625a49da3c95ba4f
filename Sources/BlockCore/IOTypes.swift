/// The I/O types a block device supports, with SPDK's names (spdk.md §2.2 `supported_io_types`).
public struct IOTypes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let read = IOTypes(rawValue: 1 << 0)
    public static let write = IOTypes(rawValue: 1 << 1)
    public static let unmap = IOTypes(rawValue: 1 << 2)
    public static let flush = IOTypes(rawValue: 1 << 3)
    public static let reset = IOTypes(rawValue: 1 << 4)
    public static let writeZeroes = IOTypes(rawValue: 1 << 5)
    public static let seekData = IOTypes(rawValue: 1 << 6)
    public static let seekHole = IOTypes(rawValue: 1 << 7)

    /// Every type, paired with SPDK's key, in SPDK's order.
    public static let spdkNames: [(IOTypes, String)] = [
        (.read, "read"), (.write, "write"), (.unmap, "unmap"), (.flush, "flush"), (.reset, "reset"),
        (.writeZeroes, "write_zeroes"), (.seekData, "seek_data"), (.seekHole, "seek_hole"),
    ]
}
