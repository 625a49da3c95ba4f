// A node's `hornbill server` restarted under attached volumes: a V2 volume on two block disks and
// a V1 volume on the default disk, side by side on one node, both attached and written with fio.
// The server is then stopped with SIGTERM (its children stopped in order) and started again on the
// same data directory and ports; later killed with SIGKILL (its children are stopped by the next
// server) and started again. Every engine and replica process is gone either way.
//
// What Longhorn does when the instances of an attached volume vanish with their instance manager:
// the engine is `error`, so the volume is faulted and detached (engine, then replicas stopped);
// its attachment ticket is still there, so it is attached again, its replicas salvaged if they
// were marked failed (setting `auto-salvage`, on by default). So each volume must come back
// `attached` and healthy, with an engine that runs and an endpoint where the data written before
// verifies, and stay so; never attached over an engine that is gone, nor stuck attaching.

import Foundation
import Glibc
import ManagerClient
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(12))) struct ServerRestartTests {
    @Test func attachedV1AndV2VolumesComeBackAttachedAfterTheServerIsStoppedOrKilled() async throws {
        let node = try NodeUnderTest()
        defer { node.stop() }
        _ = try await eventually("the manager answers", seconds: 60) { () -> Bool? in
            try node.cli(["setting", "set", "storage-minimal-available-percentage", "0"]).status == 0 ? true : nil
        }
        for (name, value) in [
            ("v2-data-engine-hugepage-limit", "64"), ("v2-data-engine", "true"), ("replica-soft-anti-affinity", "true"),
        ] {
            #expect(try node.cli(["setting", "set", name, value]).status == 0)
        }
        let files = try (1...2).map { try TemporaryFile(size: 256 << 20, name: "restart-block-\($0)") }
        for (index, file) in files.enumerated() {
            _ = try await eventually("block-\(index + 1) is added once V2 runs", seconds: 60) { () -> Bool? in
                try node.cli(["node", "disk", "add", "node-a", "block-\(index + 1)", "--path", file.path, "--type", "block"])
                    .status == 0 ? true : nil
            }
        }
        for disk in ["default-disk", "block-1", "block-2"] {
            _ = try await eventually("\(disk) is schedulable", seconds: 60) { () -> Bool? in
                try node.disk(disk)?.conditions["Schedulable"]?.status == "True" ? true : nil
            }
        }
        for (name, engine) in [("vol-v2", "v2"), ("vol-v1", "v1")] {
            let created = try node.cli([
                "volume", "create", name, "--size", "64Mi", "--replicas", "2", "--data-engine", engine, "--frontend", "nbd",
                "--wait",
            ])
            #expect(created.status == 0, "\(created.errors)")
            _ = try await eventually("both replicas of \(name) are placed", seconds: 30) { () -> Bool? in
                try node.volume(name)?.conditions["Scheduled"]?.status == "True" ? true : nil
            }
        }
        let v2 = try #require(try node.volume("vol-v2"))
        let blockUUIDs = try Set(["block-1", "block-2"].map { try #require(try node.disk($0)).diskUUID })
        #expect(Set(v2.replicas.map(\.diskID)) == blockUUIDs, "one V2 replica on each block disk")
        let v1 = try #require(try node.volume("vol-v1"))
        #expect(Set(v1.replicas.map(\.diskID)) == [try #require(try node.disk("default-disk")).diskUUID])

        // Both attached at once, written and verified.
        for name in ["vol-v2", "vol-v1"] {
            let endpoint = try node.attach(name)
            let written = try fio(endpoint)
            #expect(written.status == 0, "\(name): \(written.output)")
        }

        for (signal, how) in [(SIGTERM, "stopped with SIGTERM"), (SIGKILL, "killed with SIGKILL")] {
            try node.restart(after: signal)
            for name in ["vol-v2", "vol-v1"] {
                let volume = try await comesBackAttached(node, name, after: how)
                // Written again through the new engine, for the next restart to verify.
                let written = try fio(volume.endpoint)
                #expect(written.status == 0, "\(name) after the server was \(how): \(written.output)")
            }
            // And it stays so: nothing is still converging underneath.
            try await Task.sleep(for: .seconds(3))
            for name in ["vol-v2", "vol-v1"] {
                let volume = try #require(try node.volume(name))
                #expect(Self.isWhole(volume), "\(name) after the server was \(how): \(volume)")
            }
        }

        // Detached cleanly: no engine, every replica stopped; the V2 lvols are kept.
        for name in ["vol-v2", "vol-v1"] {
            try node.detach(name)
            let volume = try #require(try node.volume(name))
            #expect(volume.state == "detached" && volume.controllers.allSatisfy { !$0.running }, "\(volume)")
            #expect(volume.replicas.allSatisfy { !$0.running }, "\(volume)")
        }
        let lvols = try hornbill(["rpc", "--server", node.directory + "/tgt/spdk.sock", "bdev_lvol_get_lvols"])
        #expect(lvols.output.components(separatedBy: "vol-v2-r-").count - 1 >= 2, "\(lvols.output)")
    }

    /// Attached, healthy, on node-a, its engine running with an endpoint, every replica running RW
    /// and not failed.
    static func isWhole(_ volume: VolumeItem) -> Bool {
        volume.state == "attached" && volume.robustness == "healthy" && volume.currentNodeID == "node-a"
            && volume.controllers.count == 1 && volume.controllers.allSatisfy { $0.running && !$0.endpoint.isEmpty }
            && volume.replicas.count == 2
            && volume.replicas.allSatisfy { $0.running && $0.mode == "RW" && $0.failedAt.isEmpty }
    }

    /// Waits until `name` is whole again and the data written before verifies at its endpoint (a
    /// status the restarted manager has not looked at yet names an endpoint that is gone).
    private func comesBackAttached(_ node: NodeUnderTest, _ name: String, after how: String) async throws -> VolumeItem {
        var last = ""
        return try await eventually(
            "\(name) is attached again with its data after the server was \(how)", seconds: 240,
            explain: { "last seen: \(last)\n" + logTails(node.directory + "/logs", lines: 30) }
        ) { () -> VolumeItem? in
            guard let volume = try node.volume(name) else { return nil }
            last = "\(volume)"
            guard Self.isWhole(volume) else { return nil }
            let verified = try fio(volume.endpoint, verifyOnly: true)
            last += "\nfio: \(verified.output.suffix(400))"
            return verified.status == 0 ? volume : nil
        }
    }
}
