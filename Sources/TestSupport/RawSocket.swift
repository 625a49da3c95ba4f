// A blocking client socket for abuse tests: it sends whatever bytes a test makes (a hostile peer
// the real clients never are) and reads with every wait bounded by poll, so a test that meets a
// server that never answers fails by itself instead of hanging. `RawListener` is the other side:
// a loopback listener for tests that play a hostile server.

import Foundation
import Glibc

public final class RawSocket: @unchecked Sendable {  // used by one test task at a time
    public let fd: Int32
    private var closed = false

    private init(fd: Int32) { self.fd = fd }

    init(adopting fd: Int32) { self.fd = fd }

    deinit { close() }

    /// Connects to 127.0.0.1:`port`; `receiveBufferBytes`, set before connecting, keeps what the
    /// kernel takes off the server for this socket small.
    public static func connect(port: UInt16, receiveBufferBytes: Int32? = nil) throws -> RawSocket {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        if var bytes = receiveBufferBytes {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return try finish(fd, result)
    }

    /// Connects to the Unix stream socket at `path`.
    public static func connect(unixPath path: String) throws -> RawSocket {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(fd)
            throw POSIXError(.ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return try finish(fd, result)
    }

    private static func finish(_ fd: Int32, _ result: Int32) throws -> RawSocket {
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .ECONNREFUSED)
        }
        return RawSocket(fd: fd)
    }

    /// Sends all of `bytes`; false when the peer stopped taking them (reset or closed).
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return false }
            sent += count
        }
        return true
    }

    /// Tells the peer nothing more comes (TCP FIN): a server reading the rest sees the end.
    public func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Up to `maxBytes` bytes that arrive within `timeout`: empty when nothing came in time, nil
    /// when the stream ended (or was reset).
    public func receive(maxBytes: Int = 65536, timeout: Duration) -> [UInt8]? {
        guard wait(timeout) else { return [] }
        var chunk = [UInt8](repeating: 0, count: maxBytes)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? Array(chunk[0..<count]) : nil
    }

    /// Exactly `count` bytes, or nil when the stream ends or `timeout` passes first.
    public func receive(exactly count: Int, timeout: Duration) -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        var out: [UInt8] = []
        while out.count < count {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero, let chunk = receive(maxBytes: count - out.count, timeout: remaining) else { return nil }
            out += chunk
        }
        return out
    }

    /// Reads and discards until the peer closes; false if it has not within `timeout`.
    public func drainUntilClosed(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        var scratch = [UInt8](repeating: 0, count: 65536)
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero, wait(remaining) else { return false }
            let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return true }  // end of stream, or reset
        }
    }

    /// Closes the socket (also done when released).
    public func close() {
        guard !closed else { return }
        closed = true
        Glibc.close(fd)
    }

    /// True when the socket is readable (data, end of stream or an error) within `timeout`.
    private func wait(_ timeout: Duration) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = max(1, Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        return poll(&poller, 1, milliseconds) == 1
    }
}

/// A loopback TCP listener that accepts one connection at a time, each wait bounded.
public final class RawListener: @unchecked Sendable {
    public let fd: Int32
    public let port: UInt16

    /// Listens on `port`, or on a port the kernel picks when it is 0.
    public init(port: UInt16 = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port.bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            Glibc.close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        self.port = UInt16(bigEndian: address.sin_port)
    }

    deinit { Glibc.close(fd) }

    /// The next connection, or nil when none comes within `timeout`.
    public func accept(timeout: Duration) -> RawSocket? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = max(1, Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        let client = Glibc.accept(fd, nil, nil)
        return client >= 0 ? RawSocket(adopting: client) : nil
    }
}
