// Limits of the RAID module (design/STYLE.md #1). RAIDLimitsTests checks how they relate.

public enum RAIDLimits {
    /// Most slots in one array: SPDK keeps the slot count in a uint8_t, and its RPC decodes at most
    /// 255 base bdevs.
    public static let maxSlots = 255
    /// Longest RAID name in UTF-8 bytes: SPDK's superblock name field holds 64 bytes with the NUL,
    /// and `bdev_raid_create` refuses longer names even without a superblock.
    public static let maxNameBytes = 63
    /// Bytes of zeroes one step of an emulated write-zeroes writes: one shared read-only buffer of
    /// this size serves every channel, so it must hold at least one block of the largest size and
    /// stay within one I/O.
    public static let zeroChunkBytes = 1024 * 1024
}
