// One NVMe/TCP connection of the host: an admin or I/O queue to a remote controller.
//
// A command takes a slot (its command ID); writes up to the in-capsule limit travel in the capsule,
// larger ones wait for the controller's R2T and follow in H2CData PDUs; reads land straight in the
// caller's memory as C2HData arrives. The caller's task waits on the slot's continuation, which the
// receive loop resumes on the CapsuleResp (or on a C2HData with SUCCESS). Everything runs on the
// reactor; a connection that fails fails every command in flight with it.

import BlockCore
import BlockDevices
import Foundation
import NVMeWire

/// What a command in flight needs: its caller, and the caller's memory for its data.
final class HostSlot: @unchecked Sendable {  // confined to its reactor
    let commandID: UInt16
    var continuation: UnsafeContinuation<CompletionEntry, any Error>?
    var vector: IOVector = .single(UnsafeMutableRawBufferPointer(start: nil, count: 0))
    var vectorOffset = 0
    var byteCount = 0
    var isRead = false
    var received = 0
    /// Write data the controller has asked for by R2T so far.
    var requested = 0
    var dataDigestFailed = false

    init(commandID: UInt16) { self.commandID = commandID }
}

final class HostQueuePair: @unchecked Sendable {  // confined to its reactor
    let reactor: Reactor
    let connection: PDUConnection
    let queueID: UInt16
    let queueSize: Int
    /// Largest write sent in the capsule (the controller's IOCCSZ; 8 KiB on the admin queue).
    var inCapsuleLimit: Int
    private var maxH2CDataBytes = NVMeWireLimits.maxIOBytes
    private var slots: [HostSlot] = []
    private var freeSlots: [Int]
    private var slotWaiters: [UnsafeContinuation<HostSlot, any Error>] = []
    private var initialized: UnsafeContinuation<Void, any Error>?
    private(set) var failure: BlockError?
    /// When the last PDU arrived: a queue with commands outstanding and nothing heard is dead.
    private(set) var lastHeard = ContinuousClock.now
    /// Called once when the connection fails, with why.
    var onFailure: ((BlockError) -> Void)?
    var outstanding: Int { slots.count - freeSlots.count }

    private init(reactor: Reactor, socket: ReactorSocket, queueID: UInt16, queueSize: Int) {
        precondition(queueSize >= 2, "a queue of \(queueSize) entries")  // callers check what a controller reports
        self.reactor = reactor
        connection = PDUConnection(socket: socket, role: .host)
        self.queueID = queueID
        self.queueSize = queueSize
        inCapsuleLimit = queueID == 0 ? NVMeWireLimits.adminInCapsuleDataBytes : NVMeWireLimits.inCapsuleDataBytes
        // One entry stays unused so the queue never looks full and empty at once.
        slots = (0..<(queueSize - 1)).map { HostSlot(commandID: UInt16($0)) }
        freeSlots = Array((0..<(queueSize - 1)).reversed())
    }

