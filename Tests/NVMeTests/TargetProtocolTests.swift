import BlockCore
import BlockDevices
import NVMeTCP
import NVMeWire
import StorageKit
import Testing

/// A hostile or broken host meets the target: it gets a C2HTermReq or an error status, the
/// connection ends, and the target keeps serving everyone else.
@Suite struct TargetProtocolTests {
    let fabric = NVMeFabric.shared
    var port: UInt16 { UInt16(fabric.address.serviceID)! }

    /// The target still serves a real host.
    func expectStillServing() async throws {
        let device = try MallocDevice(name: "Malloc-alive", blockCount: 16, blockSize: 512)
        let subsystem = try fabric.export(device)
        let controller = try await fabric.attach(subsystem)
        let buffer = IOBuffer(byteCount: 512)
        try await controller.namespaces[0].makeChannel().read(buffer.vector(), offsetBlocks: 0)
        await controller.detach()
    }

    func expectTermination(
        _ client: RawNVMeClient, _ status: FatalErrorStatus, field: UInt32? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let pdu = try await client.receivePDU()
        #expect(pdu?.type == .c2hTermReq, sourceLocation: sourceLocation)
        if let pdu {
            let term = pdu.header.withUnsafeBytes { TermReq(header: $0, data: UnsafeRawBufferPointer(start: nil, count: 0)) }
            #expect(term.status == status.rawValue, sourceLocation: sourceLocation)
            if let field { #expect(term.fieldInfo == field, sourceLocation: sourceLocation) }
        }
        #expect(await client.waitForClose(timeout: .seconds(5)), sourceLocation: sourceLocation)
    }

    /// An admin queue with Set Features (512 bytes by R2T) outstanding; returns the R2T's tag.
    func awaitingData(_ nqn: String, commandID: UInt16 = 3) async throws -> (RawNVMeClient, UInt16) {
        let client = try await RawNVMeClient.connect(port: port)
        _ = try await client.connectAdmin(subsystemNQN: nqn)
        var command = SubmissionEntry(opcode: AdminOpcode.setFeatures, commandID: commandID)
        command.cdw10 = UInt32(FeatureID.hostBehaviorSupport)
        command.setTransportData(length: 512)
        client.sendCommand(command)
        let r2t = try #require(try await client.receivePDU())
        #expect(r2t.type == .r2t)
        return (client, r2t.header.withUnsafeBytes { DataPDUHeader(header: $0) }.transferTag)
    }

    /// An H2CData PDU for command 3 declaring `declared` bytes and carrying `data`.
    func h2cData(tag: UInt16, offset: UInt32 = 0, declared: UInt32, data: [UInt8], last: Bool = true) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        let fields = DataPDUHeader(commandID: 3, transferTag: tag, offset: offset, length: declared)
        let length = out.withUnsafeMutableBytes {
            PDUHeaderWriter.data(.h2cData, fields, flags: last ? [.lastPDU] : [], dataBytes: data.count, digests: [], into: $0)
        }
        return Array(out[0..<length]) + data
    }

    @Test func theTermReqCarriesTheHeaderOfThePDUInError() async throws {
        let device = try MallocDevice(name: "Malloc-offending", blockCount: 64, blockSize: 512)
        let subsystem = try fabric.export(device)
        let client = try await RawNVMeClient.connect(port: port)
        _ = try await client.connectAdmin(subsystemNQN: subsystem.nqn)
        // A good command and a bad PDU in one send: the bad one is framed after the good one.
        var out = [UInt8](repeating: 0, count: 128)
        let length = out.withUnsafeMutableBytes {
            PDUHeaderWriter.capsuleCommand(SubmissionEntry(opcode: AdminOpcode.keepAlive, commandID: 5), dataBytes: 0, digests: [], into: $0)
        }
        let bad: [UInt8] = [0x0B, 0, 24, 0, 24, 0, 0, 0] + [UInt8](repeating: 0xEE, count: 16)
        client.send(Array(out[0..<length]) + bad)
        var termination: RawNVMeClient.PDU?
        while let pdu = try await client.receivePDU(), termination == nil {
            if pdu.type == .c2hTermReq { termination = pdu }
        }
        let term = try #require(termination)
        #expect(term.data == bad, "offending header \(term.data)")
        #expect(await client.waitForClose(timeout: .seconds(5)))
    }

