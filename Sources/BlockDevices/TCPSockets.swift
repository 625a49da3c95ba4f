// TCP sockets for the network targets (NVMe/TCP, NBD): a listener whose accept loop runs on a thread of its own (the control
// plane), and a connect with a timeout. Connected sockets get TCP_NODELAY: requests and replies are
// latency-bound and already batched by the sender.

import BlockCore
import Foundation
import Glibc

/// An IPv4 or IPv6 socket address from text.
struct SocketAddress {
    var storage = sockaddr_storage()
    var length: socklen_t = 0
    var isIPv6 = false

    init(host: String, port: UInt16) throws {
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: v4) { raw.copyMemory(from: $0) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: v6) { raw.copyMemory(from: $0) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            isIPv6 = true
            return
        }
        throw BlockError(.invalidArgument, "\(host) is not an IPv4 or IPv6 address")
    }

    var family: Int32 { isIPv6 ? AF_INET6 : AF_INET }
}

public enum TCPSocket {
    static func error(_ operation: String, _ code: Int32 = errno) -> BlockError {
        BlockError(.ioError, "\(operation): \(String(cString: strerror(code)))", errno: code)
    }

    /// A listening socket bound to host:port.
    public static func listen(host: String, port: UInt16) throws -> Int32 {
        var address = try SocketAddress(host: host, port: port)
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw error("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            if code == EADDRINUSE { throw BlockError(.alreadyExists, "\(host):\(port) is already in use", errno: code) }
            throw error("bind \(host):\(port)", code)
        }
        guard Glibc.listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            throw error("listen", code)
        }
        return fd
    }

    /// Connects to host:port, giving up after `timeout`.
    public static func connect(host: String, port: UInt16, timeout: Duration) async throws -> Int32 {
        var address = try SocketAddress(host: host, port: port)
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw error("socket") }
        let started = withUnsafePointer(to: &address.storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, address.length) }
        }
        if started != 0 && errno != EINPROGRESS {
            let code = errno
            close(fd)
            throw error("connect to \(host):\(port)", code)
        }
        let milliseconds = Int32(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let result: Int32 = await withUnsafeContinuation { continuation in
            Thread.detachNewThread {
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&poller, 1, milliseconds)
                if ready == 0 { return continuation.resume(returning: ETIMEDOUT) }
                if ready < 0 { return continuation.resume(returning: errno) }
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
                continuation.resume(returning: code)
            }
        }
        guard result == 0 else {
            close(fd)
            throw error("connect to \(host):\(port)", result)
        }
        // Back to blocking: the reactor's io_uring waits for readiness itself.
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK)
        configure(fd)
        return fd
    }

    public static func configure(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The local port a socket is bound to.
    public static func localPort(_ fd: Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return withUnsafeBytes(of: storage) { raw in
            UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self))
        }
    }
}

/// Accepts connections on a thread of its own and hands each connected socket to `onAccept`.
public final class TCPAcceptor: @unchecked Sendable {
    public let fd: Int32
    public let port: UInt16
    private let onAccept: @Sendable (Int32) -> Void

    public init(host: String, port: UInt16, onAccept: @escaping @Sendable (Int32) -> Void) throws {
        fd = try TCPSocket.listen(host: host, port: port)
        self.port = port == 0 ? TCPSocket.localPort(fd) : port
        self.onAccept = onAccept
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    private func acceptLoop() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE {
                    if errno == EMFILE || errno == ENFILE { usleep(10_000) }
                    continue
                }
                return  // shut down
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            TCPSocket.configure(client)
            onAccept(client)
        }
    }

    /// Stops accepting; the accept thread ends.
    public func stop() {
        _ = shutdown(fd, Int32(SHUT_RDWR))
    }

    deinit { close(fd) }
}
