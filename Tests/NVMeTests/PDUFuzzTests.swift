// Fuzzing the PDU framer with mutated valid PDUs of every type, in both roles, with and without
// digests: each input frames as a PDU whose parts lie inside the input, asks for more bytes, or
// throws a TransportError; nothing traps.

import NVMeWire
import StorageKit
import TestSupport
import Testing

@Suite struct PDUFuzzTests {
    /// Valid PDUs a `role` receives with `digests` negotiated (ICReq/ICResp only before).
    static func corpus(role: PDUFramer.Role, digests: DigestOptions) -> [[UInt8]] {
        func pdu(_ data: [UInt8] = [], _ write: (UnsafeMutableRawBufferPointer) -> Int) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 512)
            var bytes = Array(out[0..<out.withUnsafeMutableBytes(write)]) + data
            if !data.isEmpty && digests.contains(.data) { bytes += withUnsafeBytes(of: CRC32C.checksum(data).littleEndian) { Array($0) } }
            return bytes
        }
        let data = (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let fields = DataPDUHeader(commandID: 5, transferTag: 1, offset: 0, length: 512)
        let empty = DataPDUHeader(commandID: 5, transferTag: 1, offset: 0, length: 0)
        if role == .controller {
            var write = SubmissionEntry(opcode: IOOpcode.write, commandID: 5, namespaceID: 1)
            write.setInCapsuleData(length: 512)
            var read = SubmissionEntry(opcode: IOOpcode.read, commandID: 6, namespaceID: 1)
            read.setTransportData(length: 4096)
            return [
                pdu(data) { PDUHeaderWriter.capsuleCommand(write, dataBytes: 512, digests: digests, into: $0) },
                pdu { PDUHeaderWriter.capsuleCommand(read, dataBytes: 0, digests: digests, into: $0) },
                pdu(data) { PDUHeaderWriter.data(.h2cData, fields, flags: [.lastPDU], dataBytes: 512, digests: digests, into: $0) },
                pdu { PDUHeaderWriter.data(.h2cData, empty, flags: [.lastPDU], dataBytes: 0, digests: digests, into: $0) },
                TermReq(status: 1, fieldInfo: 4, offendingHeader: [UInt8](repeating: 4, count: 24)).encode(fromController: false),
                TermReq(status: 1, fieldInfo: 4, offendingHeader: []).encode(fromController: false),
            ]
        }
        return [
            pdu { PDUHeaderWriter.capsuleResponse(CompletionEntry(commandID: 5, status: .success), digests: digests, into: $0) },
            pdu(data) { PDUHeaderWriter.data(.c2hData, fields, flags: [.lastPDU, .success], dataBytes: 512, digests: digests, alignment: 3, into: $0) },
            pdu { PDUHeaderWriter.data(.c2hData, empty, flags: [.lastPDU], dataBytes: 0, digests: digests, into: $0) },
            pdu { PDUHeaderWriter.data(.r2t, fields, flags: [], dataBytes: 0, digests: digests, into: $0) },
            pdu { PDUHeaderWriter.data(.r2t, empty, flags: [], dataBytes: 0, digests: digests, into: $0) },
            TermReq(status: 2, fieldInfo: 0, offendingHeader: [UInt8](repeating: 4, count: 128)).encode(fromController: true),
        ]
    }

    /// Frames `bytes`: nil for "needs more", the PDU's length, or a thrown TransportError.
    static func frame(_ bytes: [UInt8], _ framer: PDUFramer) throws -> Int? {
        try bytes.withUnsafeBytes { raw -> Int? in
            guard let view = try framer.frame(raw) else { return nil }
            #expect(view.length <= raw.count && view.header.count == view.type.headerLength)
            #expect(view.data.count <= view.length - view.header.count)
            if view.data.count > 0 {
                let start = view.data.baseAddress! - raw.baseAddress!
                #expect(start >= view.header.count && start + view.data.count <= view.length)
            }
            return view.length
        }
    }

    @Test func everyValidPDUFramesWholeAndZeroLengthDataIsEmpty() throws {
        for role in [PDUFramer.Role.controller, .host] {
            for digests in [DigestOptions(), [.header], [.data], [.header, .data]] {
                var framer = PDUFramer(role: role)
                framer.initialized = true
                framer.digests = digests
                for bytes in Self.corpus(role: role, digests: digests) {
                    #expect(try Self.frame(bytes, framer) == bytes.count)
                    #expect(try Self.frame(Array(bytes.dropLast()), framer) == nil)
                }
                // A data PDU whose PLEN ends at its header carries no data: an empty view.
                let empty = Self.corpus(role: role, digests: digests)[role == .controller ? 3 : 2]
                try empty.withUnsafeBytes { raw in
                    let view = try #require(try framer.frame(raw))
                    #expect(view.data.isEmpty && view.dataDigestMatches)
                }
            }
        }
    }

    @Test func mutatedPDUsOfEveryKindNeverCrashTheFramer() {
        var random = SeededRandom(seed: 1414)
        var outcomes = (framed: 0, partial: 0, refused: 0)
        for role in [PDUFramer.Role.controller, .host] {
            for digests in [DigestOptions(), [.header, .data]] {
                var framer = PDUFramer(role: role)
                framer.initialized = true
                framer.digests = digests
                let corpus = Self.corpus(role: role, digests: digests)
                for _ in 0..<5_000 {
                    let original = corpus[Int.random(in: 0..<corpus.count, using: &random)]
                    let bytes =
                        switch Int.random(in: 0..<4, using: &random) {
                        case 0: ByteMutator.truncate(original, using: &random)
                        case 1: ByteMutator.random(count: Int.random(in: 0..<300, using: &random), using: &random)
                        default: ByteMutator.mutate(original, using: &random)
                        }
                    do {
                        if try Self.frame(bytes, framer) == nil { outcomes.partial += 1 } else { outcomes.framed += 1 }
                    } catch {
                        #expect(error is TransportError)
                        outcomes.refused += 1
                    }
                }
            }
        }
        #expect(outcomes.framed > 0 && outcomes.partial > 0 && outcomes.refused > 0, "\(outcomes)")
    }
}
