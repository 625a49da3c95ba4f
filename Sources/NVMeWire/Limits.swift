// Limits of the NVMe/TCP wire codecs (design/STYLE.md #1). Each has a reason; NVMeWireTests checks
// how they relate.

public enum NVMeWireLimits {
    /// Largest PDU header: ICReq and ICResp are 128 bytes, every other header is smaller.
    public static let maxHeaderLength = 128
    /// Largest data transfer of one command (SPDK's default `max_io_size`, 128 KiB); MDTS says so.
    public static let maxIOBytes = 131_072
    /// Largest in-capsule data on an I/O queue (SPDK's default `in_capsule_data_size`).
    public static let inCapsuleDataBytes = 4096
    /// Largest in-capsule data on the admin queue: Fabrics Connect carries 1024 bytes and SPDK
    /// accepts up to 8 KiB there.
    public static let adminInCapsuleDataBytes = 8192
    /// Largest PDU either side accepts: a header, its digest, padding to 128-byte alignment, the
    /// largest data and its digest. Anything longer is a protocol error, never an allocation.
    public static let maxPDUBytes = maxHeaderLength + 4 + 128 + maxIOBytes + 4
    /// Largest PDU data alignment (HPDA, CPDA): 0-based dwords, so data starts at most 128 bytes
    /// into a PDU and PDO fits its byte.
    public static let maxDataAlignment: UInt8 = 31
    /// Queue entries per queue (SPDK's `max_queue_depth`); CAP.MQES is this minus one.
    public static let maxQueueDepth = 128
    /// Most I/O queues one controller grants (SPDK's `max_io_qpairs_per_ctrlr`).
    public static let maxIOQueues = 127
    /// Size of an NVMe qualified name field (NQN) in Connect data and discovery entries.
    public static let nqnFieldBytes = 256
    /// Longest NQN the specification allows (223 bytes of UTF-8).
    public static let maxNQNBytes = 223
    /// Bytes of an Identify data structure and of most log pages' natural unit.
    public static let identifyBytes = 4096
    /// Size of one discovery log entry and of the discovery log header.
    public static let discoveryEntryBytes = 1024
}
