// Limits of the block layer (design/STYLE.md #1). Each has a reason; LimitsTests checks how they relate.

public enum BlockLimits {
    /// Smallest logical block: the sector size every disk and NVMe namespace supports.
    public static let minBlockSize = 512
    /// Largest logical block we accept: NVMe allows more, but no disk Longhorn uses has more than 4 KiB,
    /// and a bound keeps per-block scratch buffers small.
    public static let maxBlockSize = 65_536
    /// Alignment of I/O buffers: O_DIRECT on 4 KiB-sector devices needs 4 KiB.
    public static let bufferAlignment = 4096
    /// Most segments in one scatter-gather I/O: matches the io_uring iovec table of one request
    /// and Linux's UIO_MAXIOV is far above it.
    public static let maxSegmentsPerIO = 64
    /// Largest single I/O in bytes: bounds per-request memory; NVMe MDTS and NBD clients stay below.
    public static let maxIOBytes = 4 * 1024 * 1024
}
