// Clients that send requests and never read the replies, against every listener of the data plane
// run as real processes: NBD on `hornbill tgt` (in the handshake and in transmission), NVMe/TCP on
// `hornbill tgt`, a `hornbill replica`, and the NBD frontend of a `hornbill controller` over
// replica processes. Each flood asks for far more reply bytes than the 64 MiB a connection's
// output could once grow to before the process trapped; the process must stop reading the
// flooding connection instead (TCP backpressure), stay alive with its resident memory bounded,
// serve a second client correct data while the first is stalled, and go on serving after the
// flooding client leaves.

import BlockCore
import BlockDevices
import Foundation
import Glibc
import JSONRPC
import NVMeTCP
import NVMeWire
import StorageKit
import TestSupport
import Testing

// MARK: - Bounds the tests hold the processes to

/// What a flood must ask for to prove anything: the most a connection's output could hold before
/// this bound existed (the process trapped past it).
private let oldOutputLimitBytes = 64 << 20
/// How much a process's resident memory may grow while a flooding client is connected. What one
/// connection can hold: the writer's high-water mark (2 MiB) plus the replies of the requests
/// started (16 MiB of payload), in each of the writer's two buffers, which grow in powers of two
/// (2 × 32 MiB); the requests' buffers (16 MiB for the fixed-size requests here); and the smaller
/// buffers the allocator keeps after the growth (about 32 MiB). Measured: 8-54 MiB.
private let residentGrowthBoundBytes = 128 << 20
/// How long each flood keeps sending: long enough for an unbounded queue to pass the old limit
/// many times over on loopback, short enough to keep the test quick.
private let floodSeconds = 3.0
/// What a stalled client reads at the end to show its connection was held, not dropped, and is
/// served again once it reads: more than the connection and the kernel's socket buffers can hold,
/// so the process must have gone back to reading its requests.
private let resumedReadBytes = 64 << 20

// MARK: - Helpers

/// qemu-io writes `pattern` at `offset` through NBD and reads it back, verifying every byte.
private func writeAndVerifyOverNBD(_ uri: String, pattern: UInt8, offset: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let range = "\(offset) 4M"
    let result = try runProgram(["qemu-io", "-f", "raw", "-c", "write -P \(pattern) \(range)", "-c", "read -P \(pattern) \(range)", uri], timeoutSeconds: 60)
    let verified = !result.output.contains("Pattern verification failed") && result.output.contains("read 4194304/4194304 bytes")
    #expect(result.status == 0 && verified, "\(result.output)", sourceLocation: sourceLocation)
}

/// A client of `port`, waiting up to 6 s for it to listen.
private func rawClient(port: UInt16) throws -> BlockingTCPClient {
    try BlockingTCPClient(port: port, attempts: 300, receiveTimeoutSeconds: 10)
}

// MARK: - NBD

/// Floods `port` with pipelined NBD reads of `length` bytes on a connection that never reads;
/// returns the connection (still open, stalled) and the reply bytes its requests asked for.
private func floodNBDReads(port: UInt16, export: String, length: Int, span: Int) async throws -> (BlockingTCPClient, Int) {
    let client = try RawNBD.connect(port: port, export: export, receiveTimeoutSeconds: 10)
    let chunk = RawNBD.reads(count: 1024, length: length, span: span)
    let sent = try await offThread { client.flood(chunk, seconds: floodSeconds) }
    return (client, sent / RawNBD.requestBytes * length)
}

// MARK: - tgt


/// The test's own NVMe/TCP host, the well-behaved client of the NVMe test.
private let hostReactor: Reactor = {
    do { return try Reactor(name: "bp-host") } catch { fatalError("\(error)") }
}()

