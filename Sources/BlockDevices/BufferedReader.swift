// The receive side of a request/response connection on a reactor: headers are taken from a
// buffer the reader refills, small payloads too (one receive takes many messages), and large
// payloads go straight from the socket into the caller's memory (only the part already buffered
// is copied). The buffer's size is fixed: a peer cannot grow it, and the lengths it sends reach
// `take` only after the caller checked them against its limits (`skip` goes in chunks).

import BlockCore
import Glibc

/// The peer closed the connection (or it was shut down) while a read waited.
public struct ConnectionClosed: Error, Sendable {
    public init() {}
}

public final class BufferedReader: @unchecked Sendable {  // confined to its reactor
    public let socket: ReactorSocket
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    public init(socket: ReactorSocket, bufferBytes: Int) {
        self.socket = socket
        buffer = BufferMemory.allocate(byteCount: bufferBytes, alignment: 64)
    }

    deinit { BufferMemory.release(buffer) }

    /// Bytes received and not taken yet: what can be taken without waiting for the peer.
    public var bufferedBytes: Int { end - start }

    /// The next `count` bytes (at most the buffer's size), valid until the next read.
    public nonisolated(nonsending) func take(_ count: Int) async throws -> UnsafeRawBufferPointer {
        precondition(count <= buffer.count, "take of \(count) bytes from a \(buffer.count)-byte buffer")
        while end - start < count {
            makeRoom(for: count)
            let received = try await socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            if received == 0 { throw ConnectionClosed() }
            end += received
        }
        defer { start += count }
        return UnsafeRawBufferPointer(rebasing: buffer[start..<(start + count)])
    }

    /// Reads `count` bytes into `destination`: a small payload through the buffer; a large one
    /// what is buffered, then straight from the socket.
    public nonisolated(nonsending) func read(into destination: UnsafeMutableRawPointer, count: Int) async throws {
        if count <= buffer.count / 4 {
            // A small payload comes through the buffer: one receive takes it together with what
            // follows (the next headers and payloads), where receiving it on its own would cost a
            // ring round trip for every message.
            let bytes = try await take(count)
            destination.copyMemory(from: bytes.baseAddress!, byteCount: count)
            return
        }
        let buffered = min(end - start, count)
        destination.copyMemory(from: buffer.baseAddress! + start, byteCount: buffered)
        start += buffered
        var done = buffered
        while done < count {
            let received = try await socket.receive(into: UnsafeMutableRawBufferPointer(start: destination + done, count: count - done))
            if received == 0 { throw ConnectionClosed() }
            done += received
        }
    }

    /// Before a receive: an empty buffer starts over at its front; one whose free tail is short
    /// (under a quarter of it, or under what `count` still needs) moves its unread bytes to the
    /// front. Either way each receive has room for many messages.
    private func makeRoom(for count: Int) {
        if start == end {
            start = 0
            end = 0
        } else if start > 0 && (buffer.count - end < buffer.count / 4 || buffer.count - start < count) {
            memmove(buffer.baseAddress!, buffer.baseAddress! + start, end - start)
            end -= start
            start = 0
        }
    }

    /// Reads and discards `count` bytes.
    public nonisolated(nonsending) func skip(_ count: Int) async throws {
        var remaining = count
        while remaining > 0 {
            let chunk = min(remaining, buffer.count / 2)
            _ = try await take(chunk)
            remaining -= chunk
        }
    }
}
