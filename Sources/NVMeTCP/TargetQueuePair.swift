// One NVMe/TCP connection on the target: a queue pair (admin or I/O) of a controller.
//
// Request lifecycle (SPDK `lib/nvmf/tcp.c`): a CapsuleCmd takes a slot; its data arrives in the
// capsule, or after an R2T in H2CData PDUs; the slot's worker then executes the command and
// answers with C2HData (and, unless c2h_success applies, a CapsuleResp). Slots and their workers
// are made on first use up to the queue depth and reused: a command costs no task or allocation.
// Everything here runs on the target's reactor.

import BlockCore
import BlockDevices
import Foundation
import NVMeWire
import Synchronization

/// A command in a queue pair: its entry and how much of its data has arrived.
struct TargetCommand {
    var command = SubmissionEntry(opcode: 0, commandID: 0)
    var transferLength = 0
    var received = 0
    var awaitingData = false
    var dataDigestFailed = false
}

typealias TargetSlot = RequestSlot<TargetCommand>

final class TargetQueuePair: @unchecked Sendable {
    let target: NVMfTarget
    let connection: PDUConnection
    let listenAddress: ListenAddress
    let peerAddress: ListenAddress
    let transport: TransportOptions

    var queueID: UInt16 = 0
    var controller: NVMfController?
    /// Commands the host may have outstanding: 1 until Connect sets the queue's size.
    var queueDepth: Int {
        get { slots.limit }
        set { slots.limit = newValue }
    }
    private let slots = RequestSlotPool(limit: 1, blank: TargetCommand())
    private var submissionHead: UInt16 = 0
    private var closed = false

    // The namespaces' channels, re-read when the subsystem's namespaces change.
    private var namespaceGeneration: UInt64 = .max
    private var channels: [UInt32: (namespace: NVMfNamespace, channel: any IOChannel)] = [:]

    init(target: NVMfTarget, socket: ReactorSocket, listenAddress: ListenAddress, peer: ListenAddress) {
        self.target = target
        connection = PDUConnection(socket: socket, role: .controller)
        self.listenAddress = listenAddress
        peerAddress = peer
        transport = target.transport ?? TransportOptions()
        connection.framer.maxDataBytes = max(transport.maxIOSize, NVMeWireLimits.adminInCapsuleDataBytes)
    }

    var isAdmin: Bool { queueID == 0 }
    var isConnected: Bool { controller != nil }

    /// Serves the connection until the host disconnects or the controller is torn down.
    func run() async {
        let connection = self.connection
        // A host that does not connect the queue (ICReq, then Fabrics Connect) in time is closed:
        // the keep-alive timer only starts with a controller, and idle sockets would otherwise
        // hold the listener's connections.
        // Two periods: the first check only looks, so the target's own delays (a reactor held up,
        // the Connect received but not yet handled) never close a host that did connect.
        let connectDeadline = Task(executorPreference: target.reactor) { [self] in
            for check in 0..<2 {
                guard (try? await Task.sleep(for: .seconds(NVMeTCPLimits.connectSeconds))) != nil, !isConnected else { return }
                if check == 1 { close() }
            }
        }
        defer { connectDeadline.cancel() }
        do {
            // A command waits for a free slot rather than being read ahead of one (backpressure).
            try await connection.receive(
                pausingWhileOutputIsFull: true,
                admits: { pdu in pdu.type != .capsuleCmd || slots.canTake },
                waitUntilAdmitted: { await slots.waitUntilCanTake() }
            ) { pdu throws(TransportError) in try handle(pdu) }
            await connection.finish()
        } catch {
            target.report("connection from \(peerAddress.address):\(peerAddress.serviceID) (queue \(queueID)) ended: \(error)")
        }
        close()
    }

    /// Ends the connection; its controller is torn down if this is the admin queue.
    func close() {
        guard !closed else { return }
        closed = true
        connection.close()
        slots.close()
        if let controller {
            if isAdmin {
                controller.tearDown(reason: "admin queue disconnected")
                target.currentAdminQueuePairs.subtract(1, ordering: .relaxed)
            } else {
                if controller.ioQueues[queueID] === self { controller.ioQueues[queueID] = nil }
                target.currentIOQueuePairs.subtract(1, ordering: .relaxed)
            }
        }
        channels.removeAll()
    }

    // MARK: - PDUs

