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
/// grown by 1 MiB steps past the mark, plus slack; the request buffers of those reads are given
/// back (to the kernel: `BufferMemory`) once the connection has been stalled a while. Before the
/// bounds, a stalled connection could reach about 100 MiB; with buffers from glibc's heap, whose
/// arenas kept what was given back, 37 MiB. Measured: about 17 MiB.
private let residentBytesPerStalledConnection = NBDLimits.stalledConnectionBytes + (9 << 20)
/// Stalled connections in the memory test.
private let stalledConnections = 50

// MARK: - Helpers

/// Open descriptors of process `pid` (its sockets among them).
private func openDescriptors(_ pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
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

/// Sends `chunk` over and over on every client, without reading, until `seconds` passed: each
/// connection's requests fill its kernel buffers once the server stops reading it.
private func floodAll(_ clients: [BlockingTCPClient], with chunk: [UInt8], seconds: Double) {
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

/// One 4 KiB read over a fresh NBD connection, answered: the listener takes new connections.
private func readOnce(port: UInt16) throws -> Bool {
    let client = try RawNBD.connect(port: port, export: "vol")
    try client.send(RawNBD.request(type: 0, cookie: 7, offset: 0, length: 4096))
    let reply = try client.receive(16 + 4096)
    return reply[0..<4] == [0x67, 0x44, 0x66, 0x98] && reply[4..<8] == [0, 0, 0, 0]
}

@Suite(.serialized) struct TeardownTests {
    @Test func nbdConnectionEndedByItsClientIsClosedWithinTheDrainLimitThoughTheClientNeverReads() async throws {
        let (daemon, port, _) = try tgtWithNBDExport()
        let pid = daemon.process.processIdentifier
        // Reads are slowed to 4 MiB/s, so every request below is read before the replies land.
        try rpc(try daemon.client(), "bdev_set_qos_limit", [("name", text("m0")), ("r_mbytes_per_sec", .integer(4))])
        #expect(try await offThread { try readOnce(port: port) })
        let baseline = try await settledDescriptors(pid)

        // 16 MiB of reads, then NBD_CMD_DISC; the client keeps its socket open and reads nothing,
        // taking little into its own buffer: most of the replies stay queued in the server.
        let client = try RawNBD.connect(port: port, export: "vol", receiveBufferBytes: 4096)
        try client.send(RawNBD.reads(count: 16, length: 1 << 20, span: 64 << 20) + RawNBD.request(type: 2, cookie: 99, offset: 0, length: 0))
        #expect(try await eventually(within: 5) { openDescriptors(pid) > baseline }, "the connection was never seen")
        let closed = try await eventually(within: 4 + closeWaitSeconds(DeviceLimits.finalDrainSeconds)) { openDescriptors(pid) <= baseline }
        #expect(closed, "the connection is still open: \(openDescriptors(pid)) descriptors, \(baseline) before it")
        #expect(daemon.process.isRunning)
        #expect(try await offThread { try readOnce(port: port) })
        client.close()
    }

    @Test func nbdClientsThatSendNothingAreClosedAndAnIdleConnectedClientIsNot() async throws {
        let (daemon, port, _) = try tgtWithNBDExport()
        let pid = daemon.process.processIdentifier
        #expect(try await offThread { try readOnce(port: port) })
        let baseline = try await settledDescriptors(pid)

        let connected = try RawNBD.connect(port: port, export: "vol")
        let silent = try BlockingTCPClient(port: port)
        let partial = try BlockingTCPClient(port: port)
        _ = try partial.receive(18)
        try partial.send([0, 0])  // half the client flags, then nothing
        #expect(try await eventually(within: 10) { openDescriptors(pid) >= baseline + 3 }, "the connections were never seen")
        let closed = try await eventually(within: closeWaitSeconds(2 * NBDLimits.handshakeSeconds)) { openDescriptors(pid) <= baseline + 1 }
        #expect(closed, "\(openDescriptors(pid)) descriptors, \(baseline) before the three connections")
        // The client in transmission was left alone, and is served.
        try connected.send(RawNBD.request(type: 0, cookie: 1, offset: 4096, length: 4096))
        #expect(try connected.receive(16 + 4096)[0..<4] == [0x67, 0x44, 0x66, 0x98])
        #expect(try await offThread { try readOnce(port: port) })
        #expect(daemon.process.isRunning)
        _ = (silent, partial)
    }

    @Test func nvmeTCPClientThatNeverConnectsItsQueueIsClosed() async throws {
        let nqn = "nqn.2023-01.io.hornbill:teardown"
        let (daemon, port) = try tgtWithNVMeNamespace(nqn: nqn, blocks: 4096)
        let pid = daemon.process.processIdentifier
        let warmUp = try BlockingTCPClient(port: port)
        try warmUp.send(ICReq().encode())
        _ = try warmUp.receive(128)
        warmUp.close()
        let baseline = try await settledDescriptors(pid)

        let silent = try BlockingTCPClient(port: port)
        let afterICReq = try BlockingTCPClient(port: port)
        try afterICReq.send(ICReq().encode())
        #expect(try afterICReq.receive(128)[0] == PDUType.icResp.rawValue)
        #expect(try await eventually(within: 10) { openDescriptors(pid) >= baseline + 2 }, "the connections were never seen")
        let closed = try await eventually(within: closeWaitSeconds(2 * NVMeTCPLimits.connectSeconds)) { openDescriptors(pid) <= baseline }
        #expect(closed, "\(openDescriptors(pid)) descriptors, \(baseline) before the two connections")
        #expect(daemon.process.isRunning)
        _ = (silent, afterICReq)
    }

    @Test func manyStalledNBDConnectionsHoldBoundedMemory() async throws {
        let (daemon, port, _) = try tgtWithNBDExport()
        let pid = daemon.process.processIdentifier
        #expect(try await offThread { try readOnce(port: port) })
        let baseline = residentBytes(pid)

        let clients = try await offThread { try (0..<stalledConnections).map { _ in try RawNBD.connect(port: port, export: "vol") } }
        let chunk = RawNBD.reads(count: 256, length: 1 << 20, span: 64 << 20)
        let flooding = clients
        try await offThread { floodAll(flooding, with: chunk, seconds: 3) }
        // The bound is what a connection holds once it has been stalled `stallReleaseSeconds`: on a
        // loaded machine that moment may come after the flood ends, so the memory has a while to
        // come down to it (memory that grew without bound would not).
        let bound = stalledConnections * residentBytesPerStalledConnection
        var grown = residentBytes(pid) - baseline
        let settled = try await eventually(within: Double(NBDLimits.stallReleaseSeconds) + 20) {
            grown = residentBytes(pid) - baseline
            return grown < bound
        }
        #expect(daemon.process.isRunning)
        #expect(settled, "resident memory grew by \(grown >> 20) MiB for \(stalledConnections) stalled connections")
        #expect(try await offThread { try readOnce(port: port) })
        for client in clients { client.close() }
        #expect(try await offThread { try readOnce(port: port) })
    }
}
