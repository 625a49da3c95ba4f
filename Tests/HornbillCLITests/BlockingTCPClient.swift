// A blocking loopback TCP client for the data-plane tests: it sends whatever protocol bytes a test
// builds and reads them back with every blocking receive bounded (SO_RCVTIMEO), and can flood a
// listener without ever reading.

import Foundation
import Glibc
import TestSupport

final class BlockingTCPClient: @unchecked Sendable {  // used by one test task at a time
    private let socket: RawSocket
    var fd: Int32 { socket.fd }

    /// Connects to 127.0.0.1:`port`, trying `attempts` times 20 ms apart (a process just started
    /// may not listen yet). `receiveBufferBytes` is set before connecting; every blocking receive
    /// waits at most `receiveTimeoutSeconds`.
    init(port: UInt16, attempts: Int = 1, receiveBufferBytes: Int32? = nil, receiveTimeoutSeconds: Int = 30) throws {
        var attempt = 1
        while true {
            do {
                socket = try RawSocket.connect(port: port, receiveBufferBytes: receiveBufferBytes)
                break
            } catch  where attempt < attempts {
                attempt += 1
                usleep(20_000)
            }
        }
        var seconds = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(socket.fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
    }

    func close() { socket.close() }

    func send(_ bytes: [UInt8]) throws {
        guard socket.send(bytes) else { throw POSIXError(.EPIPE) }
    }

    /// Exactly `count` bytes (each wait bounded by the receive timeout).
    func receive(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { throw POSIXError(.ETIMEDOUT) }
            guard n > 0 else { throw POSIXError(n == 0 ? .ENOTCONN : POSIXErrorCode(rawValue: errno) ?? .EIO) }
            got += n
        }
        return bytes
    }

    /// Reads and drops `count` bytes (each wait bounded by the receive timeout); returns the first
    /// eight.
    func receiveAndDrop(_ count: Int) throws -> [UInt8] {
        let first = try receive(8)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var got = 8
        while got < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, min($0.count, count - got), 0) }
            guard n > 0 else { throw POSIXError(.ECONNRESET) }
            got += n
        }
        return first
    }

    /// Sends `chunk` over and over and never reads, until `seconds` passed (the peer stopped
    /// reading and the kernel's buffers are full, or it went on reading) or the connection
    /// failed; returns the bytes sent.
    func flood(_ chunk: [UInt8], seconds: Double) -> Int {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var total = 0
        var offset = 0
        chunk.withUnsafeBytes { raw in
            while ContinuousClock.now < deadline {
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                guard poll(&poller, 1, 50) == 1 else { continue }
                let count = Glibc.send(
                    fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if count < 0 {
                    if errno == EAGAIN || errno == EINTR { continue }
                    return
                }
                total += count
                offset = (offset + count) % raw.count
            }
        }
        return total
    }
}
