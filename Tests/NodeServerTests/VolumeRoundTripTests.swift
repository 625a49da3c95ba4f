// A volume's whole life through a running `hornbill server`, as a user drives it from the command
// line: create, attach with the `nbd` frontend, write with fio and verify, detach, attach again
// and verify again, detach, delete; for V2 on two block disks (files) of the node, for V1 on its
// default filesystem disk. After delete, nothing of the volume is left: no lvol in either lvstore
// (V2), no replica directory (V1).

import Foundation
import Glibc
import ManagerClient
import TestSupport
import Testing

/// A running server for one node, and the CLI pointed at it.
private struct NodeUnderTest {
    let scratch: ScratchDirectory
    let server: Daemon
    let directory: String
    let api: [String]

    init() throws {
        scratch = try ScratchDirectory()
        directory = scratch.path + "/data"
        let port = Int(freeTCPPort())
        let base = firstOfFreeTCPPorts(70)
        server = try Daemon(
            [
                "server", "--data-dir", directory, "--node-name", "node-a", "--address", "127.0.0.1",
                "--port", "\(port)", "--v1-instance-manager-port", "\(freeTCPPort())",
                "--v2-instance-manager-port", "\(freeTCPPort())", "--v1-process-ports", "\(base)-\(base + 9)",
                // A V2 replica takes 5 ports (Longhorn's count), an engine's frontend one.
                "--v2-instance-ports", "\(base + 10)-\(base + 29)",
            ],
            errorPath: scratch.path + "/server.err")
        api = ["--server", "http://127.0.0.1:\(port)"]
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
        #expect(volume.state == "attached" && volume.currentNodeID == "node-a" && volume.robustness == "healthy")
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
}

/// fio over NBD: 8 MiB written with crc32c verify headers and checked, or (verifyOnly) checked.
private func fio(_ endpoint: String, verifyOnly: Bool = false) throws -> (status: Int32, output: String) {
    try runCommand(
        [
            "fio", "--name=volume", "--ioengine=nbd", "--uri=\(endpoint)", "--rw=randwrite", "--bs=4k", "--iodepth=16",
            "--size=8M", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0",
            "--randrepeat=1",
        ] + (verifyOnly ? ["--verify_only=1"] : []))
}

@Suite(.serialized, .timeLimit(.minutes(8))) struct VolumeRoundTripTests {
    @Test func aV2VolumeOnTwoBlockDisksRoundTrips() async throws {
        let node = try NodeUnderTest()
        defer { node.stop() }
        _ = try await eventually("the manager answers", seconds: 60) { try node.disk("default-disk") }
        for (name, value) in [
            ("v2-data-engine-hugepage-limit", "64"), ("v2-data-engine", "true"), ("replica-soft-anti-affinity", "true"),
        ] {
            #expect(try node.cli(["setting", "set", name, value]).status == 0)
        }
        let files = try (1...2).map { try TemporaryFile(size: 256 << 20, name: "volume-block-\($0)") }
        for (index, file) in files.enumerated() {
            _ = try await eventually("block-\(index + 1) is added once V2 runs", seconds: 60) { () -> Bool? in
                try node.cli(["node", "disk", "add", "node-a", "block-\(index + 1)", "--path", file.path, "--type", "block"])
                    .status == 0 ? true : nil
            }
        }
        var uuids: [String] = []
        for index in 1...2 {
            let disk = try await eventually(
                "block-\(index) is schedulable", seconds: 60,
                explain: {
                    let disk = (try? node.disk("block-\(index)")).flatMap { $0 }
                    return "disk: \(disk.map { String(describing: $0.conditions) } ?? "none")\n"
                        + logTails(node.directory + "/logs", lines: 30)
                }
            ) { () -> DiskItem? in
                guard let disk = try node.disk("block-\(index)"), disk.conditions["Schedulable"]?.status == "True"
                else { return nil }
                return disk
            }
            uuids.append(disk.diskUUID)
        }

        let created = try node.cli([
            "volume", "create", "vol-v2", "--size", "64Mi", "--replicas", "2", "--data-engine", "v2", "--frontend", "nbd",
            "--wait",
        ])
        #expect(created.status == 0, "\(created.errors)")
        let scheduled = try await eventually("both replicas are placed", seconds: 30) { () -> VolumeItem? in
            guard let volume = try node.volume("vol-v2"), volume.conditions["Scheduled"]?.status == "True" else {
                return nil
            }
            return volume
        }
        #expect(Set(scheduled.replicas.map(\.diskID)) == Set(uuids), "one replica on each block disk")

        let endpoint = try node.attach("vol-v2")
        #expect(endpoint.hasPrefix("nbd://"))
        let written = try fio(endpoint)
        #expect(written.status == 0, "\(written.output)")
        try node.detach("vol-v2")
        let again = try node.attach("vol-v2")
        let verified = try fio(again, verifyOnly: true)
        #expect(verified.status == 0, "\(verified.output)")
        try node.detach("vol-v2")
        // Detached, the replicas' lvols are kept, one in each lvstore.
        let kept = try hornbill(["rpc", "--server", node.directory + "/tgt/spdk.sock", "bdev_lvol_get_lvols"])
        #expect(kept.output.components(separatedBy: "vol-v2-r-").count - 1 >= 2, "\(kept.output)")
        try node.delete("vol-v2")

        // The replicas' lvols are gone from both lvstores.
        let lvols = try hornbill(["rpc", "--server", node.directory + "/tgt/spdk.sock", "bdev_lvol_get_lvols"])
        #expect(lvols.status == 0, "\(lvols.errors)")
        #expect(!lvols.output.contains("vol-v2-r-"), "\(lvols.output)")
    }

    @Test func aV1VolumeOnTheDefaultDiskRoundTrips() async throws {
        let node = try NodeUnderTest()
        defer { node.stop() }
        // The default disk is the host's filesystem: its free share is the host's, not the test's.
        _ = try await eventually("the manager answers", seconds: 60) { () -> Bool? in
            try node.cli(["setting", "set", "storage-minimal-available-percentage", "0"]).status == 0 ? true : nil
        }
        let defaultDisk = try await eventually("the default disk is schedulable", seconds: 60) { () -> DiskItem? in
            guard let disk = try node.disk("default-disk"), disk.conditions["Schedulable"]?.status == "True" else {
                return nil
            }
            return disk
        }
        #expect(try node.cli(["setting", "set", "replica-soft-anti-affinity", "true"]).status == 0)
        let created = try node.cli(["volume", "create", "vol-v1", "--size", "64Mi", "--replicas", "2", "--frontend", "nbd", "--wait"])
        #expect(created.status == 0, "\(created.errors)")
        _ = try await eventually("both replicas are placed", seconds: 30) { () -> Bool? in
            try node.volume("vol-v1")?.conditions["Scheduled"]?.status == "True" ? true : nil
        }
        let endpoint = try node.attach("vol-v1")
        #expect(endpoint.hasPrefix("nbd://"))
        let written = try fio(endpoint)
        #expect(written.status == 0, "\(written.output)")
        try node.detach("vol-v1")
        let again = try node.attach("vol-v1")
        let verified = try fio(again, verifyOnly: true)
        #expect(verified.status == 0, "\(verified.output)")
        let replicas = defaultDisk.spec.path + "/replicas"
        let directories = try FileManager.default.contentsOfDirectory(atPath: replicas).filter { $0.hasPrefix("vol-v1-") }
        #expect(directories.count == 2, "\(directories)")
        try node.detach("vol-v1")
        try node.delete("vol-v1")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: replicas)) ?? []
        #expect(!left.contains { $0.hasPrefix("vol-v1-") }, "\(left)")
    }
}
