// The NBD server of the V2 data plane: named exports of block devices, each reachable on a TCP
// listener that exports share. Connections it accepts are `NBDConnection`s on its reactor.

public import BlockCore
public import BlockDevices
import Foundation
import Synchronization

/// Where an export listens.
public struct NBDAddress: Sendable, Hashable {
    public var host: String
    public var port: UInt16
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }
}

/// One export: a device under a name, on an address.
public final class NBDExport: Sendable {
    public let name: String
    public let device: any BlockDevice
    public let address: NBDAddress
    public let readOnly: Bool
    let descriptor: BlockDescriptor
    let connectionCount = Atomic<Int>(0)

    init(name: String, device: any BlockDevice, address: NBDAddress, readOnly: Bool, server: NBDServer) throws {
        let writable = !readOnly && device.supportedIOTypes.contains(.write)
        // The removal handler follows once the export is listed (`listenForRemoval`).
        descriptor = try BlockDescriptor(device, writable: writable, removal: .handlerFollows)
        if writable {
            do { try descriptor.claim(module: "nbd") } catch {
                descriptor.close()
                throw error
            }
        }
        self.name = name
        self.device = device
        self.address = address
        self.readOnly = !writable
    }

    /// Hot remove (SPDK's nbd_bdev_hot_remove): the device going away deletes the export. Set once
    /// the export is listed, so that a removal racing its creation finds it.
    func listenForRemoval(_ server: NBDServer) {
        descriptor.onRemove { [weak self, weak server] in
            guard let self, let server else { return }
            await server.remove { $0 === self }
        }
    }

    /// Connections using the export now.
    public var connections: Int { connectionCount.load(ordering: .relaxed) }
}

public final class NBDServer: Sendable {
    public let reactor: Reactor

    struct Listener {
        var acceptor: TCPAcceptor
        var users: Int
    }

    struct State {
        var exports: [NBDExport] = []
        var listeners: [NBDAddress: Listener] = [:]
        var connections: [ObjectIdentifier: NBDConnection] = [:]
    }

    let state = Mutex(State())

    public init(reactor: Reactor) { self.reactor = reactor }

    public var exports: [NBDExport] { state.withLock { $0.exports } }

    /// Exports on one listener, in creation order.
    func exports(on address: NBDAddress) -> [NBDExport] { state.withLock { $0.exports.filter { $0.address == address } } }

    /// Exports `device` as `name` on `address`, listening there if no export does yet.
    @discardableResult
    public func createExport(name: String, device: any BlockDevice, address: NBDAddress, readOnly: Bool) throws -> NBDExport {
        guard !name.isEmpty, name.utf8.count <= NBDLimits.maxExportNameBytes else {
            throw BlockError(.invalidArgument, "export name must be 1 to \(NBDLimits.maxExportNameBytes) bytes")
        }
        let export = try state.withLock { state in
            guard !state.exports.contains(where: { $0.name == name }) else {
                throw BlockError(.alreadyExists, "an export named \(name) already exists")
            }
            let export = try NBDExport(name: name, device: device, address: address, readOnly: readOnly, server: self)
            if var listener = state.listeners[address] {
                listener.users += 1
                state.listeners[address] = listener
            } else {
                do {
                    let acceptor = try TCPAcceptor(host: address.host, port: address.port) { [weak self] fd in
                        self?.accepted(fd, on: address)
                    }
                    state.listeners[address] = Listener(acceptor: acceptor, users: 1)
                } catch {
                    export.descriptor.close()
                    throw error
                }
            }
            state.exports.append(export)
            return export
        }
        export.listenForRemoval(self)
        return export
    }

    /// Removes an export: its connections are closed, its device released.
    public func deleteExport(name: String) async throws {
        guard await remove(where: { $0.name == name }) else { throw BlockError(.notFound, "no export named \(name)") }
    }

    /// Removes the export `matching` picks, if there is one: its connections stop taking requests,
    /// answer every request in flight (NBD_EIO for those that fail or had not reached the device,
    /// as SPDK's nbd does on a hot remove) and close; then its device is released. Returns whether
    /// there was one.
    @discardableResult
    func remove(where matching: (NBDExport) -> Bool) async -> Bool {
        guard let export = state.withLock({ $0.exports.first(where: matching) }) else { return false }
        // Its connections stop taking requests before the export leaves the list, so a request
        // read once it is unlisted is refused.
        await stopTakingRequests(for: export)
        let removed = state.withLock { state in
            guard let index = state.exports.firstIndex(where: { $0 === export }) else { return false }
            state.exports.remove(at: index)
            if var listener = state.listeners[export.address] {
                listener.users -= 1
                if listener.users == 0 {
                    listener.acceptor.stop()
                    state.listeners[export.address] = nil
                } else {
                    state.listeners[export.address] = listener
                }
            }
            return true
        }
        guard removed else { return false }  // another removal took it
        // Every connection on it now, including one that reached it while it was still listed.
        let connections = state.withLock { Array($0.connections.values) }
        await reactor.run {
            await withTaskGroup(of: Void.self) { group in
                for connection in connections where connection.export === export {
                    group.addTask(executorPreference: self.reactor) { await connection.exportRemoved() }
                }
            }
        }
        export.descriptor.close()
        return true
    }

    private func stopTakingRequests(for export: NBDExport) async {
        let connections = state.withLock { Array($0.connections.values) }
        await reactor.run {
            for connection in connections where connection.export === export { connection.stopTakingRequests() }
        }
    }

    /// The port a listener is bound to (the kernel's choice when 0 was asked for).
    public func boundPort(_ address: NBDAddress) -> UInt16? { state.withLock { $0.listeners[address]?.acceptor.port } }

    private func accepted(_ fd: Int32, on address: NBDAddress) {
        let connection = NBDConnection(server: self, socket: ReactorSocket(fd: fd, reactor: reactor), address: address)
        let admitted = state.withLock { state in
            guard state.connections.count < NBDLimits.maxConnections else { return false }
            state.connections[ObjectIdentifier(connection)] = connection
            return true
        }
        guard admitted else { return connection.close() }
        Task(executorPreference: reactor) {
            await connection.run()
            _ = self.state.withLock { $0.connections.removeValue(forKey: ObjectIdentifier(connection)) }
        }
    }

    /// Stops listening and closes every connection (exports stay defined).
    public func stop() async {
        let (acceptors, connections) = state.withLock { state in
            let acceptors = state.listeners.values.map(\.acceptor)
            state.listeners.removeAll()
            return (acceptors, Array(state.connections.values))
        }
        for acceptor in acceptors { acceptor.stop() }
        await reactor.run { for connection in connections { connection.close() } }
        for export in exports { export.descriptor.close() }
    }
}
