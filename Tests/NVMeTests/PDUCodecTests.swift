import NVMeWire
import StorageKit
import Testing

@Suite struct PDUCodecTests {
    /// Frames `bytes` with `framer`, feeding one more byte at a time: no PDU until the last byte.
    func dripFeed(_ bytes: [UInt8], _ framer: PDUFramer) throws -> (type: PDUType, header: [UInt8], data: [UInt8], digestOK: Bool) {
        for end in 0..<bytes.count {
            let partial = try bytes[0..<end].withUnsafeBytes { try framer.frame($0) }
            #expect(partial == nil, "a PDU was framed from \(end) of \(bytes.count) bytes")
        }
        let whole = try bytes.withUnsafeBytes { raw -> (PDUType, [UInt8], [UInt8], Bool, Int)? in
            guard let view = try framer.frame(raw) else { return nil }
            return (view.type, Array(view.header), Array(view.data), view.dataDigestMatches, view.length)
        }
        let pdu = try #require(whole)
        #expect(pdu.4 == bytes.count)
        return (pdu.0, pdu.1, pdu.2, pdu.3)
    }

    func encode(_ write: (UnsafeMutableRawBufferPointer) -> Int, data: [UInt8], digests: DigestOptions) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 512)
        let length = out.withUnsafeMutableBytes(write)
        var bytes = Array(out[0..<length]) + data
        if !data.isEmpty && digests.contains(.data) {
            let crc = CRC32C.checksum(data)
            bytes += withUnsafeBytes(of: crc.littleEndian) { Array($0) }
        }
        return bytes
    }

    @Test func initializeRoundTrip() throws {
        let request = ICReq(hostDataAlignment: 3, digests: [.header, .data], maxR2T: 0)
        let framed = try dripFeed(request.encode(), PDUFramer(role: .controller))
        #expect(framed.type == .icReq)
        #expect(framed.header.withUnsafeBytes { ICReq(header: $0) } == request)
        let response = ICResp(controllerDataAlignment: 0, digests: [.header], maxH2CDataBytes: 131_072)
        let back = try dripFeed(response.encode(), PDUFramer(role: .host))
        #expect(back.header.withUnsafeBytes { ICResp(header: $0) } == response)
    }

    @Test(arguments: [DigestOptions(), [.header], [.data], [.header, .data]])
    func capsuleCommandRoundTrip(digests: DigestOptions) throws {
        var command = SubmissionEntry(opcode: IOOpcode.write, commandID: 0x1234, namespaceID: 1)
        command.cdw10 = 0xDEAD_BEEF
        command.cdw11 = 1
        command.cdw12 = 7 | 1 << 30
        command.setInCapsuleData(length: 4096)
        let data = (0..<4096).map { UInt8(truncatingIfNeeded: $0 * 13) }
        let bytes = encode({ PDUHeaderWriter.capsuleCommand(command, dataBytes: data.count, digests: digests, into: $0) }, data: data, digests: digests)
        var framer = PDUFramer(role: .controller)
        framer.initialized = true
        framer.digests = digests
        let framed = try dripFeed(bytes, framer)
        #expect(framed.type == .capsuleCmd)
        #expect(framed.data == data)
        #expect(framed.digestOK)
        let decoded = framed.header.withUnsafeBytes { SubmissionEntry(bytes: UnsafeRawBufferPointer(rebasing: $0[8..<72])) }
        #expect(decoded == command)
        #expect(decoded.startingLBA == 0x1_DEAD_BEEF)
        #expect(decoded.blockCount == 8)
        #expect(decoded.forceUnitAccess)
        #expect(decoded.dataDescriptor == .inCapsule(length: 4096))
    }

    @Test func completionAndDataHeadersRoundTrip() throws {
        let completion = CompletionEntry(commandID: 9, status: .lbaOutOfRange, dw0: 5, dw1: 6, sqHead: 3, sqID: 2)
        let bytes = encode({ PDUHeaderWriter.capsuleResponse(completion, digests: [.header], into: $0) }, data: [], digests: [.header])
        var framer = PDUFramer(role: .host)
        framer.initialized = true
        framer.digests = [.header]
        let framed = try dripFeed(bytes, framer)
        #expect(framed.header.withUnsafeBytes { CompletionEntry(bytes: UnsafeRawBufferPointer(rebasing: $0[8..<24])) } == completion)
        #expect(NVMeStatus(field: NVMeStatus.lbaOutOfRange.field) == .lbaOutOfRange)

        let fields = DataPDUHeader(commandID: 4, transferTag: 0, offset: 8192, length: 512)
        let data = [UInt8](repeating: 0xAB, count: 512)
        // Host data alignment 7: data starts at a multiple of 32 bytes.
        let c2h = encode({
            PDUHeaderWriter.data(.c2hData, fields, flags: [.lastPDU, .success], dataBytes: 512, digests: [.data], alignment: 7, into: $0)
        }, data: data, digests: [.data])
        framer.digests = [.data]
        let framedData = try dripFeed(c2h, framer)
        #expect(c2h[3] == 32)
        #expect(framedData.data == data)
        #expect(framedData.header.withUnsafeBytes { DataPDUHeader(header: $0) } == fields)
    }

    @Test func dataDigestMismatchIsReportedNotFatal() throws {
        var command = SubmissionEntry(opcode: IOOpcode.write, commandID: 1, namespaceID: 1)
        command.setInCapsuleData(length: 512)
        var bytes = encode({ PDUHeaderWriter.capsuleCommand(command, dataBytes: 512, digests: [.data], into: $0) },
            data: [UInt8](repeating: 1, count: 512), digests: [.data])
        bytes[100] ^= 0xFF
        var framer = PDUFramer(role: .controller)
        framer.initialized = true
        framer.digests = [.data]
        let framed = try dripFeed(bytes, framer)
        #expect(!framed.digestOK)
    }

    func expectFatal(_ bytes: [UInt8], _ framer: PDUFramer, _ status: FatalErrorStatus, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try bytes.withUnsafeBytes { try framer.frame($0) }
            Issue.record("no error for \(status)", sourceLocation: sourceLocation)
        } catch {
            #expect((error as? TransportError)?.status == status, "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func everyDocumentedErrorIsDetected() throws {
        var ready = PDUFramer(role: .controller)
        ready.initialized = true
        let command = SubmissionEntry(opcode: IOOpcode.read, commandID: 1, namespaceID: 1)
        let good = encode({ PDUHeaderWriter.capsuleCommand(command, dataBytes: 0, digests: [], into: $0) }, data: [], digests: [])

        var unknownType = good
        unknownType[0] = 0x0A
        expectFatal(unknownType, ready, .invalidHeaderField)

        var wrongDirection = good
        wrongDirection[0] = PDUType.capsuleResp.rawValue
        expectFatal(wrongDirection, ready, .invalidHeaderField)

        var badHeaderLength = good
        badHeaderLength[2] = 24
        expectFatal(badHeaderLength, ready, .invalidHeaderField)

        var shortLength = good
        shortLength[4] = 10
        expectFatal(shortLength, ready, .invalidHeaderField)

        var hugeLength = good
        hugeLength.replaceSubrange(4..<8, with: [0xFF, 0xFF, 0xFF, 0x7F])
        expectFatal(hugeLength, ready, .invalidHeaderField)

        // A command before the connection is initialized, and a second ICReq after.
        expectFatal(good, PDUFramer(role: .controller), .pduSequenceError)
        expectFatal(ICReq().encode(), ready, .pduSequenceError)

        // Header digest flag without negotiation; and a wrong header digest.
        var unexpectedDigest = good
        unexpectedDigest[1] = PDUFlags.headerDigest.rawValue
        expectFatal(unexpectedDigest, ready, .invalidHeaderField)
        var digested = ready
        digested.digests = [.header]
        var corrupt = encode({ PDUHeaderWriter.capsuleCommand(command, dataBytes: 0, digests: [.header], into: $0) }, data: [], digests: [.header])
        corrupt[72] ^= 1
        expectFatal(corrupt, digested, .headerDigestError)

        // Data beyond the limit, and a data offset inside the header.
        var big = SubmissionEntry(opcode: IOOpcode.write, commandID: 1, namespaceID: 1)
        big.setInCapsuleData(length: 8192)
        var limited = ready
        limited.maxDataBytes = 4096
        let oversize = encode({ PDUHeaderWriter.capsuleCommand(big, dataBytes: 8192, digests: [], into: $0) }, data: [UInt8](repeating: 0, count: 8192), digests: [])
        expectFatal(oversize, limited, .dataTransferLimitExceeded)
        var badOffset = oversize
        badOffset[3] = 8
        expectFatal(badOffset, ready, .invalidHeaderField)

        // A PDU that never carries data, with data.
        var r2tWithData = [UInt8](repeating: 0, count: 24 + 16)
        r2tWithData[0] = PDUType.r2t.rawValue
        r2tWithData[2] = 24
        r2tWithData[3] = 24
        r2tWithData[4] = 40
        var host = PDUFramer(role: .host)
        host.initialized = true
        expectFatal(r2tWithData, host, .invalidHeaderField)
    }

    @Test func fuzzedStreamsNeverCrashTheFramer() throws {
        var random = SeededRandom(seed: 42)
        var framer = PDUFramer(role: .controller)
        framer.initialized = true
        var command = SubmissionEntry(opcode: IOOpcode.write, commandID: 1, namespaceID: 1)
        command.setInCapsuleData(length: 64)
        let good = encode({ PDUHeaderWriter.capsuleCommand(command, dataBytes: 64, digests: [], into: $0) }, data: [UInt8](repeating: 3, count: 64), digests: [])
        var outcomes = [0, 0, 0]
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(random.next() % 300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                bytes = good
                for _ in 0..<(1 + Int(random.next() % 4)) {
                    bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            do {
                let framed = try bytes.withUnsafeBytes { raw -> Int? in
                    guard let view = try framer.frame(raw) else { return nil }
                    #expect(view.length <= raw.count)
                    #expect(view.data.count <= view.length)
                    return view.length
                }
                outcomes[framed == nil ? 0 : 1] += 1
            } catch {
                outcomes[2] += 1
            }
        }
        #expect(outcomes[2] > 0 && outcomes[1] > 0)
    }

    @Test func identifyAndLogPagesRoundTrip() throws {
        let identity = ControllerIdentity(
            serialNumber: "SN123", modelNumber: "Hornbill", firmwareRevision: "24.09", controllerID: 7,
            subsystemNQN: "nqn.2023-01.io.hornbill:x", maxNamespaces: 32)
        let bytes = identity.encode()
        #expect(bytes.count == 4096)
        #expect(bytes.withUnsafeBytes { ControllerIdentity(bytes: $0) } == identity)
        #expect(bytes[77] == 5)  // MDTS 128 KiB in 4 KiB pages
        #expect(bytes[1792] == 4)  // IOCCSZ (64 + 4096) / 16 = 260 = 0x104
        #expect(bytes[1793] == 1)

        let namespace = NamespaceIdentity(blockCount: 1000, blockSize: 4096, uuid: Array(1...16))
        let decoded = namespace.encode().withUnsafeBytes { NamespaceIdentity(bytes: $0) }
        #expect(decoded.blockCount == 1000 && decoded.blockSize == 4096 && decoded.nguid == Array(1...16))
        #expect(namespace.descriptorList().withUnsafeBytes { NamespaceIdentity.uuid(inDescriptorList: $0) } == Array(1...16))

        let entry = DiscoveryLogEntry(
            subtype: DiscoveryLogEntry.subtypeNVMe, portID: 0, adminQueueSize: 128, serviceID: "4420",
            subsystemNQN: "nqn.2023-01.io.hornbill:x", address: "10.0.0.1")
        let log = LogPages.discovery(generation: 3, entries: [entry, entry])
        let parsed = try #require(log.withUnsafeBytes { LogPages.parseDiscovery($0) })
        #expect(parsed.generation == 3 && parsed.records == 2 && parsed.entries == [entry, entry])

        var registers = ControllerRegisters()
        #expect(registers.get(offset: PropertyOffset.capabilities, wide: true)! & 0xFFFF == 127)
        #expect(registers.set(offset: PropertyOffset.configuration, value: 1 | 6 << 16 | 4 << 20, wide: false) == .enabled)
        #expect(registers.get(offset: PropertyOffset.status, wide: false) == 1)
        #expect(registers.set(offset: PropertyOffset.configuration, value: 1 | 1 << 14, wide: false) == .shutDown)
        #expect(registers.get(offset: PropertyOffset.status, wide: false)! & 0xC == 0x8)
        #expect(registers.set(offset: PropertyOffset.capabilities, value: 0, wide: true) == nil)
    }
}
