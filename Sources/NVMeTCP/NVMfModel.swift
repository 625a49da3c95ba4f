// The NVMe-oF target's configuration (spdk.md §2.7): the TCP transport's options, subsystems with
// their namespaces, hosts and listeners. Control-plane state under locks; the data path reads a
// queue pair's own cached copy and notices changes through a generation counter.

public import BlockCore
import BlockDevices
public import Foundation
public import NVMeWire
import Synchronization

/// The TCP transport's options (nvmf_create_transport), with SPDK's defaults.
public struct TransportOptions: Sendable, Equatable {
    public var maxQueueDepth = 128
    public var maxIOQueuePairsPerController = 127
    public var inCapsuleDataSize = 4096
    public var maxIOSize = 131_072
    public var ioUnitSize = 131_072
    public var maxAdminQueueDepth = 128
    public var numSharedBuffers = 511
    public var bufferCacheSize: UInt64 = UInt64(UInt32.max)
    public var c2hSuccess = true
    public var difInsertOrStrip = false
    public var socketPriority = 0
    public var abortTimeoutSeconds = 1
    public var acknowledgementTimeout = 0
    public var dataWorkRequestPoolSize = 0
    public var zeroCopy = false

    public init() {}
}

/// A listener address (`listen_address`).
public struct ListenAddress: Sendable, Hashable {
    public var address: String
    public var serviceID: String
    public var isIPv6: Bool

    public init(address: String, serviceID: String, isIPv6: Bool = false) {
        self.address = address
        self.serviceID = serviceID
        self.isIPv6 = isIPv6
    }
}

/// A namespace of a subsystem: a block device exported under an NSID.
///
/// Removal quiesces it first (SPDK pauses the subsystem around a namespace removal): from then on
/// new commands for it are refused with Invalid Namespace, as they would be once it is gone, and
/// the removal waits until the commands executing on it have completed and been answered; only
/// then does the namespace leave the subsystem and release its device. Counting costs a command
/// two integer updates on the target's reactor, where all queue pairs run.
public final class NVMfNamespace: @unchecked Sendable {
    public let namespaceID: UInt32
    public let device: any BlockDevice
    public let uuid: UUID
    public let nguid: [UInt8]
    public let anaGroupID: UInt32
    let descriptor: BlockDescriptor

    // On the target's reactor only.
    /// Commands executing on the namespace.
    private var commandsInFlight = 0
    /// Set when the namespace is being removed: new commands are refused.
    private var quiesced = false
    private var idleWaiters: [UnsafeContinuation<Void, Never>] = []

    init(namespaceID: UInt32, device: any BlockDevice, uuid: UUID, nguid: [UInt8], anaGroupID: UInt32) throws {
        // The removal handler follows once the namespace is listed in its subsystem.
        descriptor = try BlockDescriptor(device, writable: device.supportedIOTypes.contains(.write), removal: .handlerFollows)
        if descriptor.writable { try descriptor.claim(module: "nvmf") }
        self.namespaceID = namespaceID
        self.device = device
        self.uuid = uuid
        self.nguid = nguid
        self.anaGroupID = anaGroupID
    }

    var identity: NamespaceIdentity {
        var identity = NamespaceIdentity(
            blockCount: device.blockCount, blockSize: device.blockSize, uuid: withUnsafeBytes(of: uuid.uuid) { Array($0) },
            anaGroupID: anaGroupID)
        identity.nguid = nguid
        return identity
    }

    func close() { descriptor.close() }

    /// A command begins on the namespace; false once it is being removed. On the reactor.
    func commandStarted() -> Bool {
        guard !quiesced else { return false }
        commandsInFlight += 1
        return true
    }

    /// A command begun with `commandStarted` was answered. On the reactor.
    func commandEnded() {
        commandsInFlight -= 1
        if commandsInFlight == 0, !idleWaiters.isEmpty {
            let waiters = idleWaiters
            idleWaiters.removeAll()
            for waiter in waiters { waiter.resume() }
        }
    }

    /// Refuses new commands and returns once those executing have been answered. On the reactor.
    func quiesce() async {
        quiesced = true
        guard commandsInFlight > 0 else { return }
        await withUnsafeContinuation { idleWaiters.append($0) }
    }
}

