// Every listener of the data plane meets hostile clients, as real processes: `hornbill tgt`'s
// NVMe/TCP target, NBD export and JSON-RPC socket, a V1 `hornbill replica`, and a V1
// `hornbill controller`'s NBD frontend. Each gets six classes of abuse (frames in
// AbuseFrames.swift): random bytes, mutated valid sessions (bytes flipped, inserted, deleted),
// length fields that lie, zero lengths, valid sessions cut short then closed, and 200 connections
// at once. A hostile connection sends its bytes, then half-closes; the server must end it (answer
// and close, or close) within a bound. After each class the process is alive, a normal client
// writes a pattern and reads it back, and the process's resident memory (VmRSS) is at most
// `AbuseRun.rssGrowthBoundKiB` above what it had once set up and first verified.
//
// Every random choice comes from a seeded generator: a failure replays from its seed.

import BlockCore
import BlockDevices
import DataEngineV1
import Foundation
import Glibc
import JSONRPC
import NBD
import NVMeTCP
import NVMeWire
import StorageKit
import TestSupport
import Testing

/// A hornbill process under abuse and how to reach and check it.
private final class AbuseRun: @unchecked Sendable {
    /// How far VmRSS may grow over the run: 200 connections' buffers (NVMe/TCP 264 KiB, NBD and
    /// replica 256 KiB receive buffers, slot buffers) at once with room for the allocator's
    /// caching, and far below what a per-connection or per-request leak over ~1,000 connections
    /// reaches.
    static let rssGrowthBoundKiB = 96 * 1024
    /// Longest one class may take: each wait in it is bounded, and so is their sum.
    static let classTimeLimit: Duration = .seconds(60)

    let name: String
    let pid: Int32
    let isRunning: @Sendable () -> Bool
    let connect: @Sendable () throws -> RawSocket
    /// A normal client writes a pattern chosen by the round and reads it back.
    let verify: @Sendable (Int) async throws -> Void
    private var round = 0
    private var baselineKiB = 0
    private(set) var peakKiB = 0
    var random: SeededRandom

    init(
        name: String, pid: Int32, seed: UInt64, isRunning: @escaping @Sendable () -> Bool, connect: @escaping @Sendable () throws -> RawSocket,
        verify: @escaping @Sendable (Int) async throws -> Void
    ) {
        self.name = name
        self.pid = pid
        self.isRunning = isRunning
        self.connect = connect
        self.verify = verify
        random = SeededRandom(seed: seed)
    }

    /// Verifies once and takes the memory baseline.
    func start() async throws {
        try await verify(0)
        baselineKiB = residentKiB(pid) ?? 0
        peakKiB = baselineKiB
    }

    /// Sends each stream on a connection of its own (after its prefix), half-closes, and waits for
    /// the server to end the connection; then checks the process.
    func hostile(_ className: String, _ streams: [HostileStream], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let connect = self.connect
        let failures = try await offThread { () -> [String] in
            var failures: [String] = []
            let deadline = ContinuousClock.now + Self.classTimeLimit
            for (index, stream) in streams.enumerated() {
                guard ContinuousClock.now < deadline else {
                    failures.append("#\(index)...: not run, the class took over \(Self.classTimeLimit)")
                    break
                }
                guard let socket = try? connect() else {
                    failures.append("#\(index): cannot connect")
                    continue
                }
                guard stream.prefix.exchange(socket) else {
                    failures.append("#\(index): prefix \(stream.prefix.name) not answered")
                    continue
                }
                socket.send(stream.bytes)
                socket.shutdownWrite()
                if !socket.drainUntilClosed(timeout: .seconds(15)) { failures.append("#\(index): not ended by the server") }
            }
            return failures
        }
        #expect(failures.isEmpty, "\(name), \(className): \(failures.prefix(5))", sourceLocation: sourceLocation)
        try await check(className, sourceLocation: sourceLocation)
    }

    /// Opens `count` connections, then runs `exchange` on each (true: served; false: refused or
    /// closed), then closes them all; at least `minimumServed` must be served.
    func concurrent(
        count: Int = 200, minimumServed: Int = 200, _ exchange: @escaping @Sendable (RawSocket) -> Bool,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let connect = self.connect
        let served = try await offThread { () -> Int in
            let sockets = (0..<count).compactMap { _ in try? connect() }
            let deadline = ContinuousClock.now + Self.classTimeLimit
            let served = sockets.filter { ContinuousClock.now < deadline && exchange($0) }.count
            for socket in sockets { socket.close() }
            return served
        }
        #expect(served >= minimumServed, "\(name): \(served) of \(count) concurrent connections served", sourceLocation: sourceLocation)
        try await check("\(count) concurrent connections", sourceLocation: sourceLocation)
    }

