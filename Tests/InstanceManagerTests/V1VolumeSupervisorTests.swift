// A V1 volume run the way Longhorn's instance manager runs it: two `hornbill replica` processes and
// a `hornbill controller` over them, each started by the process supervisor with its port argument
// appended; fio writes and verifies through the controller's NBD frontend; the controller is
// replaced by one from another binary path (a live engine upgrade) without losing a byte.

import Foundation
import Glibc
import InstanceManager
import TestSupport
import Testing

/// fio writing 16 MiB at random through the volume's NBD export, then verifying every block.
private func fioRandomWrites(_ uri: String) async throws -> (status: Int32, output: String) {
    try await offThread {
        try runCommand([
            "fio", "--name=v1", "--ioengine=nbd", "--uri=\(uri)", "--rw=randwrite", "--bs=4k", "--iodepth=16",
            "--size=16M",
            "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0", "--randrepeat=0",
        ])
    }
}

/// The whole volume copied to a file with nbdcopy.
private func copyVolume(_ uri: String, to path: String) async throws -> (status: Int32, output: String) {
    try await offThread { try runCommand(["nbdcopy", uri, path]) }
}

@Suite(.serialized, .timeLimit(.minutes(3))) struct V1VolumeSupervisorTests {
    let size = 64 << 20
    let hornbill = hornbillExecutable().path

    func replica(_ name: String, directory: String) -> ProcessSpec {
        ProcessSpec(
            name: name, binary: hornbill, args: ["replica", directory, "--size", String(size)],
            portCount: 1, portArgs: ["--listen,127.0.0.1:"])
    }

    func controller(_ name: String, binary: String, replicaPorts: [Int], statusSocket: String) -> ProcessSpec {
        var args = ["controller", "vol", "--size", String(size), "--frontend", "nbd", "--status-socket", statusSocket]
        for port in replicaPorts { args += ["--replica", "tcp://127.0.0.1:\(port)"] }
        return ProcessSpec(name: name, binary: binary, args: args, portCount: 1, portArgs: ["--listen,127.0.0.1:"])
    }

    @Test func aVolumeOfReplicaAndControllerProcessesServesVerifiedIOAndSurvivesAControllerReplace() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: hornbill),
            "the hornbill executable is built by the test command")
        let scratch = try ScratchDirectory()
        let supervisor = ProcessSupervisor(options: .init(portRange: testPortRange(), logDirectory: scratch.path))

        var replicaPorts: [Int] = []
        var pids: [Int32] = []
        for index in 1...2 {
            let created = try await supervisor.create(
                replica("vol-r-\(index)", directory: "\(scratch.path)/replicas/vol-\(index)"))
            #expect(created.spec.args.suffix(2) == ["--listen", "127.0.0.1:\(created.status.portStart)"])
            let running = try await waitFor(supervisor, "vol-r-\(index)") { $0.status.state == .running }
            replicaPorts.append(running.status.portStart)
            pids.append(running.pid)
        }
        let statusSocket = "\(scratch.path)/vol.sock"
        _ = try await supervisor.create(
            controller("vol-e-0", binary: hornbill, replicaPorts: replicaPorts, statusSocket: statusSocket))
        let engine = try await waitFor(supervisor, "vol-e-0") { $0.status.state == .running }
        pids.append(engine.pid)

        let written = try await fioRandomWrites("nbd://127.0.0.1:\(engine.status.portStart)/vol")
        #expect(written.status == 0 && written.output.contains("err= 0"), "\(written.output)")
        let controllerLog = try await supervisor.log(name: "vol-e-0")
        var sawServing = false
        for await line in controllerLog where line.contains("serving nbd://127.0.0.1:\(engine.status.portStart)/vol") {
            sawServing = true
            break
        }
        #expect(sawServing)
        let replicaLog = try String(contentsOfFile: "\(scratch.path)/vol-r-1.log", encoding: .utf8)
        #expect(replicaLog.contains("on 127.0.0.1:\(replicaPorts[0])"), "\(replicaLog)")
        let before = "\(scratch.path)/before.img"
        let copied = try await copyVolume("nbd://127.0.0.1:\(engine.status.portStart)/vol", to: before)
        #expect(copied.status == 0, "\(copied.output)")

        // A live upgrade: the controller from another binary path replaces the running one.
        let upgraded = "\(scratch.path)/engine-binaries/hornbill"
        try FileManager.default.createDirectory(
            atPath: "\(scratch.path)/engine-binaries", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: upgraded, withDestinationPath: hornbill)
        let replaced = try await supervisor.replace(
            controller(
                "vol-e-0", binary: upgraded, replicaPorts: replicaPorts, statusSocket: "\(scratch.path)/vol2.sock"),
            terminateSignal: "SIGHUP")
        #expect(replaced.status.state == .running && replaced.spec.binary == upgraded)
        #expect(replaced.status.uuid != engine.status.uuid && replaced.status.portStart != engine.status.portStart)
        #expect(try await supervisor.get(name: "vol-e-0").status.uuid == replaced.status.uuid)
        let after = "\(scratch.path)/after.img"
        let copiedAgain = try await copyVolume("nbd://127.0.0.1:\(replaced.status.portStart)/vol", to: after)
        #expect(copiedAgain.status == 0, "\(copiedAgain.output)")
        let beforeData = try Data(contentsOf: URL(fileURLWithPath: before))
        #expect(beforeData.count == size && beforeData.contains { $0 != 0 })
        #expect(try Data(contentsOf: URL(fileURLWithPath: after)) == beforeData)
        // The old controller goes, and its port with it.
        let deadline = ContinuousClock.now + .seconds(10)
        while processExists(engine.pid), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!processExists(engine.pid))
        #expect(await supervisor.allocatedPortCount == 3)
        pids.append(replaced.pid)

        let again = try await fioRandomWrites("nbd://127.0.0.1:\(replaced.status.portStart)/vol")
        #expect(again.status == 0 && again.output.contains("err= 0"), "\(again.output)")

        for name in ["vol-e-0", "vol-r-1", "vol-r-2"] {
            let deleted = try await supervisor.delete(name: name)
            #expect(deleted.deleted)
            try await waitUntilGone(supervisor, name)
        }
        #expect(await supervisor.allocatedPortCount == 0)
        for pid in pids { #expect(!processExists(pid)) }
        await supervisor.shutdown()
    }
}