/// One NVM subsystem (or the discovery subsystem).
public final class NVMfSubsystem: @unchecked Sendable {
    public static let discoveryNQN = "nqn.2014-08.org.nvmexpress.discovery"

    public struct Options: Sendable {
        public var serialNumber = "00000000000000000000"
        public var modelNumber = "SPDK bdev Controller"
        public var maxNamespaces: UInt32 = 32
        public var allowAnyHost = false
        public var anaReporting = false
        public var minControllerID: UInt16 = 1
        public var maxControllerID: UInt16 = 0xFFEF
        public init() {}
    }

    public let nqn: String
    public let options: Options
    public var isDiscovery: Bool { nqn == Self.discoveryNQN }

    struct State {
        var allowAnyHost: Bool
        var hosts: [String] = []
        var namespaces: [UInt32: NVMfNamespace] = [:]
        var listeners: [(address: ListenAddress, anaState: LogPages.ANAState)] = []
        var controllers: [UInt16: NVMfController] = [:]
        var nextControllerID: UInt16
    }

    let state: Mutex<State>
    /// Bumped whenever the namespaces change; queue pairs re-read them when it moves.
    let namespaceGeneration = Atomic<UInt64>(0)
    /// The target's reactor, where the queue pairs run commands.
    let reactor: Reactor

    init(nqn: String, options: Options, reactor: Reactor) {
        self.nqn = nqn
        self.options = options
        self.reactor = reactor
        state = Mutex(State(allowAnyHost: options.allowAnyHost, nextControllerID: options.minControllerID))
    }

    public var allowAnyHost: Bool { state.withLock { $0.allowAnyHost } }
    public var hosts: [String] { state.withLock { $0.hosts } }
    public var namespaces: [NVMfNamespace] { state.withLock { $0.namespaces.values.sorted { $0.namespaceID < $1.namespaceID } } }
    public var listeners: [(address: ListenAddress, anaState: LogPages.ANAState)] { state.withLock { $0.listeners } }
    var controllers: [NVMfController] { state.withLock { $0.controllers.values.sorted { $0.controllerID < $1.controllerID } } }

    func namespace(_ id: UInt32) -> NVMfNamespace? { state.withLock { $0.namespaces[id] } }

    /// Whether `hostNQN` may connect.
    func allows(host hostNQN: String) -> Bool {
        state.withLock { $0.allowAnyHost || $0.hosts.contains(hostNQN) }
    }

    func hasListener(_ address: ListenAddress) -> Bool {
        state.withLock { $0.listeners.contains { $0.address == address } }
    }

    /// Adds a controller with the next free ID in the subsystem's range.
    func addController(_ make: (UInt16) -> NVMfController) -> NVMfController? {
        state.withLock { state in
            let range = options.minControllerID...options.maxControllerID
            var candidate = state.nextControllerID
            for _ in 0..<range.count {
                if !range.contains(candidate) { candidate = options.minControllerID }
                if state.controllers[candidate] == nil {
                    let controller = make(candidate)
                    state.controllers[candidate] = controller
                    state.nextControllerID = candidate == options.maxControllerID ? options.minControllerID : candidate + 1
                    return controller
                }
                candidate = candidate == options.maxControllerID ? options.minControllerID : candidate + 1
            }
            return nil
        }
    }

    func controller(_ id: UInt16) -> NVMfController? { state.withLock { $0.controllers[id] } }

    func removeController(_ controller: NVMfController) {
        state.withLock { state in
            if state.controllers[controller.controllerID] === controller { state.controllers[controller.controllerID] = nil }
        }
    }

    // MARK: - Configuration (RPCs)

