// One NBD client connection: the fixed newstyle handshake, then the transmission phase.
//
// Transmission: one reader takes request headers (and write payloads, straight into the request's
// buffer) in order; each request gets a slot whose worker task executes it on the export's device
// and appends its reply, so requests complete out of order as NBD allows. Slots and workers are
// made on first use up to `NBDLimits.maxRequestsPerConnection` and reused; when all are busy, or
// the payload in flight would pass `NBDLimits.maxInFlightPayloadBytes`, the reader waits.
// Everything runs on the server's reactor.
//
// Backpressure: before it reads the next option (handshake) or request header (transmission) the
// reader waits until the connection's queued replies are under the writer's high-water mark. A
// client that sends and never reads is then no longer read: its requests wait in the kernel's
// socket buffers and what this connection holds stays bounded (high-water mark + payload in
// flight), while other connections on the reactor go on at full speed.
//
// Export removed (hot remove or delete), as SPDK's nbd_bdev_hot_remove: no request reaches the
// device any more, and those already received are answered NBD_EIO (the reader stops at the end
// of what it has, without waiting for more); requests in flight finish on the device and are
// answered with their result, a failure as NBD_EIO; then the answers are sent, for at most
// `NBDLimits.removalDrainSeconds` (a client that does not read cannot hold the removal), and the
// connection closes.
//
// Every other end (a protocol error, NBD_OPT_ABORT, NBD_CMD_DISC, the client closing, server
// shutdown) answers the requests read, sends for at most `DeviceLimits.finalDrainSeconds`, and
// closes. A handshake that waits `NBDLimits.handshakeSeconds` for the client without a byte from
// it (an idle socket, a header cut short) closes the connection.
//
// Malformed input: a bad magic, an unknown client flag or an oversized write ends the connection;
// an invalid request (out of range, misaligned, unknown command, write to a read-only export)
// gets the protocol's error reply and the connection goes on.

import BlockCore
import BlockDevices
import Foundation
import Glibc
import Synchronization

typealias NBDSlot = RequestSlot<NBDRequest>

/// The connection ended (by the client, by a protocol violation, or by the server).
struct NBDConnectionEnded: Error {
    var reason: String
}

final class NBDConnection: @unchecked Sendable {  // confined to the server's reactor
    unowned let server: NBDServer
    let socket: ReactorSocket
    let writer: BatchedWriter
    let address: NBDAddress
    private(set) var export: NBDExport?
    private var channel: (any IOChannel)?
    private var structuredReplies = false
    private var closed = false
    /// Set when the export is being removed (`exportRemoved`).
    private var removing = false
    /// Reads completed from the client: the handshake deadline's sign of progress.
    private var handshakeReads = 0

    private let reader: BufferedReader

    private let slots = RequestSlotPool(
        limit: NBDLimits.maxRequestsPerConnection, blank: NBDRequest(type: 0, cookie: 0, offset: 0, length: 0),
        inFlightBytesLimit: NBDLimits.maxInFlightPayloadBytes, retainedBufferBytesLimit: NBDLimits.maxRetainedSlotBufferBytes)
    private var inFlight = 0
    /// Tasks waiting for every request in flight to be answered (or the connection to close).
    private var idleWaiters: [UnsafeContinuation<Void, Never>] = []

    init(server: NBDServer, socket: ReactorSocket, address: NBDAddress) {
        self.server = server
        self.socket = socket
        self.address = address
        writer = BatchedWriter(socket: socket)
        reader = BufferedReader(socket: socket, bufferBytes: NBDLimits.receiveBufferBytes)
    }

    func run() async {
        // A client that sends nothing of its handshake for `NBDLimits.handshakeSeconds` (one to two
        // periods of the check) while the
        // server waits for it is closed, so idle sockets cannot use up the listener's connections.
        // One whose option replies queue unread is held by backpressure instead, as in transmission.
        let handshakeDeadline = Task(executorPreference: server.reactor) { [self] in
            // Reads at the last check: none yet, so the first check only notes the count and a
            // client is closed after one to two periods of silence. The server's own delays (a
            // reactor held up, its completions not yet handled) never count as the client's.
            var seen = -1
            while (try? await Task.sleep(for: .seconds(NBDLimits.handshakeSeconds))) != nil {
                if handshakeReads == seen && writer.hasRoom {
                    close()
                    return
                }
                seen = handshakeReads
            }
        }
        do {
            defer { handshakeDeadline.cancel() }
            try await handshake()
            handshakeDeadline.cancel()
            if let export {
                export.connectionCount.add(1, ordering: .relaxed)
                defer { export.connectionCount.subtract(1, ordering: .relaxed) }
                let watcher = watchForStall()
                defer { watcher.cancel() }
                try await transmit(export)
            }
        } catch {}
        // Requests already read are answered before the connection closes, for a bounded time.
        await waitUntilIdle()
        await writer.finish(withinSeconds: DeviceLimits.finalDrainSeconds)
        close()
    }