    /// Opens a TCP connection and exchanges ICReq/ICResp. Call on the reactor.
    static func open(
        reactor: Reactor, host: String, port: UInt16, queueID: UInt16, queueSize: Int, digests: DigestOptions,
        timeout: Duration
    ) async throws -> HostQueuePair {
        let fd = try await TCPSocket.connect(host: host, port: port, timeout: timeout)
        let queue = HostQueuePair(reactor: reactor, socket: ReactorSocket(fd: fd, reactor: reactor), queueID: queueID, queueSize: queueSize)
        Task(executorPreference: reactor) { await queue.receiveLoop() }
        queue.connection.append(ICReq(digests: digests).encode())
        let watchdog = Task(executorPreference: reactor) {
            try await Task.sleep(for: timeout)
            queue.fail(BlockError(.ioError, "no ICResp from \(host):\(port) within \(timeout)"))
        }
        defer { watchdog.cancel() }
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            if let failure = queue.failure { return continuation.resume(throwing: failure) }
            queue.initialized = continuation
        }
        return queue
    }

    private func receiveLoop() async {
        do {
            try await connection.receive { pdu throws(TransportError) in try handle(pdu) }
            fail(BlockError(.ioError, "the controller closed queue \(queueID)"))
        } catch let error as TransportError {
            fail(BlockError(.ioError, "queue \(queueID): \(error)"))
        } catch {
            fail(BlockError(.ioError, "queue \(queueID): \(error)"))
        }
    }

    /// Ends the connection and fails every command in flight.
    func fail(_ error: BlockError) {
        guard failure == nil else { return }
        failure = error
        connection.close()
        if let initialized {
            self.initialized = nil
            initialized.resume(throwing: error)
        }
        for slot in slots {
            if let continuation = slot.continuation {
                slot.continuation = nil
                continuation.resume(throwing: error)
            }
        }
        for waiter in slotWaiters { waiter.resume(throwing: error) }
        slotWaiters.removeAll()
        onFailure?(error)
        onFailure = nil
    }

    func close() { fail(BlockError(.closed, "queue \(queueID) closed")) }

    // MARK: - Receiving

    private func handle(_ pdu: PDUView) throws(TransportError) {
        lastHeard = .now
        switch pdu.type {
        case .icResp:
            let response = ICResp(header: pdu.header)
            guard response.pduFormatVersion == 0 else {
                throw TransportError(.invalidHeaderField, fieldInfo: 8, "ICResp: PDU format version \(response.pduFormatVersion)")
            }
            // CPDA is 0...31 (data at most 128 bytes in, so PDO fits its byte); MAXH2CDATA ≥ 4 KiB.
            guard response.controllerDataAlignment <= NVMeWireLimits.maxDataAlignment else {
                throw TransportError(.invalidHeaderField, fieldInfo: 10, "ICResp: CPDA \(response.controllerDataAlignment) above 31")
            }
            guard response.maxH2CDataBytes >= 4096 else {
                throw TransportError(.invalidHeaderField, fieldInfo: 12, "ICResp: MAXH2CDATA \(response.maxH2CDataBytes) below 4096")
            }
            connection.framer.initialized = true
            connection.framer.digests = response.digests
            connection.digests = response.digests
            connection.peerDataAlignment = Int(response.controllerDataAlignment)
            maxH2CDataBytes = Int(min(response.maxH2CDataBytes, UInt32(NVMeWireLimits.maxIOBytes)))
            if let initialized {
                self.initialized = nil
                initialized.resume()
            }
        case .c2hTermReq:
            let term = TermReq(header: pdu.header, data: pdu.data)
            fail(BlockError(.ioError, "the controller ended queue \(queueID): fatal error status \(term.status), field \(term.fieldInfo)"))
        case .capsuleResp:
            let completion = CompletionEntry(bytes: UnsafeRawBufferPointer(rebasing: pdu.header[8..<24]))
            let slot = try pending(completion.commandID)
            var result = completion
            if slot.dataDigestFailed { result.status = .transientTransportError }
            complete(slot, result)
        case .c2hData:
            let fields = DataPDUHeader(header: pdu.header)
            let slot = try pending(fields.commandID)
            let offset = Int(fields.offset), length = Int(fields.length)
            // DATAL names the data this PDU carries: never empty, and exactly what PLEN leaves for it.
            guard length > 0, length == pdu.data.count, let data = pdu.data.baseAddress else {
                throw TransportError(
                    .invalidHeaderField, fieldInfo: DataPDUHeader.lengthFieldOffset,
                    "C2HData DATAL \(length) but the PDU carries \(pdu.data.count) bytes of data")
            }
            guard slot.isRead, offset == slot.received, offset + length <= slot.byteCount else {
                throw TransportError(
                    .dataTransferOutOfRange, fieldInfo: DataPDUHeader.offsetFieldOffset, "C2HData bytes \(offset)..<\(offset + length) unexpected")
            }
            slot.vector.copyIn(at: slot.vectorOffset + offset, count: length, from: data)
            slot.received += length
            if !pdu.dataDigestMatches { slot.dataDigestFailed = true }
            if pdu.flags.contains(.success) {
                guard pdu.flags.contains(.lastPDU), slot.received == slot.byteCount else {
                    throw TransportError(.invalidHeaderField, fieldInfo: 1, "SUCCESS on a C2HData that is not the last")
                }
                complete(slot, CompletionEntry(commandID: slot.commandID, status: slot.dataDigestFailed ? .transientTransportError : .success))
            }
        case .r2t:
            let fields = DataPDUHeader(header: pdu.header)
            let slot = try pending(fields.commandID)
            let offset = Int(fields.offset), length = Int(fields.length)
            guard length > 0 else {
                throw TransportError(.invalidHeaderField, fieldInfo: DataPDUHeader.lengthFieldOffset, "R2T with R2TL 0")
            }
            // Each R2T asks for the bytes after those already asked for: the command's data goes out
            // at most once, however many R2Ts a controller sends.
            guard !slot.isRead, offset == slot.requested, offset + length <= slot.byteCount else {
                throw TransportError(
                    .dataTransferOutOfRange, fieldInfo: DataPDUHeader.offsetFieldOffset,
                    "R2T for bytes \(offset)..<\(offset + length), expected from \(slot.requested) within \(slot.byteCount)")
            }
            slot.requested += length
            sendData(slot, transferTag: fields.transferTag, offset: offset, length: length)
        default:
            throw TransportError(.invalidHeaderField, fieldInfo: 0, "unexpected \(pdu.type)")
        }
    }

    private func pending(_ commandID: UInt16) throws(TransportError) -> HostSlot {
        guard Int(commandID) < slots.count, slots[Int(commandID)].continuation != nil else {
            throw TransportError(.invalidHeaderField, fieldInfo: 8, "reply for command \(commandID), which is not outstanding")
        }
        return slots[Int(commandID)]
    }

    private func complete(_ slot: HostSlot, _ completion: CompletionEntry) {
        let continuation = slot.continuation!
        slot.continuation = nil
        continuation.resume(returning: completion)
    }

    private func sendData(_ slot: HostSlot, transferTag: UInt16, offset: Int, length: Int) {
        var sent = 0
        while sent < length {
            let chunk = min(maxH2CDataBytes, length - sent)
            let isLast = sent + chunk == length
            let fields = DataPDUHeader(commandID: slot.commandID, transferTag: transferTag, offset: UInt32(offset + sent), length: UInt32(chunk))
            let source = slot.vectorOffset + offset + sent
            let vector = slot.vector
            connection.appendPDU(dataBytes: chunk) { out in
                PDUHeaderWriter.data(
                    .h2cData, fields, flags: isLast ? [.lastPDU] : [], dataBytes: chunk, digests: connection.digests,
                    alignment: connection.peerDataAlignment, into: out)
            } data: { out in
                vector.copyOut(from: source, count: chunk, into: out.baseAddress!)
            }
            sent += chunk
        }
    }

    // MARK: - Submitting

    private nonisolated(nonsending) func acquire() async throws -> HostSlot {
        if let failure { throw failure }
        if let index = freeSlots.popLast() { return slots[index] }
        return try await withUnsafeThrowingContinuation { slotWaiters.append($0) }
    }

    private func release(_ slot: HostSlot) {
        slot.vector = .single(UnsafeMutableRawBufferPointer(start: nil, count: 0))
        if !slotWaiters.isEmpty {
            slotWaiters.removeFirst().resume(returning: slot)
        } else {
            freeSlots.append(Int(slot.commandID))
        }
    }

    /// The data a command moves: `byteCount` bytes of `vector` from `offset`.
    struct Transfer {
        var vector: IOVector
        var offset: Int
        var byteCount: Int
        var isRead: Bool
    }

    /// Sends a command and waits for its completion. Call on the reactor.
    nonisolated(nonsending) func submit(_ command: SubmissionEntry, _ transfer: Transfer? = nil) async throws -> CompletionEntry {
        let slot = try await acquire()
        defer { release(slot) }
        if let failure { throw failure }
        var entry = command
        entry.commandID = slot.commandID
        slot.received = 0
        slot.requested = 0
        slot.dataDigestFailed = false
        var inCapsule = 0
        if let transfer {
            slot.vector = transfer.vector
            slot.vectorOffset = transfer.offset
            slot.byteCount = transfer.byteCount
            slot.isRead = transfer.isRead
            if !transfer.isRead && transfer.byteCount <= inCapsuleLimit {
                entry.setInCapsuleData(length: transfer.byteCount)
                inCapsule = transfer.byteCount
            } else {
                entry.setTransportData(length: transfer.byteCount)
            }
        } else {
            slot.byteCount = 0
            slot.isRead = false
        }
        return try await withUnsafeThrowingContinuation { continuation in
            slot.continuation = continuation
            let vector = slot.vector, offset = slot.vectorOffset
            connection.appendPDU(dataBytes: inCapsule) { out in
                PDUHeaderWriter.capsuleCommand(entry, dataBytes: inCapsule, digests: connection.digests, into: out)
            } data: { out in
                vector.copyOut(from: offset, count: inCapsule, into: out.baseAddress!)
            }
        }
    }

    /// Submits and turns a failed status into an error.
    func execute(_ command: SubmissionEntry, _ transfer: Transfer? = nil, what: @autoclosure () -> String) async throws -> CompletionEntry {
        let completion = try await submit(command, transfer)
        guard completion.status.isSuccess else { throw NVMeHostError.status(completion.status, what()) }
        return completion
    }

    /// A command whose data comes back in a fresh array (admin commands).
    func read(_ command: SubmissionEntry, byteCount: Int, what: @autoclosure () -> String) async throws -> [UInt8] {
        let buffer = IOBuffer(byteCount: byteCount)
        _ = try await execute(command, Transfer(vector: buffer.vector(), offset: 0, byteCount: byteCount, isRead: true), what: what())
        return Array(buffer.bytes)
    }

    /// Fabrics Connect for this queue; returns the controller ID.
    func fabricsConnect(_ data: ConnectData, keepAliveMilliseconds: UInt32) async throws -> UInt16 {
        let bytes = data.bytes
        let buffer = IOBuffer(byteCount: bytes.count)
        bytes.withUnsafeBytes { buffer.bytes.copyMemory(from: $0) }
        let command = SubmissionEntry.connect(commandID: 0, queueID: queueID, queueSize: queueSize, keepAliveMilliseconds: keepAliveMilliseconds)
        let completion = try await execute(
            command, Transfer(vector: buffer.vector(), offset: 0, byteCount: bytes.count, isRead: false),
            what: "connect queue \(queueID) to \(data.subsystemNQN)")
        return UInt16(truncatingIfNeeded: completion.dw0)
    }
}

/// An NVMe command that completed with an error status.
enum NVMeHostError: Error, CustomStringConvertible {
    case status(NVMeStatus, String)

    var description: String {
        switch self {
        case .status(let status, let what):
            let meaning =
                switch status {
                case .connectInvalidHost: "host not allowed by the subsystem"
                case .connectInvalidParameters: "invalid connect parameters"
                case .invalidNamespace: "invalid namespace"
                case .lbaOutOfRange: "LBA out of range"
                case .namespaceWriteProtected: "namespace write-protected"
                default: "\(status)"
                }
            return "\(what): \(meaning)"
        }
    }

    var status: NVMeStatus {
        switch self { case .status(let status, _): status }
    }
}
