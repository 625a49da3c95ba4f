// Limits of the NVMe/TCP target and host (design/STYLE.md #1).

public enum NVMeTCPLimits {
    /// Receive buffer of one connection: room for the largest PDU twice, so a PDU that arrives
    /// behind another never waits for the first to be processed before it can be read.
    public static let receiveBufferBytes = 2 * (128 * 1024 + 4096)
    /// Most subsystems one target holds.
    public static let maxSubsystems = 1024
    /// Most listeners (address, port) one target holds.
    public static let maxListeners = 256
    /// Most outstanding Asynchronous Event Requests per controller (AERL + 1).
    public static let maxAsyncEventRequests = 4
    /// Keep-alive granularity: SPDK rounds KATO up to a multiple of KAS (100 × 100 ms).
    public static let keepAliveGranularityMilliseconds: UInt32 = 10_000
    /// KATO a discovery controller gets when the host asks for none.
    public static let discoveryKeepAliveMilliseconds: UInt32 = 120_000
    /// How long a host has from opening a connection to connecting its queue (ICReq, then Fabrics
    /// Connect) before the target closes it. Keep-alive covers a connected controller; this
    /// covers the sockets before one, which would otherwise hold connection slots forever.
    /// Checked twice, so a socket is closed after two periods; generous, so a host on a loaded
    /// machine is never cut off.
    public static let connectSeconds = 60
    /// Most connections the target serves at once.
    public static let maxConnections = 1024
}
