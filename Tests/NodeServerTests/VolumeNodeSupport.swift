// A `hornbill server` for one node driven through the CLI, as the volume tests use it (disks made
// ready, volumes created, attached, detached, deleted; the server restarted), and fio over a
// volume's NBD endpoint.

import Foundation
import Glibc
import ManagerClient
import TestSupport
import Testing

/// A running server for one node, and the CLI pointed at it.
final class NodeUnderTest: @unchecked Sendable {
    let scratch: ScratchDirectory
    let directory: String
    /// The manager's API, and the CLI's flag naming it.
    let url: String
    let api: [String]
    /// The server's arguments: a restarted server gets the same data directory and ports.
    let arguments: [String]
    private(set) var server: Daemon
    private var starts = 1

    init() throws {
        scratch = try ScratchDirectory()
        directory = scratch.path + "/data"
        let port = Int(freeTCPPort())
        let base = firstOfFreeTCPPorts(70)
        arguments = [
            "server", "--data-dir", directory, "--node-name", "node-a", "--address", "127.0.0.1",
            "--port", "\(port)", "--v1-instance-manager-port", "\(freeTCPPort())",
            "--v2-instance-manager-port", "\(freeTCPPort())", "--v1-process-ports", "\(base)-\(base + 9)",
            // A V2 replica takes 5 ports (Longhorn's count), an engine's frontend one.
            "--v2-instance-ports", "\(base + 10)-\(base + 29)",
        ]
        server = try Daemon(arguments, errorPath: scratch.path + "/server-1.err")
        url = "http://127.0.0.1:\(port)"
        api = ["--server", url]
    }

    /// Ends the server with `signal` (SIGKILL leaves its children to the next server) and starts
    /// another on the same data directory and ports.
    func restart(after signal: Int32) throws {
        server.stop(signal)
        starts += 1
        server = try Daemon(arguments, errorPath: scratch.path + "/server-\(starts).err")
    }

    func cli(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try hornbill(arguments + api)
    }

    func volume(_ name: String) throws -> VolumeItem? {
        let result = try cli(["volume", "get", name, "--output", "json"])
        return result.status == 0 ? try JSONDecoder().decode(VolumeItem.self, from: Data(result.output.utf8)) : nil
    }

    func disk(_ name: String) throws -> DiskItem? {
        let result = try cli(["node", "get", "node-a", "--output", "json"])
        guard result.status == 0 else { return nil }
        return try JSONDecoder().decode(NodeItem.self, from: Data(result.output.utf8)).disks[name]
    }

