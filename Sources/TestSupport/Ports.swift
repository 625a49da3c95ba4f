import Foundation
import Glibc

/// A loopback TCP port nothing listens on right now. Every port and block of ports a test asks
/// for comes from one sequence below the kernel's ephemeral range (a port there can be taken by
/// any outgoing connection on the machine, a long-lived gRPC stream's local end say, between
/// this answer and the listener's bind, and stay taken), handed out in turn from a start that
/// depends on the process id: the tests of one run never get the same port, and a port
/// something else holds is passed over. The seven ports after it are free too and handed to no
/// one else: a server given this port may listen on its neighbours (an instance manager's five).
public func freeTCPPort() -> UInt16 {
    UInt16(firstOfFreeTCPPorts(8))
}

/// The first of `count` consecutive loopback ports nothing holds now (see `freeTCPPort`).
public func firstOfFreeTCPPorts(_ count: Int) -> Int {
    var first = 0
    for _ in 0..<1000 {
        first = PortSequence.shared.next(count)
        if (first..<first + count).allSatisfy({ canBind(port: UInt16($0)) }) { return first }
    }
    return first
}

/// The test ports: 9000 up to the kernel's ephemeral range, handed out in turn.
private final class PortSequence: @unchecked Sendable {
    static let shared = PortSequence()

    private let first = 9000
    private let count: Int
    private let lock = NSLock()
    private var offset: Int

    private init() {
        count = max(Self.ephemeralRangeStart() - first, 4096)
        offset = (Int(getpid()) * 64) % count
    }

    /// The first port of the next `size` ports (wrapping around at the end).
    func next(_ size: Int) -> Int {
        lock.withLock {
            if offset % count + size > count { offset += count - offset % count }
            defer { offset += size }
            return first + offset % count
        }
    }

    /// The first port of the kernel's ephemeral range (32768 if it cannot be read).
    private static func ephemeralRangeStart() -> Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
        return (13096...65535).contains(low) ? low : 32768
    }
}

/// Whether 127.0.0.1:`port` can be bound now (nothing listens on it or holds it).
private func canBind(port: UInt16) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(port.bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

/// Whether a TCP connection to 127.0.0.1:`port` is accepted.
public func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}
