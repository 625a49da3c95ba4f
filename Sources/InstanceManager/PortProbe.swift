// Whether a port of an instance range is free on this host: the ranges are the instance manager's
// to hand out, but another program may hold one of their ports (a listener, or a client socket
// the kernel bound there when the range overlaps the ephemeral one). An instance given such a
// port would fail to listen; the allocator passes over it instead (PortAllocator.allocate(count:
// attempts:usable:)).

import Glibc

public enum PortProbe {
    /// Whether a TCP socket can be bound to `port` on every address of the family of `ip` now.
    /// The probe sets SO_REUSEADDR as listeners do, so a connection of an earlier instance in
    /// TIME_WAIT does not count as holding the port; a listener or a client socket does.
    public static func isFree(port: Int, ip: String) -> Bool {
        guard let port = UInt16(exactly: port), port > 0 else { return false }
        let ipv6 = ip.contains(":")
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return true }  // No socket to probe with: the listen itself will tell.
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let result: Int32
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_addr = in6addr_any
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = INADDR_ANY
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        return result == 0 || errno != EADDRINUSE
    }
}
