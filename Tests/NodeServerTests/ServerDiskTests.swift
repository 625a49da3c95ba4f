// A node's disks through a running `hornbill server`, as a newcomer drives it from the command
// line: the default filesystem disk, then V2 turned on and a block disk (a file) added, Ready with
// the UUID of the lvstore the tgt made on it; then removed, and V2 turned off.

import Foundation
import Glibc
import JSONRPC
import ManagerClient
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(5))) struct ServerDiskTests {
    @Test func aBlockDiskBecomesReadyWithItsLvstoreAndIsRemovedAgain() async throws {
        let scratch = try ScratchDirectory()
        let directory = scratch.path + "/data"
        let port = Int(freeTCPPort())
        let v1Port = Int(freeTCPPort())
        let v2Port = Int(freeTCPPort())
        let base = firstOfFreeTCPPorts(70)
        let server = try Daemon(
            [
                "server", "--data-dir", directory, "--node-name", "node-a", "--address", "127.0.0.1",
                "--port", "\(port)", "--v1-instance-manager-port", "\(v1Port)",
                "--v2-instance-manager-port", "\(v2Port)", "--v1-process-ports", "\(base)-\(base + 9)",
                "--v2-instance-ports", "\(base + 10)-\(base + 19)",
            ],
            errorPath: scratch.path + "/server.err")
        defer { server.stop(SIGTERM) }
        let api = ["--server", "http://127.0.0.1:\(port)", "--output", "json"]
        func node() throws -> NodeItem? {
            let got = try hornbill(["node", "get", "node-a"] + api)
            return got.status == 0 ? try JSONDecoder().decode(NodeItem.self, from: Data(got.output.utf8)) : nil
        }

        // The node registers itself with a default filesystem disk under the data directory.
        let registered = try await eventually("the default disk is ready") { () -> NodeItem? in
            guard let node = try node(), let disk = node.disks["default-disk"],
                disk.conditions["Ready"]?.status == "True"
            else { return nil }
            return node
        }
        let defaultDisk = try #require(registered.disks["default-disk"])
        #expect(defaultDisk.spec.diskType == "filesystem" && defaultDisk.spec.path.hasPrefix(directory))
        #expect(defaultDisk.storageMaximum > 0 && !defaultDisk.diskUUID.isEmpty)
        let config = try String(contentsOfFile: defaultDisk.spec.path + "/longhorn-disk.cfg", encoding: .utf8)
        #expect(config.contains(defaultDisk.diskUUID))

        // A filesystem disk added from the command line: Ready, its UUID in the longhorn-disk.cfg
        // written there, its sizes from statfs; removed again once it no longer allows scheduling.
        let extra = scratch.path + "/extra-disk"
        try FileManager.default.createDirectory(atPath: extra, withIntermediateDirectories: true)
        let addedFilesystem = try hornbill(
            ["node", "disk", "add", "node-a", "fs-1", "--path", extra, "--type", "filesystem"] + api)
        #expect(addedFilesystem.status == 0, "\(addedFilesystem.errors)")
        let filesystem = try await eventually("the filesystem disk is ready") { () -> DiskItem? in
            guard let disk = try node()?.disks["fs-1"], disk.conditions["Ready"]?.status == "True" else { return nil }
            return disk
        }
        var statistics = statvfs()
        #expect(statvfs(extra, &statistics) == 0)
        #expect(filesystem.storageMaximum == Int64(statistics.f_blocks) * Int64(statistics.f_frsize))
        #expect(filesystem.storageAvailable > 0 && filesystem.storageAvailable <= filesystem.storageMaximum)
        #expect(!filesystem.diskUUID.isEmpty && filesystem.diskUUID != defaultDisk.diskUUID)
        let extraConfig = try String(contentsOfFile: extra + "/longhorn-disk.cfg", encoding: .utf8)
        #expect(extraConfig.contains(filesystem.diskUUID))
        #expect(try hornbill(["node", "disk", "update", "node-a", "fs-1", "--allow-scheduling", "false"] + api).status == 0)
        #expect(try hornbill(["node", "disk", "remove", "node-a", "fs-1"] + api).status == 0)
        _ = try await eventually("the filesystem disk is gone") { () -> Bool? in
            try node()?.disks["fs-1"] == nil ? true : nil
        }

        // A block disk is refused while V2 is off, with Longhorn's reason.
        let file = try TemporaryFile(size: 64 << 20, name: "server-block-disk")
        let refused = try hornbill(
            ["node", "disk", "add", "node-a", "block-1", "--path", file.path, "--type", "block", "--driver", "aio"] + api)
        #expect(refused.status != 0 && refused.errors.contains("v2 data engine is disabled"), "\(refused.errors)")

        // V2 on: the block disk becomes Ready with the UUID and sizes of the lvstore on the file.
        #expect(try hornbill(["setting", "set", "v2-data-engine-hugepage-limit", "64"] + api).status == 0)
        #expect(try hornbill(["setting", "set", "v2-data-engine", "true"] + api).status == 0)
        let added = try await eventually("the block disk is added once V2 runs") { () -> Bool? in
            let added = try hornbill(
                ["node", "disk", "add", "node-a", "block-1", "--path", file.path, "--type", "block", "--driver", "aio"]
                    + api)
            return added.status == 0 ? true : nil
        }
        #expect(added)
        let block = try await eventually(
            "the block disk is ready", seconds: 60,
            explain: {
                let disk = (try? node()?.disks["block-1"]).flatMap { $0 }
                return "disk: \(disk.map { String(describing: $0.conditions) } ?? "none")\n"
                    + logTails(directory + "/logs")
            }
        ) { () -> DiskItem? in
            guard let disk = try node()?.disks["block-1"], disk.conditions["Ready"]?.status == "True" else { return nil }
            return disk
        }
        let tgt = JSONRPCAsyncClient(path: directory + "/tgt/spdk.sock", defaultTimeout: .seconds(5))
        guard case .array(let stores) = try await tgt.call("bdev_lvol_get_lvstores") else {
            Issue.record("bdev_lvol_get_lvstores did not answer a list")
            return
        }
        let store = try #require(stores.first { $0["name"] == .string("block-1") })
        #expect(store["uuid"] == .string(block.diskUUID))
        func number(_ value: JSONValue?) -> Int64 {
            if case .number(let text)? = value, let number = Int64(text) { return number }
            return -1
        }
        let clusters = number(store["total_data_clusters"])
        let clusterSize = number(store["cluster_size"])
        #expect(block.storageMaximum == clusters * clusterSize && block.storageMaximum > 0)

        // Removal: refused while it allows scheduling; then the disk and its aio bdev go.
        let stillScheduling = try hornbill(["node", "disk", "remove", "node-a", "block-1"] + api)
        #expect(stillScheduling.status != 0 && stillScheduling.errors.contains("Please disable the disk"))
        #expect(try hornbill(["node", "disk", "update", "node-a", "block-1", "--allow-scheduling", "false"] + api).status == 0)
        #expect(try hornbill(["node", "disk", "remove", "node-a", "block-1"] + api).status == 0)
        _ = try await eventually("the disk's bdev is deleted") { () async throws -> Bool? in
            guard case .array(let bdevs) = try await tgt.call("bdev_get_bdevs") else { return nil }
            return bdevs.contains { $0["name"] == .string("block-1") } ? nil : true
        }
        await tgt.close()

        // V2 off (nothing attached): the tgt stops.
        #expect(try hornbill(["setting", "set", "v2-data-engine", "false"] + api).status == 0)
        _ = try await eventually("the tgt stopped") { () -> Bool? in
            FileManager.default.fileExists(atPath: directory + "/tgt/spdk.sock") ? nil : true
        }
    }
}
