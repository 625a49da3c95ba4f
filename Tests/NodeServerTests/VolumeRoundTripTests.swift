// A volume's whole life through a running `hornbill server`, as a user drives it from the command
// line: create, attach with the `nbd` frontend, write with fio and verify, detach, attach again
// and verify again, detach, delete; for V2 on two block disks (files) of the node, for V1 on its
// default filesystem disk. After delete, nothing of the volume is left: no lvol in either lvstore
// (V2), no replica directory (V1).

import Foundation
import ManagerClient
import TestSupport
import Testing

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