/// Writes a random 4 MiB at `offsetBlocks` of `device` and reads it back; true when it matches.
private func writeAndVerify(_ device: any BlockDevice, offsetBlocks: UInt64, seed: UInt64) async throws -> Bool {
    var random = SeededRandom(seed: seed)
    let written = IOBuffer(byteCount: 4 << 20)
    random.fill(written.bytes)
    let channel = try device.makeChannel()
    try await channel.write(written.vector(), offsetBlocks: offsetBlocks)
    let back = IOBuffer(byteCount: 4 << 20)
    try await channel.read(back.vector(), offsetBlocks: offsetBlocks)
    return withExtendedLifetime((written, back)) { memcmp(written.bytes.baseAddress!, back.bytes.baseAddress!, 4 << 20) == 0 }
}

// MARK: - NVMe/TCP by hand

private enum RawNVMe {
    static let hostNQN = "nqn.2023-01.io.hornbill:flood"

    static func capsule(_ command: SubmissionEntry, data: [UInt8] = []) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 256)
        let length = out.withUnsafeMutableBytes { PDUHeaderWriter.capsuleCommand(command, dataBytes: data.count, digests: [], into: $0) }
        return Array(out[0..<length]) + data
    }

    /// ICReq/ICResp, then a Connect for `queueID`; returns the client and the controller ID.
    static func connect(port: UInt16, nqn: String, queueID: UInt16, queueSize: Int, controllerID: UInt16) throws -> (BlockingTCPClient, UInt16) {
        let client = try rawClient(port: port)
        try client.send(ICReq().encode())
        _ = try client.receive(128)
        var command = SubmissionEntry.connect(commandID: 1, queueID: queueID, queueSize: queueSize, keepAliveMilliseconds: 0)
        command.setInCapsuleData(length: 1024)
        let data = ConnectData(hostID: [UInt8](repeating: 9, count: 16), controllerID: controllerID, subsystemNQN: nqn, hostNQN: hostNQN)
        try client.send(capsule(command, data: data.bytes))
        let completion = try receiveCompletion(client)
        guard completion.status.isSuccess else { throw POSIXError(.EACCES) }
        return (client, UInt16(truncatingIfNeeded: completion.dw0))
    }

    static func receiveCompletion(_ client: BlockingTCPClient) throws -> CompletionEntry {
        let response = try client.receive(24)
        guard response[0] == PDUType.capsuleResp.rawValue else { throw POSIXError(.EPROTO) }
        return response.withUnsafeBytes { CompletionEntry(bytes: UnsafeRawBufferPointer(rebasing: $0[8..<24])) }
    }

    /// `count` Identify Controller commands (4 KiB of data each, by C2HData).
    static func identifies(count: Int) -> [UInt8] {
        (0..<count).flatMap { index in
            var command = SubmissionEntry(opcode: AdminOpcode.identify, commandID: UInt16(16 + index % 16))
            command.cdw10 = 1
            command.setTransportData(length: 4096)
            return capsule(command)
        }
    }

    /// `count` Read commands of `blocks` 4 KiB blocks, data by C2HData.
    static func reads(count: Int, blocks: Int, namespaceBlocks: Int) -> [UInt8] {
        var out: [UInt8] = []
        for index in 0..<count {
            var command = SubmissionEntry(opcode: IOOpcode.read, commandID: UInt16(index % 128), namespaceID: 1)
            command.cdw10 = UInt32(index * blocks % namespaceBlocks)
            command.cdw12 = UInt32(blocks - 1)
            command.setTransportData(length: blocks * 4096)
            out += capsule(command)
        }
        return out
    }
}

// MARK: - The V1 engine's processes

private func replicaRequest(kind: UInt8, id: UInt64, offset: UInt64, length: Int, revision: UInt64 = 0) -> [UInt8] {
    be(UInt32(0x4842_5251)) + [kind, 0] + be(UInt16(0)) + be(id) + be(offset) + be(UInt32(length)) + be(UInt32(0)) + be(revision)
}