    @Test func zeroLengthDataPDUsAreFatalTransportErrors() async throws {
        let device = try MallocDevice(name: "Malloc-zero", blockCount: 64, blockSize: 512)
        let subsystem = try fabric.export(device)

        // H2CData with DATAL 0 and no data (PLEN = HLEN): an invalid header field, DATAL's offset.
        let (first, tag) = try await awaitingData(subsystem.nqn)
        first.send(h2cData(tag: tag, declared: 0, data: []))
        try await expectTermination(first, .invalidHeaderField, field: DataPDUHeader.lengthFieldOffset)

        // DATAL 0 but data in the PDU, and DATAL above the data carried: the same.
        let (second, secondTag) = try await awaitingData(subsystem.nqn)
        second.send(h2cData(tag: secondTag, declared: 0, data: [UInt8](repeating: 1, count: 512)))
        try await expectTermination(second, .invalidHeaderField, field: DataPDUHeader.lengthFieldOffset)
        let (third, thirdTag) = try await awaitingData(subsystem.nqn)
        third.send(h2cData(tag: thirdTag, declared: 512, data: [UInt8](repeating: 1, count: 256)))
        try await expectTermination(third, .invalidHeaderField, field: DataPDUHeader.lengthFieldOffset)

        // Data past the transfer: out of range at DATAO.
        let (fourth, fourthTag) = try await awaitingData(subsystem.nqn)
        fourth.send(h2cData(tag: fourthTag, offset: 256, declared: 512, data: [UInt8](repeating: 1, count: 512)))
        try await expectTermination(fourth, .dataTransferOutOfRange, field: DataPDUHeader.offsetFieldOffset)

        // Two halves in order complete the command.
        let (fifth, fifthTag) = try await awaitingData(subsystem.nqn)
        fifth.send(h2cData(tag: fifthTag, declared: 256, data: [UInt8](repeating: 1, count: 256), last: false))
        fifth.send(h2cData(tag: fifthTag, offset: 256, declared: 256, data: [UInt8](repeating: 1, count: 256)))
        #expect(try await fifth.receiveCompletion()?.status == .success)

        // Commands whose data section is empty where data was expected get an error status; the
        // queue lives on.
        var connect = SubmissionEntry.connect(commandID: 1, queueID: 0, queueSize: 32, keepAliveMilliseconds: 0)
        connect.setInCapsuleData(length: 0)
        let sixth = try await RawNVMeClient.connect(port: port)
        try await sixth.initialize()
        sixth.sendCommand(connect)
        #expect(try await sixth.receiveCompletion()?.status == .dataSGLLengthInvalid)
        _ = try await sixth.connectAdminAgain(subsystemNQN: subsystem.nqn)
        var identify = SubmissionEntry(opcode: AdminOpcode.identify, commandID: 9)
        identify.cdw10 = 1
        identify.setTransportData(length: 0)
        sixth.sendCommand(identify)
        #expect(try await sixth.receiveCompletion()?.status == .dataSGLLengthInvalid)
        var features = SubmissionEntry(opcode: AdminOpcode.setFeatures, commandID: 10)
        features.cdw10 = UInt32(FeatureID.hostBehaviorSupport)
        features.setTransportData(length: 0)
        sixth.sendCommand(features)
        #expect(try await sixth.receiveCompletion()?.status == .success)
        sixth.sendCommand(SubmissionEntry(opcode: AdminOpcode.keepAlive, commandID: 11))
        #expect(try await sixth.receiveCompletion()?.status == .success)

        // An H2CTermReq without data (PLEN 24) ends the connection quietly.
        sixth.send(TermReq(status: 1, fieldInfo: 0, offendingHeader: []).encode(fromController: false))
        #expect(await sixth.waitForClose(timeout: .seconds(5)))
        try await expectStillServing()
    }

    @Test func commandBeforeInitializationIsASequenceError() async throws {
        let client = try await RawNVMeClient.connect(port: port)
        client.sendCommand(SubmissionEntry(opcode: AdminOpcode.keepAlive, commandID: 1))
        try await expectTermination(client, .pduSequenceError)
        try await expectStillServing()
    }

    @Test func unknownPDUTypeAndBadHeaderLength() async throws {
        let client = try await RawNVMeClient.connect(port: port)
        try await client.initialize()
        client.send([0x0B, 0, 24, 0, 24, 0, 0, 0] + [UInt8](repeating: 0, count: 16))
        try await expectTermination(client, .invalidHeaderField)

        let second = try await RawNVMeClient.connect(port: port)
        try await second.initialize()
        var bytes = [UInt8](repeating: 0, count: 72)
        bytes[0] = PDUType.capsuleCmd.rawValue
        bytes[2] = 64
        bytes[4] = 72
        second.send(bytes)
        try await expectTermination(second, .invalidHeaderField)
        try await expectStillServing()
    }

    @Test func headerDigestErrorEndsTheConnection() async throws {
        let client = try await RawNVMeClient.connect(port: port)
        try await client.initialize(digests: [.header])
        var out = [UInt8](repeating: 0, count: 128)
        let length = out.withUnsafeMutableBytes {
            PDUHeaderWriter.capsuleCommand(SubmissionEntry(opcode: AdminOpcode.keepAlive, commandID: 1), dataBytes: 0, digests: [.header], into: $0)
        }
        out[72] ^= 0x55
        client.send(Array(out[0..<length]))
        try await expectTermination(client, .headerDigestError)
    }

