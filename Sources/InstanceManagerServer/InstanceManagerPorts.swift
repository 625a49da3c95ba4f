/// Where each instance manager service listens: consecutive ports from the listen port.
public enum InstanceManagerPorts {
    /// The listen port when none is given.
    public static let defaultListenPort = 8500
    /// ProcessManagerService (V1 processes).
    public static let processManagerOffset = 0
    /// imrpc.ProxyEngineService.
    public static let proxyOffset = 1
    /// imrpc.DiskService.
    public static let diskOffset = 2
    /// imrpc.InstanceService.
    public static let instanceOffset = 3
    /// spdkrpc.SPDKService, served only when the SPDK data engine is enabled.
    public static let spdkOffset = 4
}