    private func handle(_ pdu: PDUView) throws(TransportError) {
        switch pdu.type {
        case .icReq: try initialize(ICReq(header: pdu.header))
        case .h2cTermReq: close()
        case .capsuleCmd: try receiveCommand(pdu)
        case .h2cData: try receiveData(pdu)
        default: throw TransportError(.invalidHeaderField, fieldInfo: 0, "unexpected \(pdu.type)")
        }
    }

    private func initialize(_ request: ICReq) throws(TransportError) {
        guard request.pduFormatVersion == 0 else {
            throw TransportError(.invalidHeaderField, fieldInfo: 8, "PDU format version \(request.pduFormatVersion) unsupported")
        }
        guard request.hostDataAlignment <= NVMeWireLimits.maxDataAlignment else {
            throw TransportError(.invalidHeaderField, fieldInfo: 10, "HPDA \(request.hostDataAlignment) above 31")
        }
        let response = ICResp(digests: request.digests, maxH2CDataBytes: UInt32(transport.maxIOSize))
        connection.append(response.encode())
        connection.framer.initialized = true
        connection.framer.digests = request.digests
        connection.digests = request.digests
        connection.peerDataAlignment = Int(request.hostDataAlignment)
    }

    private func acquireSlot() -> TargetSlot? {
        slots.take { slot in
            Task(executorPreference: target.reactor) { [self] in
                while await slot.next() { await execute(slot) }
            }
        }
    }

    private func receiveCommand(_ pdu: PDUView) throws(TransportError) {
        let command = SubmissionEntry(bytes: UnsafeRawBufferPointer(rebasing: pdu.header[8..<72]))
        submissionHead = submissionHead &+ 1
        if Int(submissionHead) >= queueDepth { submissionHead = 0 }
        guard let slot = acquireSlot() else {
            // More commands outstanding than the queue has entries: the host broke the protocol.
            throw TransportError(.invalidHeaderField, fieldInfo: 8, "more than \(queueDepth) commands outstanding")
        }
        slot.request.command = command
        slot.request.received = 0
        slot.request.transferLength = 0
        slot.request.awaitingData = false
        slot.request.dataDigestFailed = !pdu.dataDigestMatches
        switch command.dataDescriptor {
        case .none:
            guard pdu.data.isEmpty else { return respond(slot, .dataSGLLengthInvalid) }
            slot.start()
        case .inCapsule(let length):
            let limit = isAdmin || !isConnected ? NVMeWireLimits.adminInCapsuleDataBytes : transport.inCapsuleDataSize
            guard length == pdu.data.count, length <= limit else { return respond(slot, .dataSGLLengthInvalid) }
            slot.reserve(length)
            slot.buffer.bytes.copyMemory(from: pdu.data)
            slot.request.transferLength = length
            slot.start()
        case .transport(let length):
            guard pdu.data.isEmpty else { return respond(slot, .dataSGLLengthInvalid) }
            guard length <= transport.maxIOSize else {
                throw TransportError(.dataTransferLimitExceeded, "command \(command.commandID) moves \(length) bytes, limit \(transport.maxIOSize)")
            }
            slot.reserve(length)
            slot.request.transferLength = length
            if Self.transfersToController(command), length > 0 {
                slot.request.awaitingData = true
                let fields = DataPDUHeader(
                    commandID: command.commandID, transferTag: UInt16(slot.index + 1), offset: 0, length: UInt32(length))
                connection.appendPDU(dataBytes: 0) { out in
                    PDUHeaderWriter.data(.r2t, fields, flags: [], dataBytes: 0, digests: connection.digests, into: out)
                }
            } else {
                slot.start()
            }
        case .unsupported:
            respond(slot, .sglDescriptorTypeInvalid)
        }
    }