/// Writes a random 4 MiB at `offset` of a replica over its protocol and reads it back; true when it
/// matches.
private func writeAndVerifyReplica(port: UInt16, offset: UInt64, seed: UInt64) throws -> Bool {
    let client = try rawClient(port: port)
    var random = SeededRandom(seed: seed)
    var data = [UInt8](repeating: 0, count: 4 << 20)
    data.withUnsafeMutableBytes { random.fill($0) }
    try client.send(replicaRequest(kind: 2, id: 1, offset: offset, length: data.count, revision: seed) + data)
    let written = try client.receive(24)
    guard loadBE(written, 6, as: UInt16.self) == 0 else { return false }
    try client.send(replicaRequest(kind: 1, id: 2, offset: offset, length: data.count))
    let header = try client.receive(24)
    guard loadBE(header, 6, as: UInt16.self) == 0, Int(loadBE(header, 16, as: UInt32.self)) == data.count else { return false }
    return try client.receive(data.count) == data
}

/// Replica processes on fresh directories.
private final class ReplicaSet: @unchecked Sendable {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("hornbill-bp-\(UUID().uuidString.prefix(8))").path
    let size = 64 << 20
    var ports: [UInt16] = []
    var processes: [HornbillProcess] = []

    init(count: Int) throws {
        for index in 0..<count {
            let port = freeTCPPort()
            ports.append(port)
            processes.append(try HornbillProcess([
                "replica", "\(root)/replicas/vol-\(String(format: "%08x", index))", "--size", String(size), "--listen", "127.0.0.1:\(port)",
            ]))
            _ = try rawClient(port: port)  // waits until it listens
        }
    }

    deinit {
        processes.removeAll()
        try? FileManager.default.removeItem(atPath: root)
    }
}

// MARK: - Tests

@Suite(.serialized) struct BackpressureTests {
    @Test func nbdTransmissionClientThatNeverReadsIsStalledNotServedIntoMemory() async throws {
        let (daemon, port, uri) = try tgtWithNBDExport()
        let pid = daemon.process.processIdentifier
        try writeAndVerifyOverNBD(uri, pattern: 0x11, offset: 0)
        let baseline = residentBytes(pid)

        let (slow, requested) = try await floodNBDReads(port: port, export: "vol", length: 64 << 10, span: 64 << 20)
        try #require(requested > oldOutputLimitBytes, "the flood asked for only \(requested) bytes")
        try writeAndVerifyOverNBD(uri, pattern: 0x22, offset: 8 << 20)
        let grown = residentBytes(pid) - baseline
        #expect(daemon.process.isRunning)
        #expect(grown < residentGrowthBoundBytes, "resident memory grew by \(grown) bytes under a flood asking for \(requested)")
        // Reading again, the slow client gets its replies: simple replies' magic first.
        #expect(loadBE(try slow.receiveAndDrop(resumedReadBytes), 0, as: UInt32.self) == 0x6744_6698)

        slow.close()
        try writeAndVerifyOverNBD(uri, pattern: 0x33, offset: 16 << 20)
        #expect(daemon.process.isRunning)
    }

    @Test func nbdHandshakeOptionFloodIsStalledNotAnsweredIntoMemory() async throws {
        let (daemon, port, uri) = try tgtWithNBDExport()
        let pid = daemon.process.processIdentifier
        try writeAndVerifyOverNBD(uri, pattern: 0x44, offset: 0)
        let baseline = residentBytes(pid)

        // Sixteen more exports with long names on the listener: each NBD_OPT_LIST (16 bytes) is
        // answered with 16 KiB of replies, none of them read; and NBD_OPT_INFO (37 bytes) for the
        // default export, asking for its name and description, in between.
        let client = try daemon.client()
        let nameBytes = 1000
        for index in 0..<16 {
            let name = "ro\(index)-" + String(repeating: "x", count: nameBytes - 4 - String(index).count)
            try rpc(client, "nbd_export_create", [
                ("name", text(name)), ("bdev_name", text("m0")), ("read_only", .bool(true)),
                ("listen_address", params([("traddr", text("127.0.0.1")), ("trsvcid", text(String(port)))])),
            ])
        }
        let list = RawNBD.option(3, [])
        let info = RawNBD.information(6, name: "vol")
        let chunk = Array(repeating: list + info, count: 2048).flatMap { $0 }
        let slow = try rawClient(port: port)
        try slow.send(be(UInt32(3)))
        let sent = try await offThread { slow.flood(chunk, seconds: floodSeconds) }
        let requested = sent / (list.count + info.count) * 16 * (20 + 4 + nameBytes)
        try #require(requested > oldOutputLimitBytes, "the flood asked for only \(requested) bytes")
        try writeAndVerifyOverNBD(uri, pattern: 0x55, offset: 4 << 20)
        let grown = residentBytes(pid) - baseline
        #expect(daemon.process.isRunning)
        #expect(grown < residentGrowthBoundBytes, "resident memory grew by \(grown) bytes under a flood asking for \(requested)")
        // Reading again, the slow client gets the greeting, then its option replies.
        #expect(loadBE(try slow.receiveAndDrop(resumedReadBytes), 0, as: UInt64.self) == 0x4E42_444D_4147_4943)  // "NBDMAGIC"

        slow.close()
        try writeAndVerifyOverNBD(uri, pattern: 0x66, offset: 12 << 20)
        #expect(daemon.process.isRunning)
    }

