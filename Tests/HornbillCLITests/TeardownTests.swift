// The ends of data-plane connections against a real `hornbill tgt`: a connection that ends while
// its client keeps the socket open and never reads is closed within the final drain limit; a
// client that connects and sends nothing (or half a header) is closed within the handshake (NBD)
// or connect (NVMe/TCP) limit, so such sockets cannot use up a listener's connections, while a
// connected client that is merely idle keeps its connection; and many stalled connections hold a
// bounded amount of the process's memory. Every wait is bounded and generous: the checks are that
// a connection ends, not how fast.

import BlockDevices
import Foundation
import Glibc
import JSONRPC
import NBD
import NVMeTCP
import NVMeWire
import TestSupport
import Testing

// MARK: - Bounds

/// How long a test waits for a connection the process should close: the limit that closes it plus
/// a generous margin for a loaded machine (the point is that it ends at all).
private func closeWaitSeconds(_ limitSeconds: Int) -> Double { Double(limitSeconds) + 25 }

/// Resident memory one stalled NBD connection flooding 1 MiB reads may add: its queued replies,
/// at most the writer's high-water mark (2 MiB) plus the reads in flight (16 MiB), in buffers
/// grown by 1 MiB steps past the mark, plus the request buffers of those reads until the idle
/// slots give them back (they are reused across connections) and allocator slack. Before the
/// bounds, a stalled connection could reach about 100 MiB. Measured: about 17 MiB.
private let residentBytesPerStalledConnection = NBDLimits.stalledConnectionBytes + (9 << 20)
/// Stalled connections in the memory test.
private let stalledConnections = 50

// MARK: - Helpers

private func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }
/// Open descriptors of process `pid` (its sockets among them).
private func openDescriptors(_ pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
}

/// A process's resident set size (VmRSS of /proc/PID/status), in bytes.
private func residentBytes(_ pid: Int32) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return (Int(line.filter(\.isNumber)) ?? 0) * 1024
    }
    return 0
}

/// The process's open descriptors once the count has stopped changing (connections closed just
/// before finish closing; a first connection opens a few descriptors the process keeps). Waits
/// without blocking a thread of the test process.
private func settledDescriptors(_ pid: Int32) async throws -> Int {
    var count = openDescriptors(pid)
    for _ in 0..<40 {
        try await Task.sleep(for: .milliseconds(500))
        let now = openDescriptors(pid)
        if now == count { return now }
        count = now
    }
    return count
}

/// Waits (polling, at most `seconds`, without blocking a thread) until `condition` holds; returns
/// whether it did.
private func eventually(within seconds: Double, _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return condition()
}

/// A blocking loopback TCP client; `receiveBufferBytes` set before connecting keeps what the
/// kernel takes off the server for it small.
private final class Client: @unchecked Sendable {
    let fd: Int32
    private var isClosed = false

    init(port: UInt16, receiveBufferBytes: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        if var bytes = receiveBufferBytes {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, socklen_t(MemoryLayout<Int32>.size))
        }
        var seconds = timeval(tv_sec: 30, tv_usec: 0)  // every blocking receive is bounded
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close() }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw POSIXError(.EPIPE) }
            sent += count
        }
    }

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

}