    public func addNamespace(
        device: any BlockDevice, namespaceID requested: UInt32?, uuid: UUID?, nguid: [UInt8]?, anaGroupID: UInt32?
    ) throws -> UInt32 {
        let id: UInt32 = try state.withLock { state in
            if let requested {
                guard requested >= 1, requested <= options.maxNamespaces else {
                    throw BlockError(.invalidArgument, "NSID \(requested) outside 1...\(options.maxNamespaces)")
                }
                guard state.namespaces[requested] == nil else {
                    throw BlockError(.alreadyExists, "NSID \(requested) is in use in \(nqn)")
                }
                return requested
            }
            guard let free = (1...options.maxNamespaces).first(where: { state.namespaces[$0] == nil }) else {
                throw BlockError(.noSpace, "\(nqn) has all \(options.maxNamespaces) namespaces in use")
            }
            return free
        }
        let namespaceUUID = uuid ?? device.uuid
        let namespace = try NVMfNamespace(
            namespaceID: id, device: device, uuid: namespaceUUID,
            nguid: nguid ?? withUnsafeBytes(of: namespaceUUID.uuid) { Array($0) }, anaGroupID: anaGroupID ?? id)
        let controllers: [NVMfController] = try state.withLock { state in
            guard state.namespaces[id] == nil else {
                namespace.close()
                throw BlockError(.alreadyExists, "NSID \(id) is in use in \(nqn)")
            }
            state.namespaces[id] = namespace
            return Array(state.controllers.values)
        }
        namespaceGeneration.add(1, ordering: .releasing)
        for controller in controllers { controller.namespacesChanged([id]) }
        // Hot remove (SPDK's nvmf_ns_hot_remove): the device going away removes the namespace,
        // and hosts get the namespace-changed event as for nvmf_subsystem_remove_ns. Set once the
        // namespace is listed: a removal that began meanwhile has waited for it and runs it now.
        namespace.descriptor.onRemove { [weak self, weak namespace] in
            guard let self, let namespace else { return }
            try? await self.removeNamespace(id, ifItIs: namespace)
        }
        return id
    }

    /// Removes namespace `id` once the commands executing on it are answered (see
    /// `NVMfNamespace`), and tells the hosts.
    public func removeNamespace(_ id: UInt32) async throws {
        try await removeNamespace(id, ifItIs: nil)
    }

    /// Removes namespace `id`, only if it is still `expected` when one is given.
    func removeNamespace(_ id: UInt32, ifItIs expected: NVMfNamespace?) async throws {
        let found = state.withLock { state in
            state.namespaces[id].flatMap { expected == nil || $0 === expected ? $0 : nil }
        }
        guard let found else { throw BlockError(.notFound, "\(nqn) has no namespace \(id)") }
        await reactor.run { await found.quiesce() }
        let (namespace, controllers): (NVMfNamespace, [NVMfController]) = try state.withLock { state in
            guard let namespace = state.namespaces[id], namespace === found else {
                throw BlockError(.notFound, "\(nqn) has no namespace \(id)")
            }
            state.namespaces[id] = nil
            return (namespace, Array(state.controllers.values))
        }
        namespaceGeneration.add(1, ordering: .releasing)
        namespace.close()
        for controller in controllers { controller.namespacesChanged([id]) }
    }

    public func addHost(_ host: String) throws {
        try state.withLock { state in
            guard !state.hosts.contains(host) else { throw BlockError(.alreadyExists, "host \(host) is already allowed") }
            state.hosts.append(host)
        }
    }

    public func removeHost(_ host: String) throws {
        try state.withLock { state in
            guard let index = state.hosts.firstIndex(of: host) else { throw BlockError(.notFound, "host \(host) is not listed") }
            state.hosts.remove(at: index)
        }
    }

    public func setAllowAnyHost(_ allow: Bool) { state.withLock { $0.allowAnyHost = allow } }

    public func setANAState(_ anaState: LogPages.ANAState, for address: ListenAddress) throws {
        let controllers: [NVMfController] = try state.withLock { state in
            guard let index = state.listeners.firstIndex(where: { $0.address == address }) else {
                throw BlockError(.notFound, "\(nqn) has no listener \(address.address):\(address.serviceID)")
            }
            state.listeners[index].anaState = anaState
            return Array(state.controllers.values)
        }
        for controller in controllers { controller.anaChanged() }
    }

    func anaState(for address: ListenAddress) -> LogPages.ANAState {
        state.withLock { $0.listeners.first { $0.address == address }?.anaState ?? .optimized }
    }
}