    @Test func writeBeyondMaxIOSizeAndDataOutsideTheTransfer() async throws {
        let device = try MallocDevice(name: "Malloc-r2t", blockCount: 1024, blockSize: 512)
        let subsystem = try fabric.export(device)
        let client = try await RawNVMeClient.connect(port: port)
        _ = try await client.connectAdmin(subsystemNQN: subsystem.nqn)
        var write = SubmissionEntry(opcode: AdminOpcode.setFeatures, commandID: 2)
        write.setTransportData(length: 1 << 20)
        client.sendCommand(write)
        try await expectTermination(client, .dataTransferLimitExceeded)

        // Set Features with 512 bytes by R2T; the host answers with data past the transfer.
        let second = try await RawNVMeClient.connect(port: port)
        _ = try await second.connectAdmin(subsystemNQN: subsystem.nqn)
        var command = SubmissionEntry(opcode: AdminOpcode.setFeatures, commandID: 3)
        command.cdw10 = UInt32(FeatureID.hostBehaviorSupport)
        command.setTransportData(length: 512)
        second.sendCommand(command)
        let r2t = try #require(try await second.receivePDU())
        #expect(r2t.type == .r2t)
        let fields = r2t.header.withUnsafeBytes { DataPDUHeader(header: $0) }
        #expect(fields.commandID == 3 && fields.offset == 0 && fields.length == 512)
        var out = [UInt8](repeating: 0, count: 64)
        let bad = DataPDUHeader(commandID: 3, transferTag: fields.transferTag, offset: 256, length: 512)
        let length = out.withUnsafeMutableBytes { PDUHeaderWriter.data(.h2cData, bad, flags: [.lastPDU], dataBytes: 512, digests: [], into: $0) }
        second.send(Array(out[0..<length]) + [UInt8](repeating: 0, count: 512))
        try await expectTermination(second, .dataTransferOutOfRange)
        try await expectStillServing()
    }

    @Test func badCommandsGetErrorStatusesAndTheQueueLives() async throws {
        let device = try MallocDevice(name: "Malloc-status", blockCount: 64, blockSize: 512)
        let subsystem = try fabric.export(device)
        let client = try await RawNVMeClient.connect(port: port)
        _ = try await client.connectAdmin(subsystemNQN: subsystem.nqn)
        client.sendCommand(SubmissionEntry(opcode: 0x55, commandID: 4))
        #expect(try await client.receiveCompletion()?.status == .invalidOpcode)
        var identify = SubmissionEntry(opcode: AdminOpcode.identify, commandID: 5)
        identify.cdw10 = 0x42
        identify.setTransportData(length: 4096)
        client.sendCommand(identify)
        #expect(try await client.receiveCompletion()?.status == .invalidField)
        var log = SubmissionEntry(opcode: AdminOpcode.getLogPage, commandID: 6)
        log.cdw10 = 0x7E | (127 << 16)
        log.setTransportData(length: 512)
        client.sendCommand(log)
        #expect(try await client.receiveCompletion()?.status == .invalidLogPage)
        client.sendCommand(SubmissionEntry(opcode: AdminOpcode.keepAlive, commandID: 7))
        #expect(try await client.receiveCompletion()?.status == .success)
    }

    @Test func connectToUnknownSubsystemIsRefused() async throws {
        let client = try await RawNVMeClient.connect(port: port)
        do {
            _ = try await client.connectAdmin(subsystemNQN: "nqn.2023-01.io.hornbill:nobody")
            Issue.record("connect succeeded")
        } catch {}
        try await expectStillServing()
    }

    @Test func fuzzedStreamsDoNotStopTheTarget() async throws {
        var random = SeededRandom(seed: 7)
        for round in 0..<40 {
            let client = try await RawNVMeClient.connect(port: port)
            if round % 2 == 1 { try await client.initialize() }
            var bytes = [UInt8](repeating: 0, count: 64 + Int(random.next() % 2000))
            bytes.withUnsafeMutableBytes { random.fill($0) }
            if round % 4 == 1 {
                // Mostly well-formed: a plausible CapsuleCmd header with random fields.
                bytes[0] = PDUType.capsuleCmd.rawValue
                bytes[1] = 0
                bytes[2] = 72
                bytes[3] = 0
                bytes.replaceSubrange(4..<8, with: [72, 0, 0, 0])
            }
            client.send(bytes)
            _ = await client.waitForClose(timeout: .milliseconds(300))
        }
        try await expectStillServing()
    }
}
