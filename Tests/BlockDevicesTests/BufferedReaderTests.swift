// The receive side shared by NBD and the replica protocol: a stream of framed messages of every
// size, sent in uneven pieces, must come out exactly as sent, whether a payload goes through the
// buffer (small) or straight into the caller's memory (large), and wherever in the buffer a
// message starts.

@testable import BlockDevices
import Foundation
import Glibc
import Testing

@Suite struct BufferedReaderTests {
    /// Message `index`: a 4-byte length, then that many bytes derived from the index.
    private static func message(_ index: Int, length: Int) -> [UInt8] {
        var bytes = withUnsafeBytes(of: UInt32(length).littleEndian, Array.init)
        bytes.reserveCapacity(4 + length)
        for offset in 0..<length { bytes.append(UInt8(truncatingIfNeeded: index &* 31 &+ offset &* 7)) }
        return bytes
    }

    @Test func messagesOfEverySizeArriveIntactInUnevenPieces() async throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let reactor = try Reactor(name: "reader")
        defer { reactor.shutdown() }
        let bufferBytes = 16 * 1024
        // Sizes across both paths (at most a quarter of the buffer goes through it), zero included.
        let lengths = (0..<3000).map { index -> Int in
            switch index % 5 {
            case 0: 0
            case 1: 1 + index % 23
            case 2: 4096
            case 3: bufferBytes / 4 + index % 3 - 1
            default: 5000 + (index * 977) % 40_000
            }
        }
        let stream = lengths.enumerated().flatMap { Self.message($0.offset, length: $0.element) }
        let sender = fds[1]
        let sent = Thread {
            // Pieces of uneven size, so messages straddle receives at every offset.
            var offset = 0
            var piece = 1
            stream.withUnsafeBytes { bytes in
                while offset < bytes.count {
                    let count = min(piece, bytes.count - offset)
                    let written = write(sender, bytes.baseAddress! + offset, count)
                    if written <= 0 { break }
                    offset += written
                    piece = (piece * 5 + 3) % 9000 + 1
                }
            }
            close(sender)
        }
        sent.start()

        let receiver = fds[0]
        let mismatches = try await reactor.run { () async throws -> [Int] in
            let reader = BufferedReader(socket: ReactorSocket(fd: receiver, reactor: reactor), bufferBytes: bufferBytes)
            var wrong: [Int] = []
            let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
            defer { payload.deallocate() }
            for (index, expectedLength) in lengths.enumerated() {
                let length = Int(try await reader.take(4).loadUnaligned(as: UInt32.self).littleEndian)
                guard length == expectedLength else {
                    wrong.append(index)
                    break
                }
                if index % 7 == 6 {
                    try await reader.skip(length)
                    continue
                }
                try await reader.read(into: payload.baseAddress!, count: length)
                let expected = Array(Self.message(index, length: length).dropFirst(4))
                if !expected.elementsEqual(UnsafeRawBufferPointer(rebasing: payload[0..<length])) {
                    wrong.append(index)
                }
            }
            // Then the end of the stream.
            await #expect(throws: ConnectionClosed.self) { _ = try await reader.take(1) }
            return wrong
        }
        #expect(mismatches.isEmpty, "messages read wrong: \(mismatches.prefix(10))")
    }
}