    /// The process is alive, serves correct data, and its memory is bounded.
    func check(_ className: String, sourceLocation: SourceLocation) async throws {
        // A process that died may not be reaped yet: a zombie has no VmRSS.
        try #require(isRunning() && residentKiB(pid) != nil, "\(name) died under \(className)", sourceLocation: sourceLocation)
        round += 1
        try await verify(round)
        let rss = residentKiB(pid) ?? 0
        peakKiB = max(peakKiB, rss)
        #expect(
            rss <= baselineKiB + Self.rssGrowthBoundKiB,
            "\(name) after \(className): VmRSS \(rss) KiB, baseline \(baselineKiB) KiB", sourceLocation: sourceLocation)
    }

    /// The classes every listener gets, with the protocol's own length lies and zero lengths.
    func allClasses(
        session: [UInt8], sessionPrefix: AbusePrefix = .none, prefixes: [AbusePrefix], lengthLies: [HostileStream],
        zeroLengths: [HostileStream], rounds: Int = 40, exchange: @escaping @Sendable (RawSocket) -> Bool, minimumServed: Int = 200
    ) async throws {
        var randomStreams: [HostileStream] = []
        var mutated: [HostileStream] = []
        var truncated: [HostileStream] = []
        for index in 0..<rounds {
            let prefix = prefixes[index % prefixes.count]
            let count = Int.random(in: 0..<2048, using: &random)
            randomStreams.append(HostileStream(prefix: prefix, bytes: ByteMutator.random(count: count, using: &random)))
            mutated.append(HostileStream(prefix: sessionPrefix, bytes: ByteMutator.mutate(session, maxEdits: 6, using: &random)))
            truncated.append(HostileStream(prefix: sessionPrefix, bytes: ByteMutator.truncate(session, using: &random)))
        }
        try await hostile("random frames", randomStreams)
        try await hostile("mutated frames", mutated)
        try await hostile("length lies", lengthLies)
        try await hostile("zero lengths", zeroLengths)
        try await hostile("truncated frames", truncated)
        try await concurrent(minimumServed: minimumServed, exchange)
    }
}

/// VmRSS of a process in KiB.
private func residentKiB(_ pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
    return nil
}

/// Waits until something accepts on 127.0.0.1:`port` (bounded).
private func waitForListener(_ port: UInt16) {
    for _ in 0..<500 {
        if (try? RawSocket.connect(port: port)) != nil { return }
        usleep(20_000)
    }
}

/// qemu-io writes a pattern of 64 KiB at an offset chosen by `round` and reads it back,
/// verifying the pattern; returns its exit status and output.
private func qemuIOWritesAndReadsBack(_ uri: String, round: Int) throws -> (Int32, String) {
    let pattern = 0x10 + round % 0xE0
    let offset = (round % 64) * 65536
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "qemu-io", "-f", "raw", "-c", "write -P \(pattern) \(offset) 64k", "-c", "read -P \(pattern) \(offset) 64k", uri,
    ]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, output)
}

/// The normal NBD client's check, off the test's task threads.
private func verifyOverNBD(_ uri: String) -> @Sendable (Int) async throws -> Void {
    { round in
        let (status, output) = try await offThread { try qemuIOWritesAndReadsBack(uri, round: round) }
        #expect(
            status == 0 && output.contains("wrote 65536/65536") && output.contains("read 65536/65536") && !output.contains("failed"),
            "qemu-io on \(uri), round \(round): \(output)")
    }
}

/// A little NBD on one connection: the greeting, EXPORT_NAME, a 4 KiB read answered.
private func nbdReadExchange(_ export: String) -> @Sendable (RawSocket) -> Bool {
    { socket in
        guard NBDFrames.transmitting(export).exchange(socket) else { return false }
        socket.send(NBDFrames.request(.read, cookie: 42, offset: 0, length: 4096))
        guard let reply = socket.receive(exactly: 16 + 4096, timeout: .seconds(10)) else { return false }
        return reply.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) == 0 }
    }
}

