import FUSEBridge
import Testing

@Suite struct FUSEWireTests {
    private func header(length: Int, opcode: UInt32, unique: UInt64 = 9, node: UInt64 = 2) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: max(length, 40))
        bytes.withUnsafeMutableBytes { out in
            out.storeBytes(of: UInt32(length).littleEndian, toByteOffset: 0, as: UInt32.self)
            out.storeBytes(of: opcode.littleEndian, toByteOffset: 4, as: UInt32.self)
            out.storeBytes(of: unique.littleEndian, toByteOffset: 8, as: UInt64.self)
            out.storeBytes(of: node.littleEndian, toByteOffset: 16, as: UInt64.self)
        }
        return bytes
    }

    @Test func aHeaderIsReadOnlyWhenItsLengthIsWhatWasRead() {
        let good = header(length: 80, opcode: 15)
        let parsed = good.withUnsafeBytes { FUSERequestHeader($0) }
        #expect(parsed?.opcode == 15 && parsed?.unique == 9 && parsed?.nodeID == 2 && parsed?.length == 80)
        #expect(good.withUnsafeBytes { FUSERequestHeader(UnsafeRawBufferPointer(rebasing: $0[0..<39])) } == nil)
        let lying = header(length: 200, opcode: 15) + [UInt8](repeating: 0, count: 40)
        #expect(lying.withUnsafeBytes { FUSERequestHeader(UnsafeRawBufferPointer(rebasing: $0[0..<80])) } == nil)
    }

    @Test func bodiesShorterThanTheirStructAreRefused() {
        let short = [UInt8](repeating: 0xFF, count: 15)
        short.withUnsafeBytes { body in
            #expect(FUSETransfer(body) == nil)
            #expect(FUSEFallocate(body) == nil)
            #expect(FUSEInit(body) == nil)
        }
    }

    /// Random and cut-short input never traps a decoder.
    @Test func randomBytesNeverTrapTheDecoders() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...120, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.withUnsafeBytes { raw in
                _ = FUSERequestHeader(raw)
                _ = FUSETransfer(raw)
                _ = FUSEFallocate(raw)
                _ = FUSEInit(raw)
            }
        }
    }

    @Test func theInitReplyTakesTheLowerMinorAndOnlyOfferedFlags() {
        var out = [UInt8](repeating: 0xAA, count: 64)
        let kernel = [7, 45, 131_072, 0x73ff_fffb].flatMap { (value: UInt32) in withUnsafeBytes(of: value.littleEndian, Array.init) }
        let offered = kernel.withUnsafeBytes { FUSEInit($0) }!
        let length = out.withUnsafeMutableBytes {
            FUSEReplies.initialize($0, kernel: offered, maxWrite: 1 << 20, maxPages: 256, maxBackground: 128)
        }
        #expect(length == 64)
        out.withUnsafeBytes { reply in
            #expect(reply.load(fromByteOffset: 0, as: UInt32.self) == 7)
            #expect(reply.load(fromByteOffset: 4, as: UInt32.self) == FUSEWire.minorVersion)
            #expect(reply.load(fromByteOffset: 12, as: UInt32.self) & ~offered.flags == 0)
            #expect(reply.load(fromByteOffset: 20, as: UInt32.self) == 1 << 20)
            #expect(reply.loadUnaligned(fromByteOffset: 28, as: UInt16.self) == 256)
        }
    }

    @Test func aDirectoryListingFitsWhatWasAskedFor() {
        var out = [UInt8](repeating: 0, count: 4096)
        let all = out.withUnsafeMutableBytes { FUSEReplies.directory($0, fileName: "volume", offset: 0, size: 4096) }
        #expect(all == 32 + 32 + 32)
        let fromTwo = out.withUnsafeMutableBytes { FUSEReplies.directory($0, fileName: "volume", offset: 2, size: 4096) }
        #expect(fromTwo == 32)
        let tooSmall = out.withUnsafeMutableBytes { FUSEReplies.directory($0, fileName: "volume", offset: 0, size: 31) }
        #expect(tooSmall == 0)
    }
}
