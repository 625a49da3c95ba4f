// A V1 replica process's server: the replica directory's head file (an aio device on the
// reactor) served over the replica protocol. Requests are executed by per-slot workers and
// answered in completion order; the revision counter follows every write and is made durable
// with the data by flush. A bad magic or an oversized payload ends the connection; bad requests
// get an errno status and the connection goes on.
//
// Backpressure: a connection reads its next request only while its queued responses are under
// the writer's high-water mark, a free slot exists and the payload in flight leaves room
// (ReplicaLimits), so a peer that stops reading responses stops being read and what the
// connection holds stays bounded.

import BlockCore
public import BlockDevices
import Foundation
import Glibc

public final class ReplicaServer: @unchecked Sendable {
    public let directory: ReplicaDirectory
    public let reactor: Reactor
    let device: AIODevice
    private var acceptor: TCPAcceptor?
    /// The highest revision a write carried (the replica's revision counter). Reactor-confined.
    private(set) var revision: Int64
    private var connections: [ObjectIdentifier: ReplicaConnection] = [:]

    /// Opens the replica's head file; call `listen` to serve it.
    public init(directory: ReplicaDirectory, reactor: Reactor) throws {
        self.directory = directory
        self.reactor = reactor
        device = try AIODevice(
            name: "replica", path: directory.headPath, blockSize: Int(directory.meta.sectorSize))
        revision = directory.loadRevision()
    }

    /// Listens on host:port (port 0: the kernel's choice); returns the port.
    @discardableResult
    public func listen(host: String, port: UInt16) throws -> UInt16 {
        let acceptor = try TCPAcceptor(host: host, port: port) { [weak self] fd in self?.accepted(fd) }
        self.acceptor = acceptor
        return acceptor.port
    }

    private func accepted(_ fd: Int32) {
        let connection = ReplicaConnection(server: self, socket: ReactorSocket(fd: fd, reactor: reactor))
        Task(executorPreference: reactor) {
            self.connections[ObjectIdentifier(connection)] = connection
            await connection.run()
            self.connections[ObjectIdentifier(connection)] = nil
        }
    }

    /// Before the first write: the replica is dirty until a clean stop.
    func willWrite() throws {
        if directory.meta.dirty == false { try directory.setDirty(true) }
    }

    /// After a write landed: notes its revision (the counter only moves forward).
    func wrote(revision new: UInt64) throws {
        let value = Int64(clamping: new)
        guard value > revision else { return }
        revision = value
        try directory.storeRevision(value, durable: false)
    }

    /// The info reply: size, sector size, revision and flags.
    func info() -> [UInt8] {
        let object: [String: Any] = [
            "size": directory.meta.size, "sectorSize": directory.meta.sectorSize, "revision": revision,
            "dirty": directory.meta.dirty, "error": directory.meta.error, "head": directory.meta.head,
        ]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    /// Stops listening, closes connections, and marks the replica clean.
    public func stop() async {
        acceptor?.stop()
        await reactor.run {
            for connection in connections.values { connection.close() }
        }
        directory.syncRevision()
        try? directory.setDirty(false)
    }
}

final class ReplicaConnection: @unchecked Sendable {  // confined to the server's reactor
    typealias Slot = RequestSlot<ReplicaRequest>

    unowned let server: ReplicaServer
    let reader: BufferedReader
    let writer: BatchedWriter
    /// Opened on the reactor when the connection starts: a channel belongs to the reactor that
    /// made it (made elsewhere, an aio channel would fall back to worker threads).
    private var channel: (any IOChannel)?
    private let slots = RequestSlotPool(
        limit: ReplicaLimits.maxRequestsPerConnection, blank: ReplicaRequest(kind: .ping, id: 0),
        inFlightBytesLimit: ReplicaLimits.maxInFlightPayloadBytes, retainedBufferBytesLimit: ReplicaLimits.maxRetainedSlotBufferBytes)
    private var closed = false

    init(server: ReplicaServer, socket: ReactorSocket) {
        self.server = server
        reader = BufferedReader(socket: socket, bufferBytes: ReplicaLimits.receiveBufferBytes)
        writer = BatchedWriter(socket: socket)
    }

    func run() async {
        channel = try? server.device.makeChannel()
        do { try await serve() } catch {}
        await writer.finish(withinSeconds: DeviceLimits.finalDrainSeconds)  // a peer that stops reading cannot hold it
        close()
    }

