// The V1 engine as processes: replica processes on directories, a controller replicating over
// them, fio through its NBD frontend; replicas killed or removed, the controller killed and
// restarted.

import Foundation
import Glibc
import JSONRPC
import TestSupport
import Testing

private func fio(_ uri: String, sizeMiB: Int) throws -> (status: Int32, output: String) {
    try runProgram([
        "fio", "--name=v1", "--ioengine=nbd", "--uri=\(uri)", "--rw=randwrite", "--bs=4k", "--iodepth=16", "--size=\(sizeMiB)M",
        "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0", "--randrepeat=0",
    ])
}

/// A volume: replica processes on directories and a controller.
private final class V1Volume: @unchecked Sendable {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("hornbill-v1-\(UUID().uuidString.prefix(8))").path
    let size = 64 << 20
    var replicaPorts: [UInt16] = []
    var replicas: [HornbillProcess?] = []
    var controller: HornbillProcess?
    var frontendPort: UInt16 = 0
    var statusSocket: String { "\(root)/status.sock" }
    var uri: String { "nbd://127.0.0.1:\(frontendPort)/vol" }

    init(replicas count: Int) throws {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for index in 0..<count {
            replicaPorts.append(freeTCPPort())
            replicas.append(nil)
            try startReplica(index)
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    func directory(_ index: Int) -> String { "\(root)/replicas/vol-\(String(format: "%08x", index + 0xa0))" }

    func startReplica(_ index: Int) throws {
        replicas[index] = try HornbillProcess(["replica", directory(index), "--size", String(size), "--listen", "127.0.0.1:\(replicaPorts[index])"])
        _ = try? BlockingTCPClient(port: replicaPorts[index], attempts: 300)  // waits until it listens
    }

    func startController(timeoutSeconds: Double = 8) throws {
        frontendPort = freeTCPPort()
        unlink(statusSocket)
        var arguments = [
            "controller", "vol", "--size", String(size), "--frontend", "nbd", "--listen", "127.0.0.1:\(frontendPort)",
            "--status-socket", statusSocket, "--replica-timeout", String(timeoutSeconds),
        ]
        for port in replicaPorts { arguments += ["--replica", "tcp://127.0.0.1:\(port)"] }
        controller = try HornbillProcess(arguments)
        _ = try? BlockingTCPClient(port: frontendPort, attempts: 300)  // waits until it listens
        for _ in 0..<300 where (try? JSONRPCClient(path: statusSocket)) == nil { usleep(20_000) }
    }

    /// Each replica's mode and revision, from controller_status.
    func modes() throws -> [(mode: String, revision: Int, reason: String?)] {
        let client = try JSONRPCClient(path: statusSocket)
        guard case .success(let status) = try client.call("controller_status"), case .array(let list)? = status["replicas"] else { return [] }
        return list.map { replica in
            var mode = "", revision = 0
            var reason: String?
            if case .string(let text)? = replica["mode"] { mode = text }
            if case .number(let text)? = replica["revision"] { revision = Int(text) ?? -1 }
            if case .string(let text)? = replica["reason"] { reason = text }
            return (mode, revision, reason)
        }
    }

    func revisionCounter(_ index: Int) -> Int {
        Int((try? String(contentsOfFile: "\(directory(index))/revision.counter", encoding: .utf8)) ?? "") ?? -1
    }

    func allocatedBytes(_ index: Int) -> Int {
        var info = stat()
        stat("\(directory(index))/volume-head-000.img", &info)
        return Int(info.st_blocks) * 512
    }
}

@Suite(.serialized) struct V1EngineTests {
    @Test(arguments: [1, 2, 3])
    func fioVerifiesOverNBDWithReplicas(count: Int) throws {
        try #require(try runHornbill(["--help"]).status == 0)
        let volume = try V1Volume(replicas: count)
        try volume.startController()
        let result = try fio(volume.uri, sizeMiB: 16)
        #expect(result.status == 0 && result.output.contains("err= 0"), "\(result.output)")
        let modes = try volume.modes()
        #expect(modes.count == count && modes.allSatisfy { $0.mode == "RW" })
        volume.controller?.kill(SIGTERM)
        for index in 0..<count {
            volume.replicas[index]?.kill(SIGTERM)
            #expect(volume.revisionCounter(index) == modes[0].revision && modes[0].revision > 0)
            // 16 MiB written into a 64 MiB head file: it stays sparse.
            #expect(volume.allocatedBytes(index) <= 17 << 20)
        }
    }

    @Test func aKilledReplicaIsDroppedAndAStaleOneIsNotUsedAfterRestart() throws {
        let volume = try V1Volume(replicas: 3)
        try volume.startController()
        // Kill replica 2 in the middle of fio's writes: fio still verifies everything.
        let writer = Thread {
            usleep(400_000)
            volume.replicas[2]?.kill()
        }
        writer.start()
        let result = try fio(volume.uri, sizeMiB: 24)
        #expect(result.status == 0 && result.output.contains("err= 0"), "\(result.output)")
        let modes = try volume.modes()
        #expect(modes.map(\.mode) == ["RW", "RW", "ERR"])
        #expect(modes[0].revision == modes[1].revision && modes[2].revision < modes[0].revision)

        // The controller dies uncleanly; the killed replica comes back with its lower counter.
        volume.controller?.kill()
        volume.replicas[0]?.kill(SIGTERM)
        volume.replicas[1]?.kill(SIGTERM)
        #expect(volume.revisionCounter(0) == volume.revisionCounter(1))
        #expect(volume.revisionCounter(2) < volume.revisionCounter(0))
        for index in 0..<3 { try volume.startReplica(index) }
        try volume.startController()
        let restarted = try volume.modes()
        #expect(restarted.map(\.mode) == ["RW", "RW", "ERR"])
        #expect(restarted[2].reason?.contains("missed writes") == true)
        let again = try fio(volume.uri, sizeMiB: 8)
        #expect(again.status == 0 && again.output.contains("err= 0"), "\(again.output)")
        volume.controller?.kill(SIGTERM)
    }

    @Test func aReplicaThatStopsAnsweringIsDroppedAfterTheTimeout() throws {
        let volume = try V1Volume(replicas: 2)
        try volume.startController(timeoutSeconds: 1)
        let pid = volume.replicas[1]!.process.processIdentifier
        let stopper = Thread {
            usleep(300_000)
            kill(pid, SIGSTOP)
        }
        stopper.start()
        let result = try fio(volume.uri, sizeMiB: 16)
        kill(pid, SIGCONT)
        #expect(result.status == 0 && result.output.contains("err= 0"), "\(result.output)")
        let modes = try volume.modes()
        #expect(modes.map(\.mode) == ["RW", "ERR"])
        #expect(modes[1].reason?.contains("did not answer within") == true, "\(modes)")
        volume.controller?.kill(SIGTERM)
    }

    @Test func aReplicaRemovedWhileWritesGoOnLeavesTheOthersServing() async throws {
        let volume = try V1Volume(replicas: 3)
        try volume.startController()
        let statusSocket = volume.statusSocket
        let removed = "tcp://127.0.0.1:\(volume.replicaPorts[1])"
        let remove: @Sendable (String) throws -> Result<JSONValue, JSONRPCError> = { address in
            try JSONRPCClient(path: statusSocket).call(
                "controller_replica_remove", params: .object([("address", .string(address))]))
        }
        // Removed in the middle of fio's writes: fio still verifies everything.
        let remover = BackgroundThread {
            usleep(300_000)
            return try remove(removed)
        }
        let result = try fio(volume.uri, sizeMiB: 24)
        #expect(result.status == 0 && result.output.contains("err= 0"), "\(result.output)")
        #expect(try await remover.value() == .success(.bool(true)))
        let modes = try volume.modes()
        #expect(modes.map(\.mode) == ["RW", "RW"] && modes[0].revision == modes[1].revision)
        // Removed again: nothing to remove.
        #expect(try remove(removed) == .success(.bool(false)))
        // The last RW replica stays; bad parameters change nothing.
        #expect(try remove("127.0.0.1:\(volume.replicaPorts[0])") == .success(.bool(true)))
        guard case .failure(let last) = try remove("tcp://127.0.0.1:\(volume.replicaPorts[2])") else {
            Issue.record("the last RW replica was removed")
            return
        }
        #expect(last.message.contains("last RW replica"), "\(last.message)")
        let client = try JSONRPCClient(path: statusSocket)
        let misnamed = try client.call("controller_replica_remove", params: .object([("addr", .string(removed))]))
        guard case .failure(let bad) = misnamed else {
            Issue.record("bad parameters were accepted")
            return
        }
        #expect(bad.code == -32602)
        #expect(try volume.modes().map(\.mode) == ["RW"])
        let again = try fio(volume.uri, sizeMiB: 8)
        #expect(again.status == 0 && again.output.contains("err= 0"), "\(again.output)")
        // The removed replica kept running, no longer written.
        let final = try #require(try volume.modes().first).revision
        #expect(volume.revisionCounter(1) < final && volume.revisionCounter(1) >= 0)
        volume.controller?.kill(SIGTERM)
    }

    @Test func controllerRefusesWhenNoReplicaIsUsable() throws {
        let unused = freeTCPPort()
        let result = try runHornbill([
            "controller", "vol", "--size", "1048576", "--replica", "tcp://127.0.0.1:\(unused)", "--listen", "127.0.0.1:0",
        ])
        #expect(result.status != 0 && result.error.contains("no usable replica"), "\(result.error)")
        let sizeless = try runHornbill(["controller", "vol", "--size", "1000", "--replica", "tcp://127.0.0.1:1", "--listen", "127.0.0.1:0"])
        #expect(sizeless.status != 0 && sizeless.error.contains("multiple of 4096"))
    }
}