    @Test func nvmeTCPClientThatNeverReadsIsStalledNotServedIntoMemory() async throws {
        let nqn = "nqn.2023-01.io.hornbill:bp"
        let (daemon, port) = try tgtWithNVMeNamespace(nqn: nqn, blocks: 16384)
        let pid = daemon.process.processIdentifier
        let host = try await NVMeHostController.attach(
            name: "bp\(port)", options: .init(address: "127.0.0.1", serviceID: String(port), subsystemNQN: nqn), reactor: hostReactor)
        let device = host.namespaces[0]
        #expect(try await writeAndVerify(device, offsetBlocks: 0, seed: 1))
        let baseline = residentBytes(pid)

        // A host of its own: an admin queue enabled by hand, then an I/O queue flooded with 128 KiB
        // reads and the admin queue with Identify commands, far past their queue depths, none of
        // whose data it reads.
        let (admin, controllerID) = try RawNVMe.connect(port: port, nqn: nqn, queueID: 0, queueSize: 32, controllerID: 0xFFFF)
        let enable = SubmissionEntry.propertySet(commandID: 2, offset: 0x14, value: 1 | 6 << 16 | 4 << 20, wide: false)
        try admin.send(RawNVMe.capsule(enable))
        #expect(try RawNVMe.receiveCompletion(admin).status.isSuccess)
        let (slow, _) = try RawNVMe.connect(port: port, nqn: nqn, queueID: 1, queueSize: 128, controllerID: controllerID)
        let chunk = RawNVMe.reads(count: 512, blocks: 32, namespaceBlocks: 16384)
        let sent = try await offThread { slow.flood(chunk, seconds: floodSeconds) }
        let requested = sent / 72 * (128 << 10)
        try #require(requested > oldOutputLimitBytes, "the flood asked for only \(requested) bytes")
        let adminChunk = RawNVMe.identifies(count: 512)
        let adminSent = try await offThread { admin.flood(adminChunk, seconds: floodSeconds) }
        let adminRequested = adminSent / 72 * 4096
        try #require(adminRequested > oldOutputLimitBytes, "the admin flood asked for only \(adminRequested) bytes")
        #expect(try await writeAndVerify(device, offsetBlocks: 2048, seed: 2))
        let grown = residentBytes(pid) - baseline
        #expect(daemon.process.isRunning)
        #expect(grown < residentGrowthBoundBytes, "resident memory grew by \(grown) bytes under a flood asking for \(requested)")
        // Held, not ended with a C2HTermReq: reading again, the host gets its read data.
        #expect(try slow.receiveAndDrop(resumedReadBytes)[0] == PDUType.c2hData.rawValue)
        #expect(try admin.receiveAndDrop(resumedReadBytes)[0] == PDUType.c2hData.rawValue)

        slow.close()
        admin.close()
        #expect(try await writeAndVerify(device, offsetBlocks: 4096, seed: 3))
        #expect(daemon.process.isRunning)
        await host.detach()
    }