    private func receiveData(_ pdu: PDUView) throws(TransportError) {
        let fields = DataPDUHeader(header: pdu.header)
        let index = Int(fields.transferTag) - 1
        guard index >= 0, index < slots.slots.count, slots.slots[index].request.awaitingData,
            slots.slots[index].request.command.commandID == fields.commandID
        else {
            throw TransportError(
                .invalidHeaderField, fieldInfo: DataPDUHeader.transferTagFieldOffset, "H2CData for no pending transfer (tag \(fields.transferTag))")
        }
        let slot = slots.slots[index]
        let offset = Int(fields.offset), length = Int(fields.length)
        // DATAL names the data this PDU carries: never empty (an H2CData without data is a
        // malformed header, as Linux's nvmet-tcp treats it), and exactly what PLEN leaves for it.
        guard length > 0, length == pdu.data.count else {
            throw TransportError(
                .invalidHeaderField, fieldInfo: DataPDUHeader.lengthFieldOffset,
                "H2CData DATAL \(length) but the PDU carries \(pdu.data.count) bytes of data")
        }
        guard offset == slot.request.received, offset + length <= slot.request.transferLength else {
            throw TransportError(
                .dataTransferOutOfRange, fieldInfo: DataPDUHeader.offsetFieldOffset,
                "H2CData bytes \(offset)..<\(offset + length) outside the expected \(slot.request.received)..<\(slot.request.transferLength)")
        }
        UnsafeMutableRawBufferPointer(rebasing: slot.buffer.bytes[offset..<(offset + length)]).copyMemory(from: pdu.data)
        slot.request.received += length
        if !pdu.dataDigestMatches { slot.request.dataDigestFailed = true }
        if slot.request.received == slot.request.transferLength {
            slot.request.awaitingData = false
            slot.start()
        }
    }

    /// Whether a command moves data from host to controller (opcode bits 1:0 = 01).
    static func transfersToController(_ command: SubmissionEntry) -> Bool {
        let code = command.opcode == AdminOpcode.fabrics ? command.fabricsType : command.opcode
        return code & 0x3 == 0x1
    }

    // MARK: - Completion