    /// Attaches and waits; answers the endpoint.
    func attach(_ name: String) throws -> String {
        let attached = try cli(["volume", "attach", name, "--node", "node-a", "--wait", "--output", "json"])
        try #require(attached.status == 0, "attach: \(attached.errors)\n\(logTails(directory + "/logs"))")
        let volume = try JSONDecoder().decode(VolumeItem.self, from: Data(attached.output.utf8))
        #expect(
            volume.state == "attached" && volume.currentNodeID == "node-a" && volume.robustness == "healthy",
            "\(volume)\n\(explain())")
        return volume.endpoint
    }

    func detach(_ name: String) throws {
        let detached = try cli(["volume", "detach", name, "--wait"])
        #expect(detached.status == 0 && detached.output.contains(" detached "), "\(detached.errors)")
    }

    func delete(_ name: String) throws {
        let deleted = try cli(["volume", "delete", name, "--wait"])
        #expect(deleted.status == 0, "\(deleted.errors)")
        #expect(try volume(name) == nil)
    }

    func stop() { server.stop(SIGTERM) }

    /// The server's stderr and the end of its logs, for a failure's record.
    func explain() -> String {
        "server: \(server.errors.suffix(2000))\n" + logTails(directory + "/logs", lines: 30)
    }

    /// Waits for the manager; makes the default disk (the host's filesystem, whose free share is
    /// not the test's) schedulable and lets replicas of a volume share the node. The disk.
    func readyDefaultDisk() async throws -> DiskItem {
        _ = try await eventually("the manager answers", seconds: 60, explain: explain) { () -> Bool? in
            try cli(["setting", "set", "storage-minimal-available-percentage", "0"]).status == 0 ? true : nil
        }
        let ready = try await eventually("the default disk is schedulable", seconds: 60, explain: explain) {
            () -> DiskItem? in
            guard let disk = try self.disk("default-disk"), disk.conditions["Schedulable"]?.status == "True" else {
                return nil
            }
            return disk
        }
        #expect(try cli(["setting", "set", "replica-soft-anti-affinity", "true"]).status == 0)
        return ready
    }

    /// Waits for the manager; turns the V2 data engine on and adds `count` block disks (files of
    /// 256 MiB), lets replicas of a volume share the node. The files and the disks' UUIDs.
    func readyBlockDisks(_ count: Int) async throws -> (files: [TemporaryFile], uuids: [String]) {
        _ = try await eventually("the manager answers", seconds: 60, explain: explain) { try disk("default-disk") }
        for (name, value) in [
            ("v2-data-engine-hugepage-limit", "64"), ("v2-data-engine", "true"), ("replica-soft-anti-affinity", "true"),
        ] {
            #expect(try cli(["setting", "set", name, value]).status == 0)
        }
        let files = try (1...count).map { try TemporaryFile(size: 256 << 20, name: "volume-block-\($0)") }
        for (index, file) in files.enumerated() {
            _ = try await eventually("block-\(index + 1) is added once V2 runs", seconds: 60) { () -> Bool? in
                try cli(["node", "disk", "add", "node-a", "block-\(index + 1)", "--path", file.path, "--type", "block"])
                    .status == 0 ? true : nil
            }
        }
        var uuids: [String] = []
        for index in 1...count {
            let disk = try await eventually(
                "block-\(index) is schedulable", seconds: 60,
                explain: {
                    let disk = (try? self.disk("block-\(index)")).flatMap { $0 }
                    return "disk: \(disk.map { String(describing: $0.conditions) } ?? "none")\n"
                        + logTails(directory + "/logs", lines: 30)
                }
            ) { () -> DiskItem? in
                guard let disk = try self.disk("block-\(index)"), disk.conditions["Schedulable"]?.status == "True"
                else { return nil }
                return disk
            }
            uuids.append(disk.diskUUID)
        }
        return (files, uuids)
    }

    /// Creates a volume of `replicas` replicas with the nbd frontend and waits until they are placed.
    func createVolume(_ name: String, dataEngine: String, replicas: Int = 2) async throws -> VolumeItem {
        let created = try cli([
            "volume", "create", name, "--size", "64Mi", "--replicas", "\(replicas)", "--data-engine", dataEngine,
            "--frontend", "nbd", "--wait",
        ])
        #expect(created.status == 0, "\(created.errors)")
        return try await eventually("the replicas of \(name) are placed", seconds: 30, explain: explain) {
            () -> VolumeItem? in
            guard let volume = try volume(name), volume.conditions["Scheduled"]?.status == "True" else { return nil }
            return volume
        }
    }

    /// `hornbill rpc` against the node's tgt.
    func tgtRPC(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try hornbill(["rpc", "--server", directory + "/tgt/spdk.sock"] + arguments)
    }
}

/// fio over NBD: 8 MiB written with crc32c verify headers and checked, or (verifyOnly) checked.
func fio(_ endpoint: String, verifyOnly: Bool = false) throws -> (status: Int32, output: String) {
    try runCommand(
        [
            "fio", "--name=volume", "--ioengine=nbd", "--uri=\(endpoint)", "--rw=randwrite", "--bs=4k", "--iodepth=16",
            "--size=8M", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0",
            "--randrepeat=1",
        ] + (verifyOnly ? ["--verify_only=1"] : []))
}
