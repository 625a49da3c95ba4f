// Limits of the block device runtime (design/STYLE.md #1). LimitsTests checks how they relate.

public enum DeviceLimits {
    /// Submission entries of a reactor's io_uring: covers queue depth 128 per channel on a couple of
    /// channels at once; the kernel gives the completion queue twice as many.
    public static let defaultRingEntries = 256
    /// In-flight ring requests per reactor: never more than the ring holds, so a submission always
    /// finds room and completions never overflow.
    public static let maxRequestsPerReactor = defaultRingEntries
    /// How long an idle reactor keeps polling its ring before it sleeps. Waking a sleeping thread
    /// costs tens of microseconds on a virtual machine, more than a network round trip; SPDK
    /// polls forever, this polls for a window after the last work and then costs nothing.
    public static let defaultPollMicroseconds = 100
    /// The longest poll window the commands accept (a second): past it polling is just spinning.
    public static let maxPollMicroseconds = 1_000_000
    /// Ring entries a reactor queues before submitting them mid-round (see Reactor.swift).
    public static let defaultSubmitBatch = 8
    /// Worker threads of the fallback path: enough to keep a few I/Os in flight on a 2-core machine
    /// without crowding the reactors.
    public static let fallbackWorkerThreads = 4
    /// Chunk used when zeroes must be written by hand (no fallocate support).
    public static let zeroChunkBytes = 1024 * 1024
    /// Queued output at which a connection stops reading requests until its replies drain
    /// (BatchedWriter): enough to keep a socket's send busy through a round, small enough that a
    /// client that never reads pins little memory.
    public static let outputHighWaterBytes = 2 * 1024 * 1024
    /// Past the high-water mark a connection's output buffer grows by steps of this size, not by
    /// doubling: only the replies of requests already started land there, and a stalled
    /// connection should hold what it queued, not the next power of two.
    public static let outputGrowthStepBytes = 1024 * 1024
    /// How long a connection that ends (protocol error, the client's disconnect, server shutdown)
    /// keeps sending what it has queued before it closes anyway: long enough for a reading client
    /// on a loaded machine, short enough that clients which keep their sockets open and never read
    /// cannot hold a listener's connection slots.
    public static let finalDrainSeconds = 5
    /// Buffer a request slot starts with: the common small request needs no growth.
    public static let slotInitialBufferBytes = 4096
    /// Memory a client-sized allocation (a malloc device, an lvol's cluster map) must leave
    /// available to the rest of this process and the machine: past it the kernel's OOM killer,
    /// not an error reply, would answer.
    public static let memoryReserveBytes: UInt64 = 256 * 1024 * 1024
}
