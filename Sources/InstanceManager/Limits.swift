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
    /// How many runs of ports an allocation tries before it gives up when other programs hold a
    /// port of each (PortProbe).
    public static let portRunAttempts = 16
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

extension InstanceManagerLimits {
    /// How long a V1 process may take to listen on its first port before it is stopped as failed:
    /// a replica opens its directory and a controller reaches its replicas well within it.
    public static let processStartTimeoutSeconds = 60
    /// How long a V1 process without ports must stay up to count as running (nothing to probe).
    public static let processSettleMilliseconds = 500
    /// How often a starting process's first port is probed.
    public static let processProbeIntervalMilliseconds = 100
    /// How long a stopped process has between its terminate signal and SIGKILL: `hornbill replica`
    /// and `controller` flush and close in well under a second, so one still alive after this is stuck.
    public static let processStopGraceSeconds = 30
    /// Captured output lines kept per process (older lines fall off; the log file keeps them).
    public static let processLogLines = 1000
    /// Longest captured line; a longer one is kept in pieces, so a child writing without newlines
    /// cannot grow a line without bound.
    public static let processLogLineBytes = 4096
    /// Size at which a process's log file is rotated to `<name>.log.1` (one old file is kept).
    public static let processLogFileBytes = 16 << 20
    /// Longest process name: a Kubernetes object name, and a file name of the log directory.
    public static let maxProcessNameBytes = 253
    /// Most arguments of one process (Longhorn's engine and replica take a few dozen).
    public static let maxProcessArguments = 512
    /// Most bytes of all arguments together, well under the kernel's ARG_MAX.
    public static let maxProcessArgumentBytes = 256 << 10
}
