// Limits of the SPDK method table (design/STYLE.md #1), each with its reason.

enum EngineRPCLimits {
    /// Longest wait of `bdev_get_bdevs` with a `timeout`: a day, go-spdk-helper's longest timeout;
    /// a longer one is cut to it.
    static let maxWaitMilliseconds: UInt64 = 86_400_000
    /// Memory an lvol's cluster map costs per cluster while it is built: a 4-byte entry, held
    /// twice while a changed map is copied.
    static let lvolMapBytesPerCluster: UInt64 = 8
}