    func close() {
        guard !closed else { return }
        closed = true
        writer.close()
        slots.close()
    }

    private nonisolated(nonsending) func acquire(payloadBytes: Int) async throws -> Slot {
        let slot = await slots.acquire(payloadBytes: payloadBytes) { slot in
            Task(executorPreference: server.reactor) { [self] in
                while await slot.next() { await execute(slot) }
            }
        }
        guard let slot else { throw ConnectionClosed() }  // the pool closes with the connection
        return slot
    }

    private func release(_ slot: Slot) { slots.giveBack(slot) }

    private func serve() async throws {
        while !closed {
            await writer.waitForRoom()  // responses pile up unread: stop reading until they drain
            guard !closed else { break }
            guard let request = ReplicaRequest(bytes: try await reader.take(ReplicaProtocol.requestBytes)) else {
                throw ConnectionClosed()  // bad magic: the stream cannot be trusted any more
            }
            let length = Int(request.length)
            let isWrite = request.kind == ReplicaProtocol.Kind.write.rawValue
            if isWrite && length > ReplicaProtocol.maxPayloadBytes { throw ConnectionClosed() }
            // What the request moves: a write's payload, a read's data (an oversized read is
            // refused without data).
            let isRead = request.kind == ReplicaProtocol.Kind.read.rawValue
            let payloadBytes = isWrite || (isRead && length <= ReplicaProtocol.maxPayloadBytes) ? length : 0
            let slot = try await acquire(payloadBytes: payloadBytes)
            slot.request = request
            if isWrite {
                slots.reserve(slot, length)
                try await reader.read(into: slot.buffer.bytes.baseAddress!, count: length)
            }
            slot.start()
        }
    }

    private nonisolated(nonsending) func execute(_ slot: Slot) async {
        let request = slot.request
        let sector = UInt64(server.device.blockSize)
        let size = UInt64(server.directory.meta.size)
        let (end, overflow) = request.offset.addingReportingOverflow(UInt64(request.length))
        func respond(_ status: Int32, data: Int = 0, payload: [UInt8] = []) {
            let response = ReplicaResponse(kind: request.kind, status: UInt16(clamping: status), id: request.id, length: UInt32(data + payload.count))
            writer.append(count: ReplicaProtocol.responseBytes + data + payload.count) { out in
                response.write(into: out)
                if data > 0 {
                    UnsafeMutableRawBufferPointer(rebasing: out[ReplicaProtocol.responseBytes...])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: slot.buffer.bytes[0..<data]))
                }
                payload.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[ReplicaProtocol.responseBytes...]).copyMemory(from: $0) }
            }
            release(slot)
        }
        guard let channel else { return respond(EIO) }
        switch ReplicaProtocol.Kind(rawValue: request.kind) {
        case .read, .write, .unmap:
            guard !overflow, end <= size, request.length > 0, request.offset % sector == 0, UInt64(request.length) % sector == 0,
                Int(request.length) <= ReplicaProtocol.maxPayloadBytes || request.kind == ReplicaProtocol.Kind.unmap.rawValue
            else { return respond(EINVAL) }
        default:
            break
        }
        do {
            switch ReplicaProtocol.Kind(rawValue: request.kind) {
            case .read:
                slots.reserve(slot, Int(request.length))
                try await channel.read(slot.buffer.vector(byteCount: Int(request.length)), offsetBlocks: request.offset / sector)
                return respond(0, data: Int(request.length))
            case .write:
                try server.willWrite()
                let options: WriteOptions = request.flags & ReplicaProtocol.flagForceUnitAccess != 0 ? .forceUnitAccess : []
                try await channel.write(slot.buffer.vector(byteCount: Int(request.length)), offsetBlocks: request.offset / sector, options: options)
                try server.wrote(revision: request.revision)
            case .unmap:
                try await channel.unmap(offsetBlocks: request.offset / sector, blockCount: UInt64(request.length) / sector)
            case .flush:
                try await channel.flush()
                server.directory.syncRevision()
            case .info:
                return respond(0, payload: server.info())
            case .ping:
                break
            case nil:
                return respond(EINVAL)
            }
            respond(0)
        } catch {
            respond((error as? BlockError)?.errnoValue ?? EIO)
        }
    }
}
