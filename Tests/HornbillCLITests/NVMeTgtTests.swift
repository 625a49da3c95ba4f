// Two `hornbill tgt` processes over NVMe/TCP on loopback, as Longhorn's V2 engine uses them: one
// exports a replica lvol, the other attaches it and mirrors it with a local lvol in a RAID1, which
// it exports as the volume. The test process is the volume's NVMe/TCP host.

import BlockCore
import BlockDevices
import Foundation
import JSONRPC
import NVMeTCP
import StorageKit
import TestSupport
import Testing


/// One node: a daemon with an lvstore on a file and an lvol exported over NVMe/TCP.
private struct Node {
    let daemon: Daemon
    let client: JSONRPCClient
    let port: UInt16

    static func start(
        file: TemporaryFile, store: String, lvol: String, port: UInt16, create: Bool, arguments: [String] = []
    ) throws -> Node {
        let daemon = try Daemon(arguments)
        let client = try daemon.client()
        try rpc(client, "bdev_aio_create", [("name", text("aio-\(store)")), ("filename", text(file.path)), ("block_size", .integer(4096))])
        if create {
            try rpc(client, "bdev_lvol_create_lvstore", [("bdev_name", text("aio-\(store)")), ("lvs_name", text(store)), ("cluster_sz", .integer(1 << 20))])
            try rpc(client, "bdev_lvol_create", [("lvs_name", text(store)), ("lvol_name", text(lvol)), ("size_in_mib", .integer(32)), ("thin_provision", .bool(true))])
        }
        try rpc(client, "nvmf_create_transport", [("trtype", text("TCP"))])
        return Node(daemon: daemon, client: client, port: port)
    }

    /// Exports `bdev` as the only namespace of `nqn` on this node's port.
    func export(_ bdev: String, nqn: String) throws {
        try rpc(client, "nvmf_create_subsystem", [("nqn", text(nqn)), ("allow_any_host", .bool(true))])
        try rpc(client, "nvmf_subsystem_add_ns", [("nqn", text(nqn)), ("namespace", params([("bdev_name", text(bdev))]))])
        try rpc(client, "nvmf_subsystem_add_listener", [
            ("nqn", text(nqn)),
            ("listen_address", params([("trtype", text("tcp")), ("adrfam", text("ipv4")), ("traddr", text("127.0.0.1")), ("trsvcid", text(String(port)))])),
        ])
    }

    func attach(_ name: String, to nqn: String, port: UInt16, reconnectDelay: Int, lossTimeout: Int, fastFail: Int) throws -> JSONValue {
        try rpc(client, "bdev_nvme_attach_controller", [
            ("name", text(name)), ("trtype", text("tcp")), ("traddr", text("127.0.0.1")), ("adrfam", text("ipv4")),
            ("trsvcid", text(String(port))), ("subnqn", text(nqn)), ("hostnqn", text("nqn.2023-01.io.longhorn.spdk:internal-host")),
            ("multipath", text("disable")), ("reconnect_delay_sec", .integer(reconnectDelay)),
            ("ctrlr_loss_timeout_sec", .number(String(lossTimeout))), ("fast_io_fail_timeout_sec", .integer(fastFail)),
        ])
    }

    func controllerState(_ name: String) throws -> String? {
        guard case .success(.array(let list)) = try client.call("bdev_nvme_get_controllers", params: params([("name", text(name))])),
            case .array(let paths)? = list.first?["ctrlrs"], case .string(let state)? = paths.first?["state"]
        else { return nil }
        return state
    }
}

/// The test's own NVMe/TCP host.
private let hostReactor: Reactor = {
    do { return try Reactor(name: "test-host") } catch { fatalError("\(error)") }
}()

private func attachHost(port: UInt16, nqn: String) async throws -> NVMeHostController {
    try await NVMeHostController.attach(
        name: "host\(port)", options: .init(address: "127.0.0.1", serviceID: String(port), subsystemNQN: nqn), reactor: hostReactor)
}

/// Reads `blocks` blocks at `offset` of `device` into a fresh buffer.
private func read(_ device: any BlockDevice, _ offset: UInt64, _ blocks: Int) async throws -> IOBuffer {
    let buffer = IOBuffer(byteCount: blocks * device.blockSize)
    try await device.makeChannel().read(buffer.vector(), offsetBlocks: offset)
    return buffer
}

