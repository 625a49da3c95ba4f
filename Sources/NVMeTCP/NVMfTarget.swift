// The NVMe-oF target: the transport, the subsystems (the discovery subsystem first), and the TCP
// listeners that subsystems share. Connections it accepts become `TargetQueuePair`s on its reactor.

import BlockCore
public import BlockDevices
import Foundation
import Glibc
public import NVMeWire
public import Synchronization

public final class NVMfTarget: @unchecked Sendable {
    public let reactor: Reactor
    public let firmwareRevision: String

    struct Listener {
        var acceptor: TCPAcceptor
        var users: Int
    }

    struct State {
        var transport: TransportOptions?
        var subsystems: [NVMfSubsystem]
        var listeners: [ListenAddress: Listener] = [:]
        var discoveryGeneration: UInt64 = 0
        var queuePairs: [ObjectIdentifier: TargetQueuePair] = [:]
    }

    let state: Mutex<State>
    public let discovery: NVMfSubsystem
    /// Where the target reports what happened to hosts (teardowns, protocol errors).
    public let events = Mutex<(@Sendable (String) -> Void)?>(nil)

    func report(_ message: String) {
        let sink = events.withLock { $0 }
        sink?(message)
    }

    /// Counters for nvmf_get_stats.
    public let adminQueuePairsCreated = Atomic<Int>(0)
    public let ioQueuePairsCreated = Atomic<Int>(0)
    public let currentAdminQueuePairs = Atomic<Int>(0)
    public let currentIOQueuePairs = Atomic<Int>(0)
    public let completedCommands = Atomic<Int>(0)

    public init(reactor: Reactor, firmwareRevision: String = "24.09") {
        self.reactor = reactor
        self.firmwareRevision = firmwareRevision
        var options = NVMfSubsystem.Options()
        options.allowAnyHost = true
        options.maxNamespaces = 0
        discovery = NVMfSubsystem(nqn: NVMfSubsystem.discoveryNQN, options: options, reactor: reactor)
        state = Mutex(State(subsystems: [discovery]))
    }

    // MARK: - Transport

    public var transport: TransportOptions? { state.withLock { $0.transport } }

    public func createTransport(_ options: TransportOptions) throws {
        try state.withLock { state in
            guard state.transport == nil else { throw BlockError(.alreadyExists, "Transport type 'TCP' already exists") }
            state.transport = options
        }
    }

    // MARK: - Subsystems

    public var subsystems: [NVMfSubsystem] { state.withLock { $0.subsystems } }

    public func subsystem(_ nqn: String) -> NVMfSubsystem? { state.withLock { $0.subsystems.first { $0.nqn == nqn } } }

    public func createSubsystem(nqn: String, options: NVMfSubsystem.Options) throws -> NVMfSubsystem {
        try Self.validate(nqn: nqn)
        return try state.withLock { state in
            guard !state.subsystems.contains(where: { $0.nqn == nqn }) else {
                throw BlockError(.alreadyExists, "Unable to create subsystem \(nqn)")
            }
            guard state.subsystems.count <= NVMeTCPLimits.maxSubsystems else {
                throw BlockError(.noSpace, "the target holds \(NVMeTCPLimits.maxSubsystems) subsystems already")
            }
            let subsystem = NVMfSubsystem(nqn: nqn, options: options, reactor: reactor)
            state.subsystems.append(subsystem)
            return subsystem
        }
    }

    static func validate(nqn: String) throws {
        let bytes = nqn.utf8.count
        guard bytes >= 11, bytes <= NVMeWireLimits.maxNQNBytes, nqn.hasPrefix("nqn.") else {
            throw BlockError(.invalidArgument, "invalid NQN \"\(nqn)\": must start with nqn. and be 11 to 223 bytes")
        }
    }

    /// Deletes a subsystem: its controllers are disconnected, its namespaces released.
    public func deleteSubsystem(_ nqn: String) async throws {
        let subsystem: NVMfSubsystem = try state.withLock { state in
            guard let index = state.subsystems.firstIndex(where: { $0.nqn == nqn }), !state.subsystems[index].isDiscovery else {
                throw BlockError(.notFound, "no subsystem \(nqn)")
            }
            return state.subsystems.remove(at: index)
        }
        for listener in subsystem.listeners { try? removeListener(subsystem, listener.address) }
        let controllers = subsystem.controllers
        await reactor.run { for controller in controllers { controller.tearDown(reason: "subsystem deleted") } }
        for namespace in subsystem.namespaces { try? await subsystem.removeNamespace(namespace.namespaceID) }
        discoveryChanged()
    }

    // MARK: - Listeners

