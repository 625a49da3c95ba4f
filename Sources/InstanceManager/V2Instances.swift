// The V2 half of the instance manager: disks (aio bdevs with an lvstore), replicas (a head lvol
// exposed over NVMe/TCP) and engines (a RAID1 over the replicas, remote ones over NVMe/TCP, local
// ones by their lvol, with a frontend), all driven
// over JSON-RPC to the node's `hornbill tgt`, which holds the data plane. The actor keeps what
// it created in memory and rebuilds it from the tgt (rediscovery, the reconcile loop in
// V2Instances+Reconcile.swift). Operations that change the tgt run one at a time (`lock()`);
// reads answer from memory.

import JSONRPC

public struct V2InstancesConfiguration: Sendable {
    /// The tgt's JSON-RPC socket.
    public var tgtSocketPath: String
    /// The address replicas and engine targets listen on (the instance manager's storage IP).
    public var ip: String
    /// Ports for replicas and engine targets (`--spdk-port-range`).
    public var portRange: ClosedRange<Int>
    /// The bound of one JSON-RPC call.
    public var rpcTimeout: Duration
    /// How often the reconcile loop runs.
    public var reconcileInterval: Duration
    /// Whether the host kernel has an NVMe/TCP initiator (the `spdk-tcp-blockdev` frontend needs it).
    public var kernelHasNVMeTCPInitiator: @Sendable () -> Bool
    /// An engine's NVMe/TCP controllers to its replicas (`bdev_nvme_attach_controller`), Longhorn's
    /// values by default: I/O to a lost replica fails after `fastIOFailTimeout`, the host
    /// reconnects every `reconnectDelay` and gives the controller up after `controllerLossTimeout`.
    public var replicaControllerTimeouts: ControllerTimeouts
    /// The host's NVMe/TCP initiator and where it makes volume device nodes (`spdk-tcp-blockdev`).
    public var initiator: KernelNVMeInitiator

    public init(
        tgtSocketPath: String, ip: String, portRange: ClosedRange<Int> = InstanceManagerLimits.defaultSPDKPorts,
        rpcTimeout: Duration = InstanceManagerLimits.tgtCallTimeout,
        reconcileInterval: Duration = InstanceManagerLimits.reconcileInterval,
        kernelHasNVMeTCPInitiator: @escaping @Sendable () -> Bool = KernelNVMeTCP.isAvailable,
        replicaControllerTimeouts: ControllerTimeouts = ControllerTimeouts(),
        initiator: KernelNVMeInitiator = KernelNVMeInitiator()
    ) {
        self.initiator = initiator
        self.replicaControllerTimeouts = replicaControllerTimeouts
        self.tgtSocketPath = tgtSocketPath
        self.ip = ip
        self.portRange = portRange
        self.rpcTimeout = rpcTimeout
        self.reconcileInterval = reconcileInterval
        self.kernelHasNVMeTCPInitiator = kernelHasNVMeTCPInitiator
    }
}

/// Seconds, as `bdev_nvme_attach_controller` takes them.
public struct ControllerTimeouts: Sendable, Equatable {
    public var controllerLossTimeout: Int
    public var reconnectDelay: Int
    public var fastIOFailTimeout: Int

    public init(controllerLossTimeout: Int = 15, reconnectDelay: Int = 2, fastIOFailTimeout: Int = 10) {
        self.controllerLossTimeout = controllerLossTimeout
        self.reconnectDelay = reconnectDelay
        self.fastIOFailTimeout = fastIOFailTimeout
    }
}

public actor V2Instances {
    /// Notified on every change of a disk, replica or engine (the service layer's watches).
    public nonisolated let changes: ChangeBroadcaster
    public nonisolated let configuration: V2InstancesConfiguration
    let tgt: SPDKClient
    var ports: PortAllocator
    var disks: [String: DiskInfo] = [:]
    var replicas: [String: ReplicaInfo] = [:]
    var engines: [String: EngineRecord] = [:] {
        didSet { enginesEpoch &+= 1 }
    }
    /// Counts the changes of `engines`: a refresh from a tgt listing taken before a change (an
    /// engine created, grown or shrunk meanwhile) is not applied (refreshEngineModes).
    var enginesEpoch: UInt64 = 0
    var diskTasks: [String: Task<Void, Never>] = [:]
    private var reconcileTask: Task<Void, Never>?
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// An engine and what the instance manager made for it in the tgt.
    struct EngineRecord {
        var info: EngineInfo
        /// Replica name → the bdev that is its RAID leg.
        var bases: [String: String] = [:]
        /// Replicas attached as NVMe/TCP controllers (named after the replica).
        var controllers: Set<String> = []
        /// Replicas of this node whose head lvol is a RAID base (unexposed while held).
        var localReplicas: Set<String> = []
        var frontendPort: PortRange?
    }

    public init(configuration: V2InstancesConfiguration, changes: ChangeBroadcaster = ChangeBroadcaster()) {
        self.configuration = configuration
        self.changes = changes
        tgt = SPDKClient(socketPath: configuration.tgtSocketPath, timeout: configuration.rpcTimeout)
        ports = PortAllocator(range: configuration.portRange)
    }

    /// Rediscovers what the tgt holds, then reconciles every `reconcileInterval` until `stop()`.
    public func start() async {
        await reconcile()
        guard reconcileTask == nil else { return }
        let interval = configuration.reconcileInterval
        reconcileTask = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                await self.reconcile()
            }
        }
    }

    /// Stops the reconcile loop and background disk work (the tgt keeps its objects).
    public func stop() async {
        reconcileTask?.cancel()
        reconcileTask = nil
        for task in diskTasks.values { task.cancel() }
        for task in diskTasks.values { await task.value }
        diskTasks.removeAll()
        await tgt.rpc.close()
    }

    /// A run of ports from the V2 range that no other program holds on this node's address family.
    func allocatePorts(count: Int) throws(PortAllocationError) -> PortRange {
        let ip = configuration.ip
        return try ports.allocate(count: count) { PortProbe.isFree(port: $0, ip: ip) }
    }

    /// Waits until no other changing operation runs.
    func lock() async {
        guard locked else {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func unlock() {
        if waiters.isEmpty {
            locked = false
        } else {
            waiters.removeFirst().resume()
        }
    }

    /// Validates a size a client chose: positive, a multiple of 512.
    static func checkSize(_ size: UInt64, of what: String) throws(InstanceManagerError) {
        guard size > 0, size % 512 == 0, size <= UInt64(Int64.max) else {
            throw .invalidArgument("invalid size \(size) for \(what): must be a positive multiple of 512")
        }
    }
}

/// Whether the running kernel can be an NVMe/TCP host.
public enum KernelNVMeTCP {
    @Sendable public static func isAvailable() -> Bool {
        if directoryExists("/sys/module/nvme_tcp") { return true }
        // Not loaded: loadable if modprobe finds it (-n: resolve only).
        return run("/sbin/modprobe", ["-n", "nvme-tcp"]) == 0 || run("/usr/sbin/modprobe", ["-n", "nvme-tcp"]) == 0
    }
}