/// The test's own NVMe/TCP host, the normal client of the target.
private let abuseHostReactor: Reactor = {
    do { return try Reactor(name: "abuse-host") } catch { fatalError("\(error)") }
}()

@Suite struct AbuseTests {
    @Test func nvmeTCPTargetOfTgt() async throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        let port = freeTCPPort()
        let nqn = "nqn.2023-01.io.hornbill:abuse"
        try rpc(client, "bdev_malloc_create", [("name", .string("abuse")), ("num_blocks", .integer(4096)), ("block_size", .integer(4096))])
        try rpc(client, "nvmf_create_transport", [("trtype", .string("TCP"))])
        try rpc(client, "nvmf_create_subsystem", [("nqn", .string(nqn)), ("allow_any_host", .bool(true))])
        try rpc(client, "nvmf_subsystem_add_ns", [("nqn", .string(nqn)), ("namespace", params([("bdev_name", .string("abuse"))]))])
        try rpc(client, "nvmf_subsystem_add_listener", [
            ("nqn", .string(nqn)),
            ("listen_address", params([("trtype", .string("tcp")), ("adrfam", .string("ipv4")), ("traddr", .string("127.0.0.1")), ("trsvcid", .string(String(port)))])),
        ])
        let process = daemon.process
        let run = AbuseRun(
            name: "tgt NVMe/TCP", pid: process.processIdentifier, seed: 1401, isRunning: { process.isRunning },
            connect: { try RawSocket.connect(port: port) },
            verify: { round in
                let host = try await NVMeHostController.attach(
                    name: "abuse\(round)", options: .init(address: "127.0.0.1", serviceID: String(port), subsystemNQN: nqn), reactor: abuseHostReactor)
                defer { Task { await host.detach() } }
                let device = try #require(host.namespaces.first)
                var random = SeededRandom(seed: UInt64(round))
                let written = IOBuffer(byteCount: 65536)
                random.fill(written.bytes)
                let offset = UInt64(round % 64) * 16
                try await device.makeChannel().write(written.vector(), offsetBlocks: offset)
                let read = IOBuffer(byteCount: 65536)
                try await device.makeChannel().read(read.vector(), offsetBlocks: offset)
                let same = withExtendedLifetime((read, written)) { memcmp(read.bytes.baseAddress!, written.bytes.baseAddress!, 65536) == 0 }
                #expect(same, "NVMe/TCP read back other data in round \(round)")
            })
        try await run.start()
        let connected = NVMeFrames.connected(nqn)
        try await run.allClasses(
            session: NVMeFrames.connectedSession(), sessionPrefix: connected, prefixes: [.none, NVMeFrames.initialized, connected],
            lengthLies: NVMeFrames.lengthLies(nqn), zeroLengths: NVMeFrames.zeroLengths(nqn),
            exchange: { NVMeFrames.initialized.exchange($0) })
        // Whole sessions from the first byte, mutated: the ICReq and Connect too.
        var random = SeededRandom(seed: 1402)
        let whole = ICReq().encode() + NVMeFrames.connect(nqn)
        try await run.hostile("mutated initialization", (0..<20).map { _ in HostileStream(bytes: ByteMutator.mutate(whole, using: &random)) })
        // An I/O queue of a live controller: mutated and cut-short I/O commands, and commands
        // whose lengths lie (NLB against the SGL, ranges past the namespace, DSM ranges count).
        let keeper = SocketKeeper()
        let ioQueue = NVMeFrames.ioQueue(nqn, port: port, keeper: keeper)
        let ioSession = NVMeFrames.ioSession()
        try await run.hostile(
            "I/O queue, mutated and truncated",
            (0..<30).map { index in
                HostileStream(prefix: ioQueue, bytes: index % 3 == 2 ? ByteMutator.truncate(ioSession, using: &random) : ByteMutator.mutate(ioSession, maxEdits: 6, using: &random))
            })
        func io(_ opcode: UInt8, lba: UInt64, blocks: UInt32, cdw11: UInt32 = 0, transport: Int? = nil, data: [UInt8] = []) -> [UInt8] {
            var entry = SubmissionEntry(opcode: opcode, commandID: 9, namespaceID: 1)
            entry.cdw10 = UInt32(truncatingIfNeeded: lba)
            entry.cdw11 = opcode == IOOpcode.datasetManagement ? cdw11 : UInt32(truncatingIfNeeded: lba >> 32)
            entry.cdw12 = opcode == IOOpcode.datasetManagement ? 0 : blocks
            if let transport { entry.setTransportData(length: transport) } else if !data.isEmpty { entry.setInCapsuleData(length: data.count) }
            return NVMeFrames.command(entry, data: data)
        }
        let block = [UInt8](repeating: 0x66, count: 4096)
        try await run.hostile(
            "I/O queue, lengths that lie and zero lengths",
            [
                io(IOOpcode.write, lba: 0, blocks: 7, data: block),  // 8 blocks declared, 1 sent
                io(IOOpcode.read, lba: 0, blocks: 0xFFFF, transport: 4096),
                io(IOOpcode.read, lba: UInt64.max - 1, blocks: 3, transport: 16384),
                io(IOOpcode.write, lba: 4095, blocks: 1, transport: 8192),
                io(IOOpcode.writeZeroes, lba: UInt64.max, blocks: 0xFFFF),
                io(IOOpcode.datasetManagement, lba: 0xFF, blocks: 0, cdw11: 1 << 2, data: [UInt8](repeating: 0xFF, count: 16)),
                io(IOOpcode.datasetManagement, lba: 0, blocks: 0, cdw11: 1 << 2, transport: 0),
                io(IOOpcode.write, lba: 0, blocks: 0, transport: 0),
                io(IOOpcode.read, lba: 0, blocks: 0, transport: 0),
                io(IOOpcode.write, lba: 0, blocks: 0, data: []),
                io(0x7E, lba: 0, blocks: 0, data: block),
            ].map { HostileStream(prefix: ioQueue, bytes: $0) })
        withExtendedLifetime(keeper) {}
    }

    @Test func nbdExportOfTgt() async throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        let port = freeTCPPort()
        try rpc(client, "bdev_malloc_create", [("name", .string("abuse")), ("num_blocks", .integer(4096)), ("block_size", .integer(4096))])
        try rpc(client, "nbd_export_create", [
            ("name", .string("abuse")), ("bdev_name", .string("abuse")),
            ("listen_address", params([("traddr", .string("127.0.0.1")), ("trsvcid", .string(String(port)))])),
        ])
        let process = daemon.process
        let run = AbuseRun(
            name: "tgt NBD", pid: process.processIdentifier, seed: 1403, isRunning: { process.isRunning },
            connect: { try RawSocket.connect(port: port) }, verify: verifyOverNBD("nbd://127.0.0.1:\(port)/abuse"))
        try await run.start()
        try await run.allClasses(
            session: NBDFrames.session("abuse"), prefixes: [.none, NBDFrames.transmitting("abuse")],
            lengthLies: NBDFrames.lengthLies("abuse"), zeroLengths: NBDFrames.zeroLengths("abuse"), exchange: nbdReadExchange("abuse"))
        var random = SeededRandom(seed: 1404)
        let transmitting = NBDFrames.transmitting("abuse")
        try await run.hostile(
            "mutated requests", (0..<30).map { _ in HostileStream(prefix: transmitting, bytes: ByteMutator.mutate(NBDFrames.transmission(), using: &random)) })
    }

    @Test func jsonRPCSocketOfTgt() async throws {
        let daemon = try Daemon()
        let socketPath = daemon.socket
        let process = daemon.process
        let run = AbuseRun(
            name: "tgt JSON-RPC", pid: process.processIdentifier, seed: 1405, isRunning: { process.isRunning },
            connect: { try RawSocket.connect(unixPath: socketPath) },
            verify: { round in
                let client = try JSONRPCClient(path: socketPath)
                let name = "alive\(round)"
                #expect(try rpc(client, "bdev_malloc_create", [("name", .string(name)), ("num_blocks", .integer(256 + round)), ("block_size", .integer(512))]) == .string(name))
                let listed = try rpc(client, "bdev_get_bdevs", [("name", .string(name))])
                #expect(listed[0]?["num_blocks"] == .integer(256 + round), "bdev_get_bdevs answered \(listed)")
                try rpc(client, "bdev_malloc_delete", [("name", .string(name))])
            })
        try await run.start()
        // Over JSONRPCLimits.maxConnections at once, the rest are closed: at least that many are served.
        try await run.allClasses(
            session: JSONRPCFrames.session, prefixes: [.none], lengthLies: JSONRPCFrames.lengthLies(), zeroLengths: JSONRPCFrames.zeroLengths(),
            exchange: { socket in
                socket.send(Array(#"{"jsonrpc":"2.0","method":"spdk_get_version","id":1}"#.utf8))
                var reply: [UInt8] = []
                while !reply.contains(0x0A), let chunk = socket.receive(timeout: .seconds(10)), !chunk.isEmpty { reply += chunk }
                return String(decoding: reply, as: UTF8.self).contains("\"result\"")
            },
            minimumServed: 1)
    }

    @Test func replicaProcess() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hornbill-abuse-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = freeTCPPort()
        let replica = try HornbillProcess(["replica", directory, "--size", String(16 << 20), "--listen", "127.0.0.1:\(port)"])
        waitForListener(port)
        let process = replica.process
        let run = AbuseRun(
            name: "replica", pid: process.processIdentifier, seed: 1406, isRunning: { process.isRunning },
            connect: { try RawSocket.connect(port: port) },
            verify: { round in
                let (answers, sameData) = try await offThread { () -> ([ReplicaResponse?], Bool) in
                    // A normal replica client: a write with the next revision, its answer, then a read.
                    let socket = try RawSocket.connect(port: port)
                    var random = SeededRandom(seed: UInt64(round))
                    let data = ByteMutator.random(count: 4096, using: &random)
                    let offset = UInt64(round % 64) * 4096
                    socket.send(ReplicaFrames.request(.write, id: 1, offset: offset, length: 4096, revision: UInt64(round + 1)) + data)
                    let written = socket.receive(exactly: ReplicaProtocol.responseBytes, timeout: .seconds(10)) ?? []
                    socket.send(ReplicaFrames.request(.read, id: 2, offset: offset, length: 4096))
                    let read = socket.receive(exactly: ReplicaProtocol.responseBytes + 4096, timeout: .seconds(10)) ?? []
                    let answers = [written, read].map { bytes in bytes.withUnsafeBytes { ReplicaResponse(bytes: $0) } }
                    return (answers, read.count == ReplicaProtocol.responseBytes + 4096 && Array(read.dropFirst(ReplicaProtocol.responseBytes)) == data)
                }
                #expect(answers.map { $0?.status } == [0, 0] && answers.map { $0?.id } == [1, 2], "replica answers \(answers)")
                #expect(sameData, "the replica read back other data in round \(round)")
            })
        try await run.start()
        try await run.allClasses(
            session: ReplicaFrames.session(), prefixes: [.none], lengthLies: ReplicaFrames.lengthLies(), zeroLengths: ReplicaFrames.zeroLengths(),
            exchange: { socket in
                socket.send(ReplicaFrames.request(.ping, id: 9))
                return socket.receive(exactly: ReplicaProtocol.responseBytes, timeout: .seconds(10))?.withUnsafeBytes { ReplicaResponse(bytes: $0) }?.id == 9
            })
    }

    @Test func nbdFrontendOfTheV1Controller() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hornbill-abuse-v1-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let (replicaPort, frontendPort) = (freeTCPPort(), freeTCPPort())
        let size = 16 << 20
        let replica = try HornbillProcess(["replica", "\(root)/replica", "--size", String(size), "--listen", "127.0.0.1:\(replicaPort)"])
        waitForListener(replicaPort)
        let controller = try HornbillProcess([
            "controller", "vol", "--size", String(size), "--frontend", "nbd", "--listen", "127.0.0.1:\(frontendPort)",
            "--status-socket", "\(root)/status.sock", "--replica", "tcp://127.0.0.1:\(replicaPort)",
        ])
        waitForListener(frontendPort)
        let process = controller.process, replicaProcess = replica.process
        let run = AbuseRun(
            name: "controller NBD", pid: process.processIdentifier, seed: 1407, isRunning: { process.isRunning && replicaProcess.isRunning },
            connect: { try RawSocket.connect(port: frontendPort) }, verify: verifyOverNBD("nbd://127.0.0.1:\(frontendPort)/vol"))
        try await run.start()
        try await run.allClasses(
            session: NBDFrames.session("vol"), prefixes: [.none, NBDFrames.transmitting("vol")],
            lengthLies: NBDFrames.lengthLies("vol"), zeroLengths: NBDFrames.zeroLengths("vol"), exchange: nbdReadExchange("vol"))
    }
}