    /// Adds a listener to a subsystem, starting to listen on the address if no subsystem does yet.
    public func addListener(_ subsystem: NVMfSubsystem, _ address: ListenAddress, anaState: LogPages.ANAState = .optimized) throws {
        guard let port = UInt16(address.serviceID) else {
            throw BlockError(.invalidArgument, "trsvcid \(address.serviceID) is not a port number")
        }
        try state.withLock { state in
            guard state.transport != nil else { throw BlockError(.notFound, "no TCP transport: call nvmf_create_transport first") }
            guard !subsystem.hasListener(address) else {
                throw BlockError(.alreadyExists, "\(subsystem.nqn) already listens on \(address.address):\(address.serviceID)")
            }
            if var listener = state.listeners[address] {
                listener.users += 1
                state.listeners[address] = listener
            } else {
                guard state.listeners.count < NVMeTCPLimits.maxListeners else {
                    throw BlockError(.noSpace, "the target has \(NVMeTCPLimits.maxListeners) listeners already")
                }
                let acceptor = try TCPAcceptor(host: address.address, port: port) { [weak self] fd in
                    self?.accepted(fd, on: address)
                }
                state.listeners[address] = Listener(acceptor: acceptor, users: 1)
            }
            subsystem.state.withLock { $0.listeners.append((address, anaState)) }
            state.discoveryGeneration += 1
        }
        discoveryChanged()
    }

    public func removeListener(_ subsystem: NVMfSubsystem, _ address: ListenAddress) throws {
        try state.withLock { state in
            let removed = subsystem.state.withLock { sub in
                guard let index = sub.listeners.firstIndex(where: { $0.address == address }) else { return false }
                sub.listeners.remove(at: index)
                return true
            }
            guard removed else {
                throw BlockError(.notFound, "\(subsystem.nqn) does not listen on \(address.address):\(address.serviceID)")
            }
            if var listener = state.listeners[address] {
                listener.users -= 1
                if listener.users == 0 {
                    listener.acceptor.stop()
                    state.listeners[address] = nil
                } else {
                    state.listeners[address] = listener
                }
            }
            state.discoveryGeneration += 1
        }
        discoveryChanged()
    }

    /// The port actually bound for an address (its trsvcid, or the kernel's choice for port 0).
    public func boundPort(_ address: ListenAddress) -> UInt16? {
        state.withLock { $0.listeners[address]?.acceptor.port }
    }

    var discoveryGeneration: UInt64 { state.withLock { $0.discoveryGeneration } }

    /// The discovery log entries a host may see: every listener of every subsystem it is allowed.
    func discoveryEntries(for hostNQN: String) -> [DiscoveryLogEntry] {
        var entries: [DiscoveryLogEntry] = []
        let queueSize = UInt16(transport?.maxAdminQueueDepth ?? NVMeWireLimits.maxQueueDepth)
        for subsystem in subsystems where !subsystem.isDiscovery && subsystem.allows(host: hostNQN) {
            for listener in subsystem.listeners {
                entries.append(
                    DiscoveryLogEntry(
                        subtype: DiscoveryLogEntry.subtypeNVMe, portID: UInt16(entries.count), adminQueueSize: queueSize,
                        serviceID: listener.address.serviceID, subsystemNQN: subsystem.nqn, address: listener.address.address,
                        isIPv6: listener.address.isIPv6))
            }
        }
        return entries
    }

    private func discoveryChanged() {
        let controllers = discovery.controllers
        guard !controllers.isEmpty else { return }
        Task(executorPreference: reactor) { for controller in controllers { controller.discoveryLogChanged() } }
    }

    // MARK: - Connections

    private func accepted(_ fd: Int32, on address: ListenAddress) {
        let socket = ReactorSocket(fd: fd, reactor: reactor)
        let queuePair = TargetQueuePair(target: self, socket: socket, listenAddress: address, peer: Self.peerAddress(fd))
        let admitted = state.withLock { state in
            guard state.queuePairs.count < NVMeTCPLimits.maxConnections else { return false }
            state.queuePairs[ObjectIdentifier(queuePair)] = queuePair
            return true
        }
        guard admitted else {
            socket.shutdown()
            return
        }
        Task(executorPreference: reactor) {
            await queuePair.run()
            _ = self.state.withLock { $0.queuePairs.removeValue(forKey: ObjectIdentifier(queuePair)) }
        }
    }

    var queuePairs: [TargetQueuePair] { state.withLock { Array($0.queuePairs.values) } }

    static func peerAddress(_ fd: Int32) -> ListenAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let family = Int32(storage.ss_family)
        let port: UInt16 = withUnsafeBytes(of: storage) { UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self)) }
        withUnsafeBytes(of: storage) { raw in
            let offset = family == AF_INET6 ? 8 : 4
            _ = inet_ntop(family, raw.baseAddress! + offset, &text, socklen_t(text.count))
        }
        let end = text.firstIndex(of: 0) ?? text.count
        let host = String(decoding: text[0..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return ListenAddress(address: host, serviceID: String(port), isIPv6: family == AF_INET6)
    }

    /// Stops listening and disconnects every host.
    public func stop() async {
        let (acceptors, pairs) = state.withLock { state in
            let acceptors = state.listeners.values.map(\.acceptor)
            state.listeners.removeAll()
            return (acceptors, Array(state.queuePairs.values))
        }
        for acceptor in acceptors { acceptor.stop() }
        await reactor.run { for pair in pairs { pair.close() } }
    }
}
