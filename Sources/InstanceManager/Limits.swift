// Limits and defaults of the instance manager (design/STYLE.md #1).

public enum InstanceManagerLimits {
    /// Ports for V1 processes (replica and controller), Longhorn's `--port-range` default.
    public static let defaultProcessPorts: ClosedRange<Int> = 10000...20000
    /// Ports for V2 replicas and engine targets, Longhorn's `--spdk-port-range` default.
    public static let defaultSPDKPorts: ClosedRange<Int> = 20001...30000
    /// The most ports one instance may ask for: Longhorn's manager asks 5 for a replica (its
    /// NVMe/TCP listener, then rebuild and clone exposures) and 1 for an engine; a request for
    /// thousands is a bad request, not a reason to drain a range.
    public static let maxPortsPerInstance = 64
    /// The first port of the instance manager's five gRPC servers, Longhorn's default.
    public static let defaultListenPort = 8500
    /// Cluster size of a disk's lvstore: Longhorn's (1 MiB), the unit replica sizes round up to.
    public static let diskClusterSizeBytes = 1 << 20
    /// How often the V2 reconcile loop rebuilds its view from the tgt, Longhorn's period.
    public static let reconcileInterval: Duration = .seconds(3)
    /// The bound of one JSON-RPC call to the tgt: above its slowest method (an NVMe/TCP attach,
    /// bounded by its connect timeout), far below a watch's patience.
    public static let tgtCallTimeout: Duration = .seconds(30)
}