    /// While the client takes none of its replies for `NBDLimits.stallReleaseSeconds` and they are
    /// at the writer's high-water mark, the idle request slots give their grown buffers back: a
    /// stalled connection then holds its queued replies and the buffers of requests in flight,
    /// not a buffer per slot as well. A client that falls behind for a moment keeps them, so a
    /// busy connection allocates nothing per request. One timer a connection, not per request.
    private func watchForStall() -> Task<Void, Never> {
        Task(executorPreference: server.reactor) { [weak self] in
            var sentBefore = -1
            while (try? await Task.sleep(for: .seconds(NBDLimits.stallReleaseSeconds))) != nil {
                guard let self, !closed else { return }
                if writer.isStalled(sinceSentBytes: sentBefore) { slots.releaseIdleBuffers() }
                sentBefore = writer.sentBytes
            }
        }
    }

    /// The export is being removed: see the file's comment. Returns once every request read has
    /// been answered and the connection is closed.
    func exportRemoved() async {
        guard !closed else { return }
        stopTakingRequests()
        await waitUntilIdle()
        await writer.finish(withinSeconds: NBDLimits.removalDrainSeconds)
        close()
    }

    /// The export is going: requests read from now on are answered NBD_EIO without reaching the
    /// device, and the reader stops.
    func stopTakingRequests() { removing = true }

    private func waitUntilIdle() async {
        guard inFlight > 0, !closed else { return }
        await withUnsafeContinuation { idleWaiters.append($0) }
    }

    func close() {
        guard !closed else { return }
        closed = true
        writer.close()
        slots.close()
        resumeIdleWaiters()
    }