    /// Sends the command's completion (with `dataBytes` of the slot's buffer as C2H data) and
    /// frees its slot.
    func respond(_ slot: TargetSlot, _ status: NVMeStatus, dw0: UInt32 = 0, dw1: UInt32 = 0, dataBytes: Int = 0) {
        let commandID = slot.request.command.commandID
        var needsResponse = true
        if dataBytes > 0 && status.isSuccess {
            let success = transport.c2hSuccess
            needsResponse = !success
            let fields = DataPDUHeader(commandID: commandID, offset: 0, length: UInt32(dataBytes))
            let buffer = slot.buffer.bytes
            connection.appendPDU(dataBytes: dataBytes) { out in
                PDUHeaderWriter.data(
                    .c2hData, fields, flags: success ? [.lastPDU, .success] : [.lastPDU], dataBytes: dataBytes,
                    digests: connection.digests, alignment: connection.peerDataAlignment, into: out)
            } data: { out in
                out.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[0..<dataBytes]))
            }
        }
        if needsResponse {
            let completion = CompletionEntry(
                commandID: commandID, status: status, dw0: dw0, dw1: dw1, sqHead: submissionHead, sqID: queueID)
            connection.appendPDU(dataBytes: 0) { out in
                PDUHeaderWriter.capsuleResponse(completion, digests: connection.digests, into: out)
            }
        }
        target.completedCommands.add(1, ordering: .relaxed)
        slots.giveBack(slot)
    }

    /// Completes a held Asynchronous Event Request.
    func completeEventRequest(_ slot: TargetSlot, dw0: UInt32) {
        guard !closed else { return }
        respond(slot, .success, dw0: dw0)
    }

    /// Drops a held command without answering (its controller is gone).
    func abandon(_ slot: TargetSlot) {
        guard !closed else { return }
        slots.giveBack(slot)
    }

    // MARK: - Execution

    private nonisolated(nonsending) func execute(_ slot: TargetSlot) async {
        guard !slot.request.dataDigestFailed else { return respond(slot, .transientTransportError) }
        let command = slot.request.command
        if command.opcode == AdminOpcode.fabrics { return executeFabrics(slot) }
        guard let controller, !controller.isTornDown else { return respond(slot, .commandSequenceError) }
        if isAdmin {
            executeAdmin(slot, controller)
        } else {
            await executeIO(slot, controller)
        }
    }

    // MARK: - I/O commands

    /// The namespace's channel on this queue pair.
    private func channel(_ controller: NVMfController, _ namespaceID: UInt32) -> (namespace: NVMfNamespace, channel: any IOChannel)? {
        let generation = controller.subsystem.namespaceGeneration.load(ordering: .acquiring)
        if generation != namespaceGeneration {
            channels.removeAll()
            namespaceGeneration = generation
        }
        if let entry = channels[namespaceID] { return entry }
        guard let namespace = controller.subsystem.namespace(namespaceID),
            let channel = try? namespace.descriptor.makeChannel()
        else { return nil }
        channels[namespaceID] = (namespace, channel)
        return (namespace, channel)
    }

    private nonisolated(nonsending) func executeIO(_ slot: TargetSlot, _ controller: NVMfController) async {
        guard controller.registers.isEnabled else { return respond(slot, .commandSequenceError) }
        let command = slot.request.command
        // A namespace being removed refuses new commands; its removal waits for those begun.
        guard let (namespace, channel) = channel(controller, command.namespaceID), namespace.commandStarted() else {
            return respond(slot, .invalidNamespace)
        }
        defer { namespace.commandEnded() }
        let device = namespace.device
        let blockSize = device.blockSize
        do {
            switch command.opcode {
            case IOOpcode.read, IOOpcode.write:
                let blocks = UInt64(command.blockCount)
                let bytes = Int(blocks) * blockSize
                guard slot.request.transferLength == bytes else { return respond(slot, .dataSGLLengthInvalid) }
                guard Self.inRange(command.startingLBA, blocks, device.blockCount) else { return respond(slot, .lbaOutOfRange) }
                let vector = slot.buffer.vector(byteCount: bytes)
                if command.opcode == IOOpcode.read {
                    try await channel.read(vector, offsetBlocks: command.startingLBA)
                    return respond(slot, .success, dataBytes: bytes)
                }
                try await channel.write(vector, offsetBlocks: command.startingLBA, options: command.forceUnitAccess ? .forceUnitAccess : [])
            case IOOpcode.flush:
                try await channel.flush()
            case IOOpcode.writeZeroes:
                let blocks = UInt64(command.blockCount)
                guard Self.inRange(command.startingLBA, blocks, device.blockCount) else { return respond(slot, .lbaOutOfRange) }
                let deallocate = command.cdw12 & (1 << 25) != 0
                if deallocate && device.supportedIOTypes.contains(.unmap) {
                    try await channel.unmap(offsetBlocks: command.startingLBA, blockCount: blocks)
                } else {
                    try await channel.writeZeroes(offsetBlocks: command.startingLBA, blockCount: blocks)
                }
            case IOOpcode.datasetManagement:
                let ranges = Int(command.cdw10 & 0xFF) + 1
                guard slot.request.transferLength >= ranges * 16 else { return respond(slot, .dataSGLLengthInvalid) }
                guard command.cdw11 & (1 << 2) != 0 else { break }  // only deallocate does anything
                let data = UnsafeRawBufferPointer(slot.buffer.bytes)
                for range in 0..<ranges {
                    let blocks = UInt64(data.loadUnaligned(fromByteOffset: range * 16 + 4, as: UInt32.self).littleEndian)
                    let start = data.loadUnaligned(fromByteOffset: range * 16 + 8, as: UInt64.self).littleEndian
                    guard blocks > 0 else { continue }
                    guard Self.inRange(start, blocks, device.blockCount) else { return respond(slot, .lbaOutOfRange) }
                    try await channel.unmap(offsetBlocks: start, blockCount: blocks)
                }
            default:
                return respond(slot, .invalidOpcode)
            }
            respond(slot, .success)
        } catch {
            respond(slot, Self.status(for: error, opcode: command.opcode))
        }
    }

    static func inRange(_ start: UInt64, _ blocks: UInt64, _ total: UInt64) -> Bool {
        let (end, overflow) = start.addingReportingOverflow(blocks)
        return !overflow && end <= total
    }

    /// The NVMe status for a block-layer error.
    static func status(for error: any Error, opcode: UInt8) -> NVMeStatus {
        guard let error = error as? BlockError else { return .internalError }
        switch error.code {
        case .outOfRange: return .lbaOutOfRange
        case .readOnly: return .namespaceWriteProtected
        case .notSupported: return .invalidOpcode
        case .invalidArgument: return .invalidField
        case .ioError, .corrupted: return opcode == IOOpcode.read ? .unrecoveredReadError : .writeFault
        case .noSpace: return NVMeStatus(type: 0, code: 0x81)  // capacity exceeded
        case .closed, .notFound: return .namespaceNotReady
        default: return .internalError
        }
    }
}
