// Limits of the JSON-RPC transport (spdk.md §1.2), each with its reason. LimitsTests checks how
// they relate.

public enum JSONRPCLimits {
    /// Largest request: SPDK's upstream receive buffer (256 KiB); one request must fit.
    public static let maxRequestBytes = 256 * 1024
    /// Most JSON values in one request (upstream SPDK_JSONRPC_MAX_VALUES); more is a parse error.
    public static let maxValuesPerRequest = 8192
    /// Deepest nesting accepted; bounds the parser's recursion.
    public static let maxDepth = 64
    /// Simultaneous connections (SPDK_JSONRPC_MAX_CONNS).
    public static let maxConnections = 64
    /// Largest response (SPDK's limit).
    public static let maxResponseBytes = 32 * 1024 * 1024
    /// Requests of one connection running or with a reply not yet written to its socket; at the
    /// bound the connection is not read until replies drain. go-spdk-helper keeps up to 1024 in
    /// flight, which then wait in the socket; 128 leaves room for long-polls beside other work.
    public static let maxRequestsInFlightPerConnection = 128
    /// Reply bytes one connection may have queued, unwritten, before its requests stop being read
    /// (NIO's high water mark): a client that does not read its replies holds at most this plus
    /// the replies of the requests already running.
    public static let maxQueuedReplyBytesPerConnection = 4 * 1024 * 1024
    /// Queued reply bytes below which a paused connection is read again (NIO's low water mark).
    public static let resumeQueuedReplyBytesPerConnection = 1024 * 1024
    /// Bytes read from a socket at once: a few requests' worth; what the splitter holds beyond one
    /// request is at most this.
    public static let readChunkBytes = 64 * 1024
}