/// Sends `chunk` over and over on every client, without reading, until `seconds` passed: each
/// connection's requests fill its kernel buffers once the server stops reading it.
private func floodAll(_ clients: [Client], with chunk: [UInt8], seconds: Double) {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    var offsets = [Int](repeating: 0, count: clients.count)
    var pollers = clients.map { pollfd(fd: $0.fd, events: Int16(POLLOUT), revents: 0) }
    chunk.withUnsafeBytes { raw in
        while ContinuousClock.now < deadline {
            guard poll(&pollers, nfds_t(pollers.count), 50) > 0 else { continue }
            for index in pollers.indices where pollers[index].revents & Int16(POLLOUT) != 0 {
                let count = Glibc.send(
                    pollers[index].fd, raw.baseAddress! + offsets[index], raw.count - offsets[index], Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if count > 0 { offsets[index] = (offsets[index] + count) % raw.count }
                if count < 0 && errno != EAGAIN && errno != EINTR { pollers[index].events = 0 }  // gone: stop polling it
            }
        }
    }
}

private enum NBD {
    static let requestMagic: UInt32 = 0x2560_9513

    static func request(type: UInt16, cookie: UInt64, offset: UInt64, length: UInt32) -> [UInt8] {
        be(requestMagic) + be(UInt16(0)) + be(type) + be(cookie) + be(offset) + be(length)
    }

    /// Connects and negotiates with NBD_OPT_GO; the client is ready for requests.
    static func connect(port: UInt16, export: String, receiveBufferBytes: Int32? = nil) throws -> Client {
        let client = try Client(port: port, receiveBufferBytes: receiveBufferBytes)
        _ = try client.receive(18)
        try client.send(be(UInt32(3)))  // fixed newstyle, no zeroes
        let name = Array(export.utf8)
        let data = be(UInt32(name.count)) + name + be(UInt16(0))
        try client.send(be(UInt64(0x4948_4156_454F_5054)) + be(UInt32(7)) + be(UInt32(data.count)) + data)
        while true {
            let header = try client.receive(20)
            let type = header[12..<16].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let length = Int(header[16..<20].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            if length > 0 { _ = try client.receive(length) }
            if type == 1 { return client }  // NBD_REP_ACK
            guard type & 0x8000_0000 == 0 else { throw POSIXError(.EPROTO) }
        }
    }

    /// `count` reads of `length` bytes walking through the first `span` bytes.
    static func reads(count: Int, length: Int, span: Int) -> [UInt8] {
        (0..<count).flatMap { index in
            request(type: 0, cookie: UInt64(index), offset: UInt64(index * length % span), length: UInt32(length))
        }
    }
}

/// A daemon with a 64 MiB malloc bdev `m0` exported over NBD as `vol`.
private func tgtWithNBDExport() throws -> (Daemon, port: UInt16) {
    let daemon = try Daemon()
    let client = try daemon.client()
    try rpc(client, "bdev_malloc_create", [("name", text("m0")), ("num_blocks", .integer(16384)), ("block_size", .integer(4096))])
    let port = freeTCPPort()
    try rpc(client, "nbd_export_create", [
        ("name", text("vol")), ("bdev_name", text("m0")),
        ("listen_address", params([("traddr", text("127.0.0.1")), ("trsvcid", text(String(port)))])),
    ])
    return (daemon, port)
}

/// One 4 KiB read over a fresh NBD connection, answered: the listener takes new connections.
private func readOnce(port: UInt16) throws -> Bool {
    let client = try NBD.connect(port: port, export: "vol")
    try client.send(NBD.request(type: 0, cookie: 7, offset: 0, length: 4096))
    let reply = try client.receive(16 + 4096)
    return reply[0..<4] == [0x67, 0x44, 0x66, 0x98] && reply[4..<8] == [0, 0, 0, 0]
}

@Suite(.serialized) struct TeardownTests {
    @Test func nbdConnectionEndedByItsClientIsClosedWithinTheDrainLimitThoughTheClientNeverReads() async throws {
        let (daemon, port) = try tgtWithNBDExport()
        let pid = daemon.process.processIdentifier
        // Reads are slowed to 4 MiB/s, so every request below is read before the replies land.
        try rpc(try daemon.client(), "bdev_set_qos_limit", [("name", text("m0")), ("r_mbytes_per_sec", .integer(4))])
        #expect(try await offThread { try readOnce(port: port) })
        let baseline = try await settledDescriptors(pid)

        // 16 MiB of reads, then NBD_CMD_DISC; the client keeps its socket open and reads nothing,
        // taking little into its own buffer: most of the replies stay queued in the server.
        let client = try NBD.connect(port: port, export: "vol", receiveBufferBytes: 4096)
        try client.send(NBD.reads(count: 16, length: 1 << 20, span: 64 << 20) + NBD.request(type: 2, cookie: 99, offset: 0, length: 0))
        #expect(try await eventually(within: 5) { openDescriptors(pid) > baseline }, "the connection was never seen")
        let closed = try await eventually(within: 4 + closeWaitSeconds(DeviceLimits.finalDrainSeconds)) { openDescriptors(pid) <= baseline }
        #expect(closed, "the connection is still open: \(openDescriptors(pid)) descriptors, \(baseline) before it")
        #expect(daemon.process.isRunning)
        #expect(try await offThread { try readOnce(port: port) })
        client.close()
    }

    @Test func nbdClientsThatSendNothingAreClosedAndAnIdleConnectedClientIsNot() async throws {
        let (daemon, port) = try tgtWithNBDExport()
        let pid = daemon.process.processIdentifier
        #expect(try await offThread { try readOnce(port: port) })
        let baseline = try await settledDescriptors(pid)

        let connected = try NBD.connect(port: port, export: "vol")
        let silent = try Client(port: port)
        let partial = try Client(port: port)
        _ = try partial.receive(18)
        try partial.send([0, 0])  // half the client flags, then nothing
        #expect(try await eventually(within: 10) { openDescriptors(pid) >= baseline + 3 }, "the connections were never seen")
        let closed = try await eventually(within: closeWaitSeconds(2 * NBDLimits.handshakeSeconds)) { openDescriptors(pid) <= baseline + 1 }
        #expect(closed, "\(openDescriptors(pid)) descriptors, \(baseline) before the three connections")
        // The client in transmission was left alone, and is served.
        try connected.send(NBD.request(type: 0, cookie: 1, offset: 4096, length: 4096))
        #expect(try connected.receive(16 + 4096)[0..<4] == [0x67, 0x44, 0x66, 0x98])
        #expect(try await offThread { try readOnce(port: port) })
        #expect(daemon.process.isRunning)
        _ = (silent, partial)
    }

    @Test func nvmeTCPClientThatNeverConnectsItsQueueIsClosed() async throws {
        let daemon = try Daemon()
        let pid = daemon.process.processIdentifier
        let client = try daemon.client()
        let nqn = "nqn.2023-01.io.hornbill:teardown"
        let port = freeTCPPort()
        try rpc(client, "bdev_malloc_create", [("name", text("m0")), ("num_blocks", .integer(4096)), ("block_size", .integer(4096))])
        try rpc(client, "nvmf_create_transport", [("trtype", text("TCP"))])
        try rpc(client, "nvmf_create_subsystem", [("nqn", text(nqn)), ("allow_any_host", .bool(true))])
        try rpc(client, "nvmf_subsystem_add_ns", [("nqn", text(nqn)), ("namespace", params([("bdev_name", text("m0"))]))])
        try rpc(client, "nvmf_subsystem_add_listener", [
            ("nqn", text(nqn)),
            ("listen_address", params([
                ("trtype", text("tcp")), ("adrfam", text("ipv4")), ("traddr", text("127.0.0.1")), ("trsvcid", text(String(port))),
            ])),
        ])
        let warmUp = try Client(port: port)
        try warmUp.send(ICReq().encode())
        _ = try warmUp.receive(128)
        warmUp.close()
        let baseline = try await settledDescriptors(pid)

        let silent = try Client(port: port)
        let afterICReq = try Client(port: port)
        try afterICReq.send(ICReq().encode())
        #expect(try afterICReq.receive(128)[0] == PDUType.icResp.rawValue)
        #expect(try await eventually(within: 10) { openDescriptors(pid) >= baseline + 2 }, "the connections were never seen")
        let closed = try await eventually(within: closeWaitSeconds(2 * NVMeTCPLimits.connectSeconds)) { openDescriptors(pid) <= baseline }
        #expect(closed, "\(openDescriptors(pid)) descriptors, \(baseline) before the two connections")
        #expect(daemon.process.isRunning)
        _ = (silent, afterICReq)
    }

    @Test func manyStalledNBDConnectionsHoldBoundedMemory() async throws {
        let (daemon, port) = try tgtWithNBDExport()
        let pid = daemon.process.processIdentifier
        #expect(try await offThread { try readOnce(port: port) })
        let baseline = residentBytes(pid)

        let clients = try await offThread { try (0..<stalledConnections).map { _ in try NBD.connect(port: port, export: "vol") } }
        let chunk = NBD.reads(count: 256, length: 1 << 20, span: 64 << 20)
        let flooding = clients
        try await offThread { floodAll(flooding, with: chunk, seconds: 3) }
        let grown = residentBytes(pid) - baseline
        let bound = stalledConnections * residentBytesPerStalledConnection
        #expect(daemon.process.isRunning)
        #expect(grown < bound, "resident memory grew by \(grown >> 20) MiB for \(stalledConnections) stalled connections")
        #expect(try await offThread { try readOnce(port: port) })
        for client in clients { client.close() }
        #expect(try await offThread { try readOnce(port: port) })
    }
}
