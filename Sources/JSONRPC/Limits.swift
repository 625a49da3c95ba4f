// Limits of the JSON-RPC transport (spdk.md §1.2), each with its reason.

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
}