    @Test func replicaClientThatNeverReadsIsStalledNotServedIntoMemory() async throws {
        let replicas = try ReplicaSet(count: 1)
        let (port, process) = (replicas.ports[0], replicas.processes[0])
        #expect(try writeAndVerifyReplica(port: port, offset: 0, seed: 1))
        let baseline = residentBytes(process.pid)

        let slow = try rawClient(port: port)
        let length = 256 << 10
        let chunk = (0..<1024).flatMap {
            replicaRequest(kind: 1, id: UInt64($0), offset: UInt64($0 * length % replicas.size), length: length)
        }
        let sent = try await offThread { slow.flood(chunk, seconds: floodSeconds) }
        let requested = sent / 40 * length
        try #require(requested > oldOutputLimitBytes, "the flood asked for only \(requested) bytes")
        #expect(try writeAndVerifyReplica(port: port, offset: 8 << 20, seed: 2))
        let grown = residentBytes(process.pid) - baseline
        #expect(process.isRunning)
        #expect(grown < residentGrowthBoundBytes, "resident memory grew by \(grown) bytes under a flood asking for \(requested)")
        // Reading again, the slow client gets its responses.
        #expect(loadBE(try slow.receiveAndDrop(resumedReadBytes), 0, as: UInt32.self) == 0x4842_5253)  // "HBRS"

        slow.close()
        #expect(try writeAndVerifyReplica(port: port, offset: 16 << 20, seed: 3))
        #expect(process.isRunning)
    }

    @Test func v1ControllerPassesASlowNBDClientOnAsBackpressureNotACrash() async throws {
        let replicas = try ReplicaSet(count: 2)
        let frontendPort = freeTCPPort()
        let statusSocket = "\(replicas.root)/status.sock"
        var arguments = [
            "controller", "vol", "--size", String(replicas.size), "--frontend", "nbd", "--listen", "127.0.0.1:\(frontendPort)",
            "--status-socket", statusSocket,
        ]
        for port in replicas.ports { arguments += ["--replica", "tcp://127.0.0.1:\(port)"] }
        let controller = try HornbillProcess(arguments)
        _ = try rawClient(port: frontendPort)
        for _ in 0..<300 where (try? JSONRPCClient(path: statusSocket)) == nil { usleep(20_000) }
        let uri = "nbd://127.0.0.1:\(frontendPort)/vol"
        func modes() throws -> [String] {
            guard case .success(let status) = try JSONRPCClient(path: statusSocket).call("controller_status"),
                case .array(let list)? = status["replicas"]
            else { return [] }
            return list.map { if case .string(let mode)? = $0["mode"] { mode } else { "" } }
        }
        try writeAndVerifyOverNBD(uri, pattern: 0x77, offset: 0)
        let pids = [controller.pid] + replicas.processes.map(\.pid)
        let baselines = pids.map(residentBytes)

        // 1 MiB reads: each becomes a read on a replica, whose replies the controller must take.
        let (slow, requested) = try await floodNBDReads(port: frontendPort, export: "vol", length: 1 << 20, span: replicas.size)
        try #require(requested > oldOutputLimitBytes, "the flood asked for only \(requested) bytes")
        try writeAndVerifyOverNBD(uri, pattern: 0x88, offset: 8 << 20)
        #expect(controller.isRunning && replicas.processes.allSatisfy(\.isRunning))
        #expect(try modes() == ["RW", "RW"])
        for (pid, baseline) in zip(pids, baselines) {
            let grown = residentBytes(pid) - baseline
            #expect(grown < residentGrowthBoundBytes, "process \(pid): resident memory grew by \(grown) bytes, flood asked for \(requested)")
        }
        // Reading again, the slow client gets its replies.
        #expect(loadBE(try slow.receiveAndDrop(resumedReadBytes), 0, as: UInt32.self) == 0x6744_6698)

        slow.close()
        try writeAndVerifyOverNBD(uri, pattern: 0x99, offset: 16 << 20)
        #expect(controller.isRunning && replicas.processes.allSatisfy(\.isRunning))
        #expect(try modes() == ["RW", "RW"])
    }
}