@Suite(.serialized) struct NVMeTgtTests {
    @Test func raid1OfLocalAndRemoteLvolMirrorsAndSurvivesRemoteSIGKILL() async throws {
        let fileA = try TemporaryFile(size: 64 << 20)
        let fileB = try TemporaryFile(size: 64 << 20)
        let (portA, portB) = (freeTCPPort(), freeTCPPort())
        let replicaNQN = "nqn.2023-01.io.longhorn.spdk:r1"
        let volumeNQN = "nqn.2023-01.io.hornbill:vol"

        // The replica's daemon never polls: every command and completion wakes it.
        var nodeA: Node? = try Node.start(
            file: fileA, store: "lvsA", lvol: "r1", port: portA, create: true, arguments: ["--interrupt-mode"])
        try nodeA!.export("lvsA/r1", nqn: replicaNQN)
        let nodeB = try Node.start(file: fileB, store: "lvsB", lvol: "r0", port: portB, create: true)
        #expect(try nodeB.attach("r1", to: replicaNQN, port: portA, reconnectDelay: 1, lossTimeout: 3, fastFail: 1) == .array([text("r1n1")]))
        let remote = try rpc(nodeB.client, "bdev_get_bdevs", [("name", text("r1n1"))])
        #expect(remote[0]?["product_name"] == text("NVMe disk"))
        #expect(remote[0]?["driver_specific"]?["nvme"]?[0]?["trid"]?["subnqn"] == text(replicaNQN))
        try rpc(nodeB.client, "bdev_raid_create", [
            ("name", text("vol")), ("raid_level", text("raid1")), ("base_bdevs", .array([text("lvsB/r0"), text("r1n1")])), ("strip_size_kb", .integer(0)),
        ])
        try nodeB.export("vol", nqn: volumeNQN)

        // Write through the volume, then read each leg on its own.
        let volume = try await attachHost(port: portB, nqn: volumeNQN)
        let device = volume.namespaces[0]
        #expect(device.blockCount == 32 * 256)
        var random = SeededRandom(seed: 5)
        let first = IOBuffer(byteCount: 4 << 20)
        random.fill(first.bytes)
        try await device.makeChannel().write(first.vector(), offsetBlocks: 1000)
        let replica = try await attachHost(port: portA, nqn: replicaNQN)
        let onReplica = try await read(replica.namespaces[0], 1000, 1024)
        #expect(withExtendedLifetime(onReplica) { memcmp(onReplica.bytes.baseAddress!, first.bytes.baseAddress!, 4 << 20) } == 0)
        await replica.detach()

        // Writes keep flowing while the remote daemon is killed; every acknowledged one lands.
        let channel = try device.makeChannel()
        let block = IOBuffer(byteCount: 4096)
        var acknowledged: [UInt64: UInt64] = [:]  // block -> the value written there
        let killAt = ContinuousClock.now + .milliseconds(300)
        let stopAt = ContinuousClock.now + .seconds(3)
        var killed = false
        var value: UInt64 = 1
        while ContinuousClock.now < stopAt {
            if !killed, ContinuousClock.now >= killAt {
                kill(nodeA!.daemon.process.processIdentifier, SIGKILL)
                killed = true
            }
            let target = UInt64(random.next() % 512) * 8
            block.bytes.storeBytes(of: value, as: UInt64.self)
            try await channel.write(block.vector(), offsetBlocks: target)
            acknowledged[target] = value
            value += 1
        }
        #expect(killed && acknowledged.count > 50)
        nodeA!.daemon.process.waitUntilExit()
        nodeA = nil
        let raid = try rpc(nodeB.client, "bdev_raid_get_bdevs", [("category", text("online"))])
        #expect(raid[0]?["num_base_bdevs_operational"] == .integer(1))
        let local = try rpc(nodeB.client, "bdev_get_bdevs", [("name", text("lvsB/r0"))])
        #expect(raid[0]?["base_bdevs_list"]?[0]?["name"] == local[0]?["name"])
        #expect(raid[0]?["base_bdevs_list"]?[1]?["is_configured"] == .bool(false))
        for (target, expected) in acknowledged {
            let back = try await read(device, target, 1)
            #expect(back.bytes.load(as: UInt64.self) == expected, "block \(target)")
        }
        // The first write is intact on the surviving leg wherever the loop did not overwrite it.
        let survivor = try await read(device, 1000, 1024)
        for index in 0..<1024 where acknowledged[UInt64(1000 + index)] == nil {
            let same = withExtendedLifetime((survivor, first)) {
                memcmp(survivor.bytes.baseAddress! + index * 4096, first.bytes.baseAddress! + index * 4096, 4096) == 0
            }
            #expect(same, "block \(1000 + index)")
        }
        // The lost controller is given up after ctrlr_loss_timeout_sec and its bdev removed.
        var gone = false
        for _ in 0..<100 where !gone {
            if case .failure = try nodeB.client.call("bdev_get_bdevs", params: params([("name", text("r1n1"))])) { gone = true }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(gone)
        await volume.detach()
    }

    @Test func hostReconnectsWhenTheTargetReturns() async throws {
        let file = try TemporaryFile(size: 64 << 20)
        let port = freeTCPPort()
        let nqn = "nqn.2023-01.io.longhorn.spdk:r2"
        var target: Node? = try Node.start(file: file, store: "lvs", lvol: "r2", port: port, create: true)
        try target!.export("lvs/r2", nqn: nqn)
        let engine = try Node.start(file: try TemporaryFile(size: 16 << 20), store: "e", lvol: "unused", port: freeTCPPort(), create: false)
        _ = try engine.attach("r2", to: nqn, port: port, reconnectDelay: 1, lossTimeout: -1, fastFail: 0)
        #expect(try engine.controllerState("r2") == "enabled")

        kill(target!.daemon.process.processIdentifier, SIGKILL)
        target!.daemon.process.waitUntilExit()
        target = nil
        var lost = false
        for _ in 0..<50 where !lost {
            lost = try engine.controllerState("r2") != "enabled"
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(lost)
        // The same replica comes back on the same port: the lvstore reloads from the file.
        let returned = try Node.start(file: file, store: "lvs", lvol: "r2", port: port, create: false)
        try returned.export("lvs/r2", nqn: nqn)
        var back = false
        for _ in 0..<100 where !back {
            back = try engine.controllerState("r2") == "enabled"
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(back)
        #expect(try rpc(engine.client, "bdev_get_bdevs", [("name", text("r2n1"))])[0]?["num_blocks"] == .integer(32 * 256))
        // A host that is not allowed is refused at Connect.
        try rpc(returned.client, "nvmf_subsystem_allow_any_host", [("nqn", text(nqn)), ("allow_any_host", .bool(false))])
        try rpc(returned.client, "nvmf_subsystem_add_host", [("nqn", text(nqn)), ("host", text("nqn.2023-01.io.longhorn.spdk:internal-host"))])
        if case .success = try engine.client.call("bdev_nvme_attach_controller", params: params([
            ("name", text("intruder")), ("trtype", text("tcp")), ("traddr", text("127.0.0.1")), ("trsvcid", text(String(port))),
            ("subnqn", text(nqn)), ("hostnqn", text("nqn.2023-01.io.hornbill:intruder")),
        ])) {
            Issue.record("a host that is not listed connected")
        }
        try rpc(engine.client, "bdev_nvme_detach_controller", [("name", text("r2"))])
    }

    /// The Linux kernel's own NVMe/TCP initiator and nvme-cli, in a QEMU guest built from Debian's
    /// packages (scripts/linux-guest/): discovery, a refused host, connect with and without digests,
    /// fio with verification, flush, write zeroes, discard, disconnect and reconnect. The pattern
    /// the guest leaves is then read back here from the lvol.
    @Test func linuxKernelHostDiscoversConnectsDoesIOAndDisconnects() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let scripts = root.appendingPathComponent("scripts/linux-guest")
        let guest = root.appendingPathComponent(".build/linux-guest").path
        let build = try await runScript(scripts.appendingPathComponent("build.sh"), [guest])
        try #require(build.status == 0, "building the Linux guest failed:\n\(build.output)")

        let file = try TemporaryFile(size: 64 << 20)
        let port = freeTCPPort()
        let nqn = "nqn.2023-01.io.longhorn.spdk:kernel-vol"
        let hostNQN = "nqn.2014-08.org.nvmexpress:uuid:8f3c6a52-6d7e-4d8e-9b0f-2f4c7a1e5d10"
        let node = try Node.start(file: file, store: "lvsK", lvol: "vol", port: port, create: true)
        try rpc(node.client, "nvmf_create_subsystem", [("nqn", text(nqn)), ("allow_any_host", .bool(false))])
        try rpc(node.client, "nvmf_subsystem_add_host", [("nqn", text(nqn)), ("host", text(hostNQN))])
        try rpc(node.client, "nvmf_subsystem_add_ns", [("nqn", text(nqn)), ("namespace", params([("bdev_name", text("lvsK/vol"))]))])
        try rpc(node.client, "nvmf_subsystem_add_listener", [
            ("nqn", text(nqn)),
            ("listen_address", params([("trtype", text("tcp")), ("adrfam", text("ipv4")), ("traddr", text("127.0.0.1")), ("trsvcid", text(String(port)))])),
        ])

        let patternOffset: UInt64 = 28 << 20
        let run = try await runScript(
            scripts.appendingPathComponent("run.sh"), [guest, String(port), nqn, hostNQN, String(patternOffset)])
        let failed = run.output.split(separator: "\n").filter { $0.hasPrefix("check FAILED") }
        #expect(failed.isEmpty, "\(failed.joined(separator: "\n"))")
        #expect(run.output.contains("nvme-check: PASS"), "the guest did not pass:\n\(run.output)")
        #expect(run.status == 0)

        // The guest's pattern: "hornbill-guest N" lines, N from 1, cut at 1 MiB.
        var expected = Array((1...100_000).map { "hornbill-guest \($0)\n" }.joined().utf8.prefix(1 << 20))
        try rpc(node.client, "nvmf_subsystem_allow_any_host", [("nqn", text(nqn)), ("allow_any_host", .bool(true))])
        let host = try await attachHost(port: port, nqn: nqn)
        let written = try await read(host.namespaces[0], patternOffset / 4096, 256)
        await host.detach()
        let same = withExtendedLifetime(written) { memcmp(written.bytes.baseAddress!, &expected, 1 << 20) == 0 }
        #expect(same, "the lvol does not hold the pattern the Linux guest wrote")
    }
}

/// Runs a script to its end on a thread of its own; returns its exit status and everything it
/// printed.
private func runScript(_ script: URL, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await offThread {
        let log = try TemporaryFile(size: 0)
        defer { log.remove() }
        let process = Process()
        process.executableURL = script
        process.arguments = arguments
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log.path))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOfFile: log.path, encoding: .utf8)) ?? "")
    }
}
