// Hot remove against real `hornbill tgt` processes, as SPDK does it: the base bdev under an
// lvstore is deleted (malloc, aio) or its NVMe controller goes away (detached, or lost after
// ctrlr_loss_timeout_sec) while fio writes through an NBD export of one lvol and `hornbill perf`
// through an NVMe-oF namespace of another. Both end with errors, the lvols and exports vanish
// from every listing, the daemon keeps serving another bdev's export, and loading the base again
// brings the lvstore back with the data written before.

import Foundation
import Glibc
import JSONRPC
import Synchronization
import TestSupport
import Testing

/// A program running in the background, its output going to a file.
private final class Background {
    let process = Process()
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("hornbill-hotremove-\(UUID().uuidString).log").path

    init(_ arguments: [String]) throws {
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    /// Waits for the program to end, at most `seconds`, then stops it. Returns its status and
    /// output, and whether it had to be stopped.
    func finish(within seconds: Double) -> (status: Int32, output: String, timedOut: Bool) {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        let timedOut = process.isRunning
        if timedOut {
            process.terminate()
            usleep(500_000)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: outputPath)
        return (process.terminationStatus, output, timedOut)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Writes `pattern` over the first MiB of an NBD export (qemu-io verifies nothing here).
private func writePattern(_ uri: String, _ pattern: UInt8) throws -> Bool {
    let result = try runProgram(["qemu-io", "-f", "raw", "-c", "write -P \(pattern) 0 1M", uri], timeoutSeconds: 60)
    return result.status == 0 && !result.output.contains("failed")
}

/// True when the first MiB of an NBD export holds `pattern` (qemu-io's read -P checks every byte).
private func holdsPattern(_ uri: String, _ pattern: UInt8) throws -> Bool {
    let result = try runProgram(["qemu-io", "-f", "raw", "-c", "read -P \(pattern) 0 1M", uri], timeoutSeconds: 60)
    return result.status == 0 && !result.output.contains("failed") && !result.output.contains("mismatch")
}

/// The layers stacked on a base bdev in one daemon: lvstore `hr` with lvols `a` (NBD export `a`,
/// where fio runs) and `b` (a namespace of `nqn`, where `hornbill perf` runs), and a bystander
/// malloc bdev exported as `other`.
private struct Stack {
    static let nqn = "nqn.2016-06.io.spdk:hotremove"
    let client: JSONRPCClient
    let nbdPort: UInt16
    let nvmfPort: UInt16

    var uri: String { "nbd://127.0.0.1:\(nbdPort)/a" }
    var otherURI: String { "nbd://127.0.0.1:\(nbdPort)/other" }

    /// Starts the NVMe-oF target and the bystander export.
    static func prepare(_ client: JSONRPCClient) throws -> Stack {
        let stack = Stack(client: client, nbdPort: freeTCPPort(), nvmfPort: freeTCPPort())
        try rpc(client, "nvmf_create_transport", [("trtype", text("TCP"))])
        try rpc(client, "nvmf_create_subsystem", [("nqn", text(nqn)), ("allow_any_host", .bool(true))])
        try rpc(client, "nvmf_subsystem_add_listener", [
            ("nqn", text(nqn)),
            ("listen_address", params([("trtype", text("tcp")), ("adrfam", text("ipv4")), ("traddr", text("127.0.0.1")), ("trsvcid", text(String(stack.nvmfPort)))])),
        ])
        try rpc(client, "bdev_malloc_create", [("name", text("other")), ("num_blocks", .integer(4096)), ("block_size", .integer(4096))])
        try stack.exportNBD("other", bdev: "other")
        #expect(try writePattern(stack.otherURI, 0x33))
        return stack
    }

    func exportNBD(_ name: String, bdev: String) throws {
        try rpc(client, "nbd_export_create", [
            ("name", text(name)), ("bdev_name", text(bdev)),
            ("listen_address", params([("traddr", text("127.0.0.1")), ("trsvcid", text(String(nbdPort)))])),
        ])
    }

    /// Creates the lvstore and its lvols on `base`, or (`create` false) uses the ones loaded.
    func build(on base: String, create: Bool) throws {
        if create {
            try rpc(client, "bdev_lvol_create_lvstore", [("bdev_name", text(base)), ("lvs_name", text("hr")), ("cluster_sz", .integer(1 << 20))])
            for lvol in ["a", "b"] {
                try rpc(client, "bdev_lvol_create", [("lvs_name", text("hr")), ("lvol_name", text(lvol)), ("size_in_mib", .integer(24)), ("thin_provision", .bool(true))])
            }
        }
        try exportNBD("a", bdev: "hr/a")
        try rpc(client, "nvmf_subsystem_add_ns", [("nqn", text(Self.nqn)), ("namespace", params([("bdev_name", text("hr/b"))]))])
    }

    /// Creates a 64 MiB malloc bdev `base` and builds on it.
    func buildOnMallocBase() throws {
        try rpc(client, "bdev_malloc_create", [("name", text("base")), ("num_blocks", .integer(16384)), ("block_size", .integer(4096))])
        try build(on: "base", create: true)
    }

    /// Starts fio writing to export `a` past the pattern, and the project's own NVMe/TCP client
    /// (`hornbill perf`) writing to the namespace of `b`; returns once both lvols have seen writes.
    func startClients() throws -> [Background] {
        let fio = try Background([
            "fio", "--name=hotremove", "--ioengine=nbd", "--uri=\(uri)", "--rw=randwrite", "--bs=4k", "--iodepth=8",
            "--offset=8M", "--size=8M", "--time_based", "--runtime=120",
        ])
        let perf = try Background([
            builtProduct("hornbill").path, "perf", "-d", "nvmf://127.0.0.1:\(nvmfPort)/\(Self.nqn)", "-w", "randwrite",
            "-o", "4096", "-q", "8", "-t", "120",
        ])
        for lvol in ["hr/a", "hr/b"] {
            let deadline = Date().addingTimeInterval(30)
            while !(try hasWrites(lvol)) {
                guard Date() < deadline else {
                    Issue.record("no client wrote to \(lvol) within 30 s")
                    break
                }
                usleep(50_000)
            }
        }
        return [fio, perf]
    }

    func hasWrites(_ bdev: String) throws -> Bool {
        guard case .success(let stat) = try client.call("bdev_get_iostat", params: params([("name", text(bdev))])),
            case .number(let writes)? = stat["bdevs"]?[0]?["num_write_ops"]
        else { return false }
        return (Int(writes) ?? 0) > 0
    }

    /// What the removal must leave: no lvstore, lvols, export `a` or namespace; fio ended with
    /// errors; the bystander export still serving its data.
    func expectGone(after clients: [Background], sourceLocation: SourceLocation = #_sourceLocation) throws {
        for client in clients {
            let result = client.finish(within: 60)
            let name = client.process.arguments?.first ?? "client"
            #expect(!result.timedOut, "\(name) did not end after the removal", sourceLocation: sourceLocation)
            #expect(result.status != 0, "\(name) ended without errors: \(result.output)", sourceLocation: sourceLocation)
        }
        for name in ["hr/a", "hr/b"] {
            #expect(try client.call("bdev_get_bdevs", params: params([("name", text(name))])) == .failure(JSONRPCError(code: -19, message: "No such device")), sourceLocation: sourceLocation)
        }
        #expect(try rpc(client, "bdev_lvol_get_lvstores") == .array([]), sourceLocation: sourceLocation)
        guard case .array(let exports) = try rpc(client, "nbd_export_list") else { return }
        #expect(exports.map { $0["name"] } == [text("other")], sourceLocation: sourceLocation)
        guard case .array(let subsystems) = try rpc(client, "nvmf_get_subsystems") else { return }
        let ours = subsystems.first { $0["nqn"] == text(Self.nqn) }
        #expect(ours?["namespaces"] == .array([]), sourceLocation: sourceLocation)
        #expect(try holdsPattern(otherURI, 0x33), "the bystander export lost its data", sourceLocation: sourceLocation)
        #expect(try runProgram(["nbdinfo", uri], timeoutSeconds: 60).status != 0, sourceLocation: sourceLocation)
    }
}

private func requireClients() throws {
    try #require(try runProgram(["which", "fio", "qemu-io", "nbdinfo"], timeoutSeconds: 60).status == 0, "scripts/test.sh installs fio, qemu-utils and libnbd-bin")
}

@Suite(.serialized) struct HotRemoveTests {
    @Test func deletingAMallocBaseUnloadsTheLvstoreAndEverythingOnIt() throws {
        try requireClients()
        let daemon = try Daemon()
        let client = try daemon.client()
        let stack = try Stack.prepare(client)
        try stack.buildOnMallocBase()
        #expect(try writePattern(stack.uri, 0x5a))
        let clients = try stack.startClients()
        #expect(try rpc(client, "bdev_malloc_delete", [("name", text("base"))]) == .bool(true))
        try stack.expectGone(after: clients)
        // RAM keeps nothing: a new malloc bdev of that name holds no lvstore, and takes a new one.
        try rpc(client, "bdev_malloc_create", [("name", text("base")), ("num_blocks", .integer(16384)), ("block_size", .integer(4096))])
        #expect(try rpc(client, "bdev_lvol_get_lvstores") == .array([]))
        try stack.build(on: "base", create: true)
        #expect(try holdsPattern(stack.uri, 0))
    }

    @Test func deletingAnAIOBaseUnloadsTheLvstoreAndRecreatingItBringsItBack() throws {
        try requireClients()
        let file = try TemporaryFile(size: 64 << 20)
        let daemon = try Daemon()
        let client = try daemon.client()
        let stack = try Stack.prepare(client)
        let aio: [(String, JSONValue)] = [("name", text("base")), ("filename", text(file.path)), ("block_size", .integer(4096))]
        try rpc(client, "bdev_aio_create", aio)
        try stack.build(on: "base", create: true)
        #expect(try writePattern(stack.uri, 0x5a))
        let clients = try stack.startClients()
        #expect(try rpc(client, "bdev_aio_delete", [("name", text("base"))]) == .bool(true))
        try stack.expectGone(after: clients)
        // The same file again: examine loads the lvstore with both lvols and the data.
        try rpc(client, "bdev_aio_create", aio)
        guard case .array(let stores) = try rpc(client, "bdev_lvol_get_lvstores") else { return }
        #expect(stores.map { $0["name"] } == [text("hr")])
        try stack.build(on: "base", create: false)
        #expect(try holdsPattern(stack.uri, 0x5a))
        // And once more, with nothing stacked on the lvols: the lvstore unloads the same way.
        try rpc(client, "nbd_export_delete", [("name", text("a"))])
        #expect(try rpc(client, "bdev_aio_delete", [("name", text("base"))]) == .bool(true))
        #expect(try rpc(client, "bdev_lvol_get_lvstores") == .array([]))
        try rpc(client, "bdev_aio_create", aio)
        #expect(try client.call("bdev_get_bdevs", params: params([("name", text("hr/a"))])).isSuccess)
    }

    @Test func anNVMeControllerGoingAwayUnloadsTheLvstoreOnItsNamespace() throws {
        try requireClients()
        // Node A serves a disk over NVMe/TCP; node B stacks everything on the attached namespace.
        let remote = try Daemon()
        let remoteClient = try remote.client()
        let remoteNQN = "nqn.2016-06.io.spdk:disk"
        let remotePort = freeTCPPort()
        let file = try TemporaryFile(size: 64 << 20)
        try rpc(remoteClient, "bdev_aio_create", [("name", text("disk")), ("filename", text(file.path)), ("block_size", .integer(4096))])
        try rpc(remoteClient, "nvmf_create_transport", [("trtype", text("TCP"))])
        func exportDisk() throws {
            try rpc(remoteClient, "nvmf_create_subsystem", [("nqn", text(remoteNQN)), ("allow_any_host", .bool(true))])
            try rpc(remoteClient, "nvmf_subsystem_add_ns", [("nqn", text(remoteNQN)), ("namespace", params([("bdev_name", text("disk"))]))])
            try rpc(remoteClient, "nvmf_subsystem_add_listener", [
                ("nqn", text(remoteNQN)),
                ("listen_address", params([("trtype", text("tcp")), ("adrfam", text("ipv4")), ("traddr", text("127.0.0.1")), ("trsvcid", text(String(remotePort)))])),
            ])
        }
        try exportDisk()

        let daemon = try Daemon()
        let client = try daemon.client()
        let stack = try Stack.prepare(client)
        func attach(lossTimeout: Int) throws {
            try rpc(client, "bdev_nvme_attach_controller", [
                ("name", text("nvme0")), ("trtype", text("tcp")), ("traddr", text("127.0.0.1")), ("adrfam", text("ipv4")),
                ("trsvcid", text(String(remotePort))), ("subnqn", text(remoteNQN)),
                ("reconnect_delay_sec", .integer(lossTimeout == 0 ? 0 : 1)), ("ctrlr_loss_timeout_sec", .integer(lossTimeout)),
            ])
        }
        try attach(lossTimeout: 0)
        try stack.build(on: "nvme0n1", create: true)
        #expect(try writePattern(stack.uri, 0x5a))

        // Detached: the lvstore unloads (cleanly: the controller still serves its writes).
        var clients = try stack.startClients()
        #expect(try rpc(client, "bdev_nvme_detach_controller", [("name", text("nvme0"))]) == .bool(true))
        try stack.expectGone(after: clients)
        #expect(try client.call("bdev_get_bdevs", params: params([("name", text("nvme0n1"))])).isSuccess == false)

        // Attached again: examine brings the lvstore back with the data.
        try attach(lossTimeout: 2)
        try stack.build(on: "nvme0n1", create: false)
        #expect(try holdsPattern(stack.uri, 0x5a))

        // Lost: the remote subsystem goes away, so reconnects fail and after ctrlr_loss_timeout_sec
        // the controller is given up; the lvstore cannot write any more and is dropped uncleanly.
        clients = try stack.startClients()
        try rpc(remoteClient, "nvmf_delete_subsystem", [("nqn", text(remoteNQN))])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, try client.call("bdev_get_bdevs", params: params([("name", text("hr/a"))])).isSuccess { usleep(100_000) }
        try stack.expectGone(after: clients)
        #expect(try rpc(client, "bdev_nvme_get_controllers") == .array([]))

        // The remote serves the disk again: attaching replays the lvstore's journal.
        try exportDisk()
        try attach(lossTimeout: 2)
        try stack.build(on: "nvme0n1", create: false)
        #expect(try holdsPattern(stack.uri, 0x5a))
        withExtendedLifetime(remote) {}
    }

    @Test func aRAID1StaysOnlineWhenALegsLvstoreIsHotRemoved() throws {
        try requireClients()
        let daemon = try Daemon()
        let client = try daemon.client()
        for index in 0..<2 {
            try rpc(client, "bdev_malloc_create", [("name", text("m\(index)")), ("num_blocks", .integer(16384)), ("block_size", .integer(4096))])
            try rpc(client, "bdev_lvol_create_lvstore", [("bdev_name", text("m\(index)")), ("lvs_name", text("l\(index)")), ("cluster_sz", .integer(1 << 20))])
            try rpc(client, "bdev_lvol_create", [("lvs_name", text("l\(index)")), ("lvol_name", text("v")), ("size_in_mib", .integer(32)), ("thin_provision", .bool(true))])
        }
        try rpc(client, "bdev_raid_create", [("name", text("r")), ("raid_level", text("raid1")), ("base_bdevs", .array([text("l0/v"), text("l1/v")]))])
        let port = freeTCPPort()
        let uri = "nbd://127.0.0.1:\(port)/r"
        try rpc(client, "nbd_export_create", [
            ("name", text("r")), ("bdev_name", text("r")), ("listen_address", params([("traddr", text("127.0.0.1")), ("trsvcid", text(String(port)))])),
        ])
        #expect(try writePattern(uri, 0x5a))
        // fio verifies what it writes while the second leg's base goes away underneath.
        let fio = try Background([
            "fio", "--name=raid", "--ioengine=nbd", "--uri=\(uri)", "--rw=randwrite", "--bs=4k", "--iodepth=8", "--offset=8M",
            "--size=16M", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0", "--randrepeat=0",
        ])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if case .success(let stat) = try client.call("bdev_get_iostat", params: params([("name", text("r"))])),
                case .number(let writes)? = stat["bdevs"]?[0]?["num_write_ops"], (Int(writes) ?? 0) > 0
            { break }
            usleep(50_000)
        }
        #expect(try rpc(client, "bdev_malloc_delete", [("name", text("m1"))]) == .bool(true))
        let result = fio.finish(within: 120)
        #expect(!result.timedOut && result.status == 0, "\(result.output)")
        #expect(try client.call("bdev_get_bdevs", params: params([("name", text("l1/v"))])).isSuccess == false)
        guard case .array(let raids) = try rpc(client, "bdev_raid_get_bdevs", [("category", text("online"))]) else { return }
        #expect(raids.first?["name"] == text("r"))
        #expect(raids.first?["num_base_bdevs_operational"] == .integer(1))
        #expect(try holdsPattern(uri, 0x5a))

        // The surviving leg's lvol deleted outright: the array loses its last leg and, as SPDK's
        // raid_bdev_deconfigure, is unregistered (its export with it) and leaves every listing.
        #expect(try rpc(client, "bdev_lvol_delete", [("name", text("l0/v"))]) == .bool(true))
        #expect(try rpc(client, "bdev_raid_get_bdevs", [("category", text("all"))]) == .array([]))
        #expect(try client.call("bdev_get_bdevs", params: params([("name", text("r"))])) == .failure(JSONRPCError(code: -19, message: "No such device")))
        #expect(try rpc(client, "nbd_export_list") == .array([]))
    }

    @Test func deletingAClaimedRAID1RemovesWhatSitsOnItAndFreesItsLegs() throws {
        try requireClients()
        let daemon = try Daemon()
        let client = try daemon.client()
        let stack = try Stack.prepare(client)
        for index in 0..<2 {
            try rpc(client, "bdev_malloc_create", [("name", text("m\(index)")), ("num_blocks", .integer(8192)), ("block_size", .integer(4096))])
            try rpc(client, "bdev_lvol_create_lvstore", [("bdev_name", text("m\(index)")), ("lvs_name", text("l\(index)")), ("cluster_sz", .integer(1 << 20))])
            try rpc(client, "bdev_lvol_create", [("lvs_name", text("l\(index)")), ("lvol_name", text("v")), ("size_in_mib", .integer(8)), ("thin_provision", .bool(true))])
        }
        try rpc(client, "bdev_raid_create", [("name", text("r")), ("raid_level", text("raid1")), ("base_bdevs", .array([text("l0/v"), text("l1/v")]))])
        try stack.exportNBD("r", bdev: "r")
        let raidURI = "nbd://127.0.0.1:\(stack.nbdPort)/r"
        #expect(try writePattern(raidURI, 0x6b))

        // SPDK unregisters the array rather than refusing it (-16): its export goes.
        #expect(try rpc(client, "bdev_raid_delete", [("name", text("r"))]) == .bool(true))
        #expect(try rpc(client, "bdev_raid_get_bdevs", [("category", text("all"))]) == .array([]))
        #expect(try client.call("bdev_get_bdevs", params: params([("name", text("r"))])) == .failure(JSONRPCError(code: -19, message: "No such device")))
        guard case .array(let exports) = try rpc(client, "nbd_export_list") else { return }
        #expect(exports.map { $0["name"] } == [text("other")])
        #expect(try runProgram(["nbdinfo", raidURI], timeoutSeconds: 60).status != 0)
        // The same with an NVMe-oF namespace on the array: the namespace goes.
        try rpc(client, "bdev_raid_create", [("name", text("r")), ("raid_level", text("raid1")), ("base_bdevs", .array([text("l0/v"), text("l1/v")]))])
        try rpc(client, "nvmf_subsystem_add_ns", [("nqn", text(Stack.nqn)), ("namespace", params([("bdev_name", text("r"))]))])
        #expect(try rpc(client, "bdev_raid_delete", [("name", text("r"))]) == .bool(true))
        guard case .array(let subsystems) = try rpc(client, "nvmf_get_subsystems") else { return }
        #expect(subsystems.first { $0["nqn"] == text(Stack.nqn) }?["namespaces"] == .array([]))
        #expect(try rpc(client, "bdev_raid_get_bdevs", [("category", text("all"))]) == .array([]))
        // The legs are free again (an export claims each) and each holds the mirrored data.
        for index in 0..<2 {
            try stack.exportNBD("leg\(index)", bdev: "l\(index)/v")
            #expect(try holdsPattern("nbd://127.0.0.1:\(stack.nbdPort)/leg\(index)", 0x6b), "leg \(index) lost its data")
        }
    }

    @Test func nbdRequestsInFlightWhenTheExportIsHotRemovedAreAnsweredThenTheConnectionCloses() throws {
        try requireClients()
        let daemon = try Daemon()
        let client = try daemon.client()
        let stack = try Stack.prepare(client)
        try stack.buildOnMallocBase()
        let nbd = try RawNBDConnection(port: stack.nbdPort, export: "a")
        // 64 reads sent together, then the base goes while they are received and executed.
        let cookies = Array(UInt64(1)...64)
        nbd.sendReads(cookies, length: 64 * 1024)
        // The answers are read as they come, while the base is deleted (a client that reads).
        let collected = Mutex<(answers: [UInt64: UInt32], repeated: [UInt64])>(([:], []))
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async { [nbd] in
            while let reply = nbd.readReply(length: 64 * 1024) {
                collected.withLock { if $0.answers.updateValue(reply.error, forKey: reply.cookie) != nil { $0.repeated.append(reply.cookie) } }
            }
            done.signal()
        }
        #expect(try rpc(client, "bdev_malloc_delete", [("name", text("base"))]) == .bool(true))
        // Each is answered — with its data if it completed first, else NBD_EIO — and then the
        // connection closes; nothing is left unanswered and nothing hangs.
        #expect(done.wait(timeout: .now() + 120) == .success, "the answers did not end")
        let (answers, repeated) = collected.withLock { $0 }
        #expect(repeated.isEmpty, "answered twice: \(repeated)")
        #expect(nbd.endedCleanly, "the connection did not close after the answers")
        #expect(answers.keys.sorted() == cookies, "unanswered: \(Set(cookies).subtracting(answers.keys).sorted())")
        #expect(answers.values.allSatisfy { $0 == 0 || $0 == 5 }, "\(answers.filter { $0.value != 0 && $0.value != 5 })")
        try stack.expectGone(after: [])
    }

    @Test func deletingAnLvolRemovesTheExportAndNamespaceOnIt() throws {
        try requireClients()
        let daemon = try Daemon()
        let client = try daemon.client()
        let stack = try Stack.prepare(client)
        try stack.buildOnMallocBase()
        let clients = try stack.startClients()
        #expect(try rpc(client, "bdev_lvol_delete", [("name", text("hr/a"))]) == .bool(true))
        #expect(try rpc(client, "bdev_lvol_delete", [("name", text("hr/b"))]) == .bool(true))
        for program in clients {
            let result = program.finish(within: 60)
            #expect(!result.timedOut && result.status != 0, "\(result.output)")
        }
        guard case .array(let exports) = try rpc(client, "nbd_export_list") else { return }
        #expect(exports.map { $0["name"] } == [text("other")])
        guard case .array(let subsystems) = try rpc(client, "nvmf_get_subsystems") else { return }
        #expect(subsystems.first { $0["nqn"] == text(Stack.nqn) }?["namespaces"] == .array([]))
        guard case .array(let lvols) = try rpc(client, "bdev_lvol_get_lvols") else { return }
        #expect(lvols.isEmpty)
        #expect(try holdsPattern(stack.otherURI, 0x33))
        // The lvstore itself stays and serves new lvols; deleting it removes an export on one.
        try rpc(client, "bdev_lvol_create", [("lvs_name", text("hr")), ("lvol_name", text("a")), ("size_in_mib", .integer(8))])
        try stack.exportNBD("a", bdev: "hr/a")
        #expect(try rpc(client, "bdev_lvol_delete_lvstore", [("lvs_name", text("hr"))]) == .bool(true))
        guard case .array(let remaining) = try rpc(client, "nbd_export_list") else { return }
        #expect(remaining.map { $0["name"] } == [text("other")])
        #expect(try rpc(client, "bdev_lvol_get_lvstores") == .array([]))
    }
}

/// A hand-driven NBD client (NBD_OPT_EXPORT_NAME, simple replies) on a blocking socket whose
/// every wait is bounded, to see exactly which requests the server answers.
private final class RawNBDConnection: @unchecked Sendable {  // one thread at a time
    private let socket: RawSocket
    private var fd: Int32 { socket.fd }
    /// Set when the server closed the connection (rather than a wait running out).
    private(set) var endedCleanly = false

    init(port: UInt16, export: String) throws {
        socket = try RawSocket.connect(port: port)
        guard receive(18) != nil else { throw POSIXError(.ECONNREFUSED) }
        socket.send(be(UInt32(3)))  // fixed newstyle, no zeroes
        socket.send(RawNBD.option(1, Array(export.utf8)))  // NBD_OPT_EXPORT_NAME
        guard receive(10) != nil else { throw POSIXError(.ECONNRESET) }
    }

    /// Exactly `count` bytes; nil at end of stream (then `endedCleanly`) or after 30 s of silence.
    func receive(_ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 30_000) == 1 else { return nil }
            let got = bytes[done...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard got > 0 else {
                endedCleanly = true
                return nil
            }
            done += got
        }
        return bytes
    }

    /// NBD_CMD_READ requests, one per cookie, at offsets `length` apart, in one send.
    func sendReads(_ cookies: [UInt64], length: UInt32) {
        socket.send(cookies.flatMap { RawNBD.request(type: 0, cookie: $0, offset: ($0 - 1) * UInt64(length), length: length) })
    }

    /// The next simple reply to a read of `length` bytes (its data skipped), or nil when none comes.
    func readReply(length: Int) -> (cookie: UInt64, error: UInt32)? {
        guard let header = receive(16), loadBE(header, 0, as: UInt32.self) == 0x6744_6698 else { return nil }
        let error = loadBE(header, 4, as: UInt32.self)
        if error == 0 { guard receive(length) != nil else { return nil } }
        return (loadBE(header, 8, as: UInt64.self), error)
    }
}

extension Result {
    fileprivate var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