    private func resumeIdleWaiters() {
        let waiters = idleWaiters
        idleWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    // MARK: - Reading

    private func take(_ count: Int) async throws -> UnsafeRawBufferPointer {
        defer { handshakeReads &+= 1 }
        return try await reader.take(count)
    }
    private func read(into destination: UnsafeMutableRawPointer, count: Int) async throws {
        defer { handshakeReads &+= 1 }
        try await reader.read(into: destination, count: count)
    }
    private func skip(_ count: Int) async throws {
        defer { handshakeReads &+= 1 }
        try await reader.skip(count)
    }

    // MARK: - Handshake

    private func handshake() async throws {
        writer.append(count: 18) { out in
            out.putBE(NBDWire.handshakeMagic, at: 0)
            out.putBE(NBDWire.optionMagic, at: 8)
            out.putBE(NBDWire.flagFixedNewstyle | NBDWire.flagNoZeroes, at: 16)
        }
        let clientFlags = try await take(4).be(0, as: UInt32.self)
        guard clientFlags & ~(NBDWire.clientFlagFixedNewstyle | NBDWire.clientFlagNoZeroes) == 0 else {
            throw NBDConnectionEnded(reason: "unknown client flags \(clientFlags)")
        }
        let noZeroes = clientFlags & NBDWire.clientFlagNoZeroes != 0
        while true {
            await writer.waitForRoom()  // a client that floods options and never reads stops being read
            let header = try await take(16)
            guard header.be(0, as: UInt64.self) == NBDWire.optionMagic else {
                throw NBDConnectionEnded(reason: "bad option magic")
            }
            let option = header.be(8, as: UInt32.self)
            let length = Int(header.be(12, as: UInt32.self))
            guard length <= NBDLimits.maxOptionBytes else {
                guard length <= 16 * NBDLimits.maxOptionBytes else { throw NBDConnectionEnded(reason: "option of \(length) bytes") }
                try await skip(length)
                reply(option, NBDWire.replyErrorTooBig, message: "option data of \(length) bytes is too long")
                continue
            }
            let data = Array(try await take(length))
            if try handleOption(option, data, noZeroes: noZeroes) { return }
        }
    }

    private func reply(_ option: UInt32, _ type: UInt32, _ payload: [UInt8] = []) {
        writer.append(count: 20 + payload.count) { out in
            NBDReplies.optionReplyHeader(out, option: option, type: type, length: payload.count)
            payload.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[20...]).copyMemory(from: $0) }
        }
    }

    private func reply(_ option: UInt32, _ type: UInt32, message: String) { reply(option, type, Array(message.utf8)) }

    private static func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    private func lookup(_ name: String) -> NBDExport? {
        let exports = server.exports(on: address)
        // The empty name is the default export: the first one on this listener.
        return name.isEmpty ? exports.first : exports.first { $0.name == name }
    }

    private func transmissionFlags(_ export: NBDExport) -> UInt16 {
        var flags = NBDWire.transmissionHasFlags | NBDWire.transmissionSendFlush | NBDWire.transmissionSendFUA
            | NBDWire.transmissionSendWriteZeroes | NBDWire.transmissionCanMultiConn
        if export.device.supportedIOTypes.contains(.unmap) { flags |= NBDWire.transmissionSendTrim }
        if export.readOnly { flags |= NBDWire.transmissionReadOnly }
        return flags
    }

    /// Handles one option; true when the transmission phase begins.
    private func handleOption(_ option: UInt32, _ data: [UInt8], noZeroes: Bool) throws -> Bool {
        switch NBDWire.Option(rawValue: option) {
        case .exportName:
            guard let export = lookup(String(decoding: data, as: UTF8.self)) else {
                throw NBDConnectionEnded(reason: "unknown export")  // this option has no error reply
            }
            writer.append(count: 10 + (noZeroes ? 0 : 124)) { out in
                out.initializeMemory(as: UInt8.self, repeating: 0)
                out.putBE(export.device.byteCount, at: 0)
                out.putBE(transmissionFlags(export), at: 8)
            }
            try begin(export)
            return true
        case .abort:
            reply(option, NBDWire.replyAck)
            throw NBDConnectionEnded(reason: "client aborted")
        case .list:
            guard data.isEmpty else {
                reply(option, NBDWire.replyErrorInvalid, message: "NBD_OPT_LIST takes no data")
                return false
            }
            for export in server.exports(on: address) {
                reply(option, NBDWire.replyServer, Self.be(UInt32(export.name.utf8.count)) + Array(export.name.utf8))
            }
            reply(option, NBDWire.replyAck)
            return false
        case .info, .go:
            return try informationRequest(option, data)
        case .structuredReply:
            guard data.isEmpty else {
                reply(option, NBDWire.replyErrorInvalid, message: "NBD_OPT_STRUCTURED_REPLY takes no data")
                return false
            }
            structuredReplies = true
            reply(option, NBDWire.replyAck)
            return false
        case .listMetaContext, .setMetaContext:
            // No metadata contexts (base:allocation is not offered): an empty answer.
            guard structuredReplies || option == NBDWire.Option.listMetaContext.rawValue else {
                reply(option, NBDWire.replyErrorInvalid, message: "structured replies are required first")
                return false
            }
            reply(option, NBDWire.replyAck)
            return false
        case .startTLS:
            reply(option, NBDWire.replyErrorPolicy, message: "TLS is not offered")
            return false
        case .extendedHeaders, nil:
            reply(option, NBDWire.replyErrorUnsupported, message: "option \(option) is not supported")
            return false
        }
    }

    /// NBD_OPT_INFO and NBD_OPT_GO: name length, name, request count, requested info types.
    private func informationRequest(_ option: UInt32, _ data: [UInt8]) throws -> Bool {
        guard let request = NBDInfoRequest(data: data) else {
            reply(option, NBDWire.replyErrorInvalid, message: "malformed NBD_OPT_INFO/GO data")
            return false
        }
        let name = request.name, requested = request.requested
        guard let export = lookup(name) else {
            reply(option, NBDWire.replyErrorUnknown, message: "no export named \(name)")
            return false
        }
        let blockSize = UInt32(export.device.blockSize)
        reply(option, NBDWire.replyInfo, Self.be(NBDWire.infoExport) + Self.be(export.device.byteCount) + Self.be(transmissionFlags(export)))
        reply(option, NBDWire.replyInfo, Self.be(NBDWire.infoBlockSize) + Self.be(blockSize)
            + Self.be(max(blockSize, UInt32(NBDLimits.preferredBlockBytes))) + Self.be(UInt32(NBDLimits.maxPayloadBytes)))
        if requested.contains(NBDWire.infoName) {
            reply(option, NBDWire.replyInfo, Self.be(NBDWire.infoName) + Array(export.name.utf8))
        }
        if requested.contains(NBDWire.infoDescription) {
            reply(option, NBDWire.replyInfo, Self.be(NBDWire.infoDescription) + Array("Hornbill bdev \(export.device.name)".utf8))
        }
        reply(option, NBDWire.replyAck)
        guard option == NBDWire.Option.go.rawValue else { return false }
        try begin(export)
        return true
    }

    private func begin(_ export: NBDExport) throws {
        channel = try export.descriptor.makeChannel()
        self.export = export
    }

    // MARK: - Transmission

    private func acquireSlot(payloadBytes: Int) async throws -> NBDSlot {
        let slot = await slots.acquire(payloadBytes: payloadBytes) { slot in
            Task(executorPreference: server.reactor) { [self] in
                while await slot.next() { await execute(slot) }
            }
        }
        guard let slot else { throw NBDConnectionEnded(reason: "closed") }  // the pool closes with the connection
        return slot
    }

    private func release(_ slot: NBDSlot) {
        slots.giveBack(slot)
        inFlight -= 1
        if inFlight == 0 { resumeIdleWaiters() }
    }

    private func transmit(_ export: NBDExport) async throws {
        let device = export.device
        let blockSize = UInt64(device.blockSize)
        // Once the export is going, the requests already received are still answered (EIO, as
        // SPDK's nbd answers those it reads on a hot remove); the reader does not wait for more.
        while !closed && (!removing || reader.bufferedBytes >= NBDWire.requestBytes) {
            await writer.waitForRoom()  // replies pile up unread: stop reading until they drain
            guard !closed else { break }
            guard let request = NBDRequest(bytes: try await take(NBDWire.requestBytes)) else {
                throw NBDConnectionEnded(reason: "bad request magic")
            }
            let command = NBDWire.Command(rawValue: request.type)
            let length = Int(request.length)
            if command == .write && length > NBDLimits.maxPayloadBytes {
                throw NBDConnectionEnded(reason: "write of \(length) bytes above the advertised maximum")
            }
            if command == .disconnect {
                await waitUntilIdle()
                throw NBDConnectionEnded(reason: "client disconnected")
            }
            var error: UInt32?
            let (end, overflow) = request.offset.addingReportingOverflow(UInt64(length))
            switch command {
            case .read, .write, .trim, .writeZeroes:
                if overflow || end > device.byteCount {
                    error = NBDWire.errorInvalid
                } else if request.offset % blockSize != 0 || UInt64(length) % blockSize != 0 {
                    error = NBDWire.errorInvalid
                } else if length == 0 || ((command == .read || command == .write) && length > NBDLimits.maxPayloadBytes) {
                    error = length == 0 ? NBDWire.errorInvalid : NBDWire.errorOverflow
                } else if command != .read && export.readOnly {
                    error = NBDWire.errorPermission
                } else if command == .trim && !device.supportedIOTypes.contains(.unmap) {
                    error = NBDWire.errorInvalid
                } else if command == .writeZeroes && request.flags & NBDWire.commandFastZero != 0 {
                    error = NBDWire.errorNotSupported
                }
            case .flush:
                break
            default:
                error = NBDWire.errorInvalid
            }
            if removing {
                // Read after the export began to go away: answered without reaching the device. A
                // write's payload is not read; the connection closes after these answers.
                let slot = try await acquireSlot(payloadBytes: 0)
                inFlight += 1
                slot.request = request
                replyError(slot, NBDWire.errorIO, "export \(export.name) is being removed")
                if command == .write { break }
                continue
            }
            // The payload this request moves (a write's is read even when it is refused): what it
            // adds to the buffers and replies in flight.
            let payloadBytes = command == .write || (command == .read && error == nil) ? length : 0
            let slot = try await acquireSlot(payloadBytes: payloadBytes)
            slot.request = request
            if command == .write {
                slots.reserve(slot, length)
                do {
                    try await read(into: slot.buffer.bytes.baseAddress!, count: length)
                } catch {
                    slots.giveBack(slot)  // never in flight: a stalled payload holds up no removal
                    throw error
                }
            }
            // In flight from here: its answer is owed before the connection closes.
            inFlight += 1
            if let error {
                replyError(slot, error, "request \(request.type) at \(request.offset)+\(length) refused")
                continue
            }
            slot.start()
        }
    }

    private func execute(_ slot: NBDSlot) async {
        guard let channel, let export else { return release(slot) }
        let request = slot.request
        guard !removing else { return replyError(slot, NBDWire.errorIO, "the export is being removed") }
        let blockSize = UInt64(export.device.blockSize)
        let offsetBlocks = request.offset / blockSize
        let blocks = UInt64(request.length) / blockSize
        do {
            switch NBDWire.Command(rawValue: request.type) {
            case .read:
                slots.reserve(slot, Int(request.length))
                try await channel.read(slot.buffer.vector(byteCount: Int(request.length)), offsetBlocks: offsetBlocks)
                return replyData(slot)
            case .write:
                let options: WriteOptions = request.flags & NBDWire.commandFUA != 0 ? .forceUnitAccess : []
                try await channel.write(slot.buffer.vector(byteCount: Int(request.length)), offsetBlocks: offsetBlocks, options: options)
            case .flush:
                try await channel.flush()
            case .trim:
                try await channel.unmap(offsetBlocks: offsetBlocks, blockCount: blocks)
            case .writeZeroes:
                let types = export.device.supportedIOTypes
                if request.flags & NBDWire.commandNoHole == 0 && types.contains(.unmap) {
                    // A hole is allowed, and unmapped blocks read back as zeroes.
                    try await channel.unmap(offsetBlocks: offsetBlocks, blockCount: blocks)
                } else {
                    try await channel.writeZeroes(offsetBlocks: offsetBlocks, blockCount: blocks)
                }
            default:
                break
            }
            if request.flags & NBDWire.commandFUA != 0, NBDWire.Command(rawValue: request.type) != .write {
                try await channel.flush()
            }
            replyDone(slot)
        } catch {
            replyError(slot, removing ? NBDWire.errorIO : Self.errorValue(error), "\(error)")
        }
    }

    static func errorValue(_ error: any Error) -> UInt32 {
        guard let error = error as? BlockError else { return NBDWire.errorIO }
        switch error.code {
        case .readOnly: return NBDWire.errorPermission
        case .noSpace: return NBDWire.errorNoSpace
        case .notSupported: return NBDWire.errorNotSupported
        case .invalidArgument, .outOfRange: return NBDWire.errorInvalid
        // The device went away (hot remove): EIO, as SPDK's nbd answers every failed request.
        case .notFound: return NBDWire.errorIO
        case .closed: return NBDWire.errorShutdown
        default: return NBDWire.errorIO
        }
    }

    private func replyDone(_ slot: NBDSlot) {
        let cookie = slot.request.cookie
        if structuredReplies {
            writer.append(count: NBDWire.structuredReplyBytes) { out in
                NBDReplies.chunk(out, flags: NBDWire.chunkFlagDone, type: NBDWire.chunkNone, cookie: cookie, length: 0)
            }
        } else {
            writer.append(count: NBDWire.simpleReplyBytes) { NBDReplies.simple($0, error: 0, cookie: cookie) }
        }
        release(slot)
    }

    private func replyData(_ slot: NBDSlot) {
        let request = slot.request
        let length = Int(request.length)
        let data = UnsafeRawBufferPointer(rebasing: slot.buffer.bytes[0..<length])
        if structuredReplies {
            writer.append(count: NBDWire.structuredReplyBytes + 8 + length) { out in
                NBDReplies.chunk(out, flags: NBDWire.chunkFlagDone, type: NBDWire.chunkOffsetData, cookie: request.cookie, length: 8 + length)
                out.putBE(request.offset, at: NBDWire.structuredReplyBytes)
                UnsafeMutableRawBufferPointer(rebasing: out[(NBDWire.structuredReplyBytes + 8)...]).copyMemory(from: data)
            }
        } else {
            writer.append(count: NBDWire.simpleReplyBytes + length) { out in
                NBDReplies.simple(out, error: 0, cookie: request.cookie)
                UnsafeMutableRawBufferPointer(rebasing: out[NBDWire.simpleReplyBytes...]).copyMemory(from: data)
            }
        }
        release(slot)
    }

    private func replyError(_ slot: NBDSlot, _ error: UInt32, _ message: String) {
        let cookie = slot.request.cookie
        if structuredReplies {
            let text = Array(message.utf8.prefix(4096))
            writer.append(count: NBDWire.structuredReplyBytes + 6 + text.count) { out in
                NBDReplies.chunk(out, flags: NBDWire.chunkFlagDone, type: NBDWire.chunkError, cookie: cookie, length: 6 + text.count)
                out.putBE(error, at: NBDWire.structuredReplyBytes)
                out.putBE(UInt16(text.count), at: NBDWire.structuredReplyBytes + 4)
                text.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[(NBDWire.structuredReplyBytes + 6)...]).copyMemory(from: $0) }
            }
        } else {
            writer.append(count: NBDWire.simpleReplyBytes) { NBDReplies.simple($0, error: error, cookie: cookie) }
        }
        release(slot)
    }
}
