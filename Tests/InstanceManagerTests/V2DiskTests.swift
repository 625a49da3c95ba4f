// Disks on a real `hornbill tgt`: asynchronous create, sizes from the lvstore, UUID checks,
// delete keeps the data.

import Foundation
import InstanceManager
import JSONRPC
import TestSupport
import Testing

@Suite struct V2DiskTests {
    @Test func fileDiskLifecycle() async throws {
        let daemon = try TgtDaemon()
        let instances = makeInstances(daemon, ports: testPortRange())
        let file = try TemporaryFile(size: 64 << 20, name: "im-disk")
        let disk = try await readyDisk(instances, name: "disk1", file: file)
        #expect(disk.state == .ready, "\(disk.errorMsg)")
        #expect(disk.clusterSize == 1 << 20)
        #expect(disk.totalSize > 32 << 20 && disk.totalSize <= 64 << 20)
        #expect(disk.freeSize == disk.totalSize)
        #expect(disk.totalBlocks == disk.totalSize / 512 && disk.blockSize == 512)
        #expect(disk.id.hasPrefix("file-") && disk.driver == "aio" && disk.type == "block")
        #expect(!disk.uuid.isEmpty)
        // The lvstore is named after the disk, on an aio bdev of that name.
        let stores = try daemon.call("bdev_lvol_get_lvstores").get()
        #expect(stores[0]?["name"] == .string("disk1") && stores[0]?["base_bdev"] == .string("disk1"))

        // A repeated create answers the disk as it is.
        #expect(try await instances.diskCreate(name: "disk1", uuid: "", path: file.path, blockSize: 512) == disk)

        // Delete unloads it; its lvstore (and so its UUID) survives on the file.
        try await instances.diskDelete(name: "disk1", uuid: disk.uuid)
        await #expect(throws: InstanceManagerError.notFound("disk disk1")) {
            try await instances.diskGet(name: "disk1")
        }
        #expect(try daemon.call("bdev_lvol_get_lvstores").get() == .array([]))

        // A UUID that is not the lvstore's: error, and the file is left as it was.
        let wrong = try await readyDisk(
            instances, name: "disk1", file: file, uuid: "00000000-0000-4000-8000-000000000000")
        #expect(wrong.state == .error)
        #expect(wrong.errorMsg.contains(disk.uuid))
        #expect(try daemon.call("bdev_get_bdevs").get() == .array([]))
        try await instances.diskDelete(name: "disk1", uuid: "")

        // With its UUID, the lvstore is reused, not re-initialised.
        let again = try await readyDisk(instances, name: "disk1", file: file, uuid: disk.uuid)
        #expect(again.state == .ready && again.uuid == disk.uuid && again.id == disk.id)

        // A new file with a UUID named: never initialised.
        let blank = try TemporaryFile(size: 16 << 20, name: "im-blank")
        let missing = try await readyDisk(instances, name: "disk2", file: blank, uuid: disk.uuid)
        #expect(missing.state == .error && missing.errorMsg.contains("cannot find"))
        await instances.stop()
    }

    @Test func anLvstoreOfAnotherNameIsReusedAndRenamed() async throws {
        let daemon = try TgtDaemon()
        let file = try TemporaryFile(size: 32 << 20, name: "im-rename")
        // An lvstore made elsewhere, under another name, with an lvol on it.
        _ = try daemon.call("bdev_aio_create", [("name", .string("old")), ("filename", .string(file.path))]).get()
        let uuid = try daemon.call(
            "bdev_lvol_create_lvstore",
            [("bdev_name", .string("old")), ("lvs_name", .string("oldstore")), ("cluster_sz", .integer(1 << 20))]
        ).get()
        _ = try daemon.call(
            "bdev_lvol_create",
            [("lvs_name", .string("oldstore")), ("lvol_name", .string("vol-r-9")), ("size_in_mib", .integer(4))]
        ).get()
        _ = try daemon.call("bdev_aio_delete", [("name", .string("old"))]).get()

        let instances = makeInstances(daemon, ports: testPortRange())
        let disk = try await readyDisk(instances, name: "disk1", file: file)
        #expect(disk.state == .ready && .string(disk.uuid) == uuid, "\(disk.errorMsg)")
        #expect(disk.freeSize == disk.totalSize - (4 << 20))
        let stores = try daemon.call("bdev_lvol_get_lvstores").get()
        #expect(stores[0]?["name"] == .string("disk1"))
        // Its lvol is a replica, stopped, once the instance manager reconciles.
        await instances.reconcile()
        #expect(try await instances.replicaGet(name: "vol-r-9").state == .stopped)
        #expect(try await instances.diskReplicaInstanceList(diskName: "disk1")["vol-r-9"]?.diskUUID == disk.uuid)
    }

    @Test func badDiskRequestsChangeNothing() async throws {
        let daemon = try TgtDaemon()
        let instances = makeInstances(daemon, ports: testPortRange())
        for (name, path, blockSize) in [
            ("", "/tmp/x", Int64(512)), ("d", "", 512), ("d", "/tmp/x", 1000), ("a/b", "/tmp/x", 512),
        ] {
            await #expect(throws: InstanceManagerError.self) {
                try await instances.diskCreate(name: name, uuid: "", path: path, blockSize: blockSize)
            }
        }
        #expect(await instances.diskList().isEmpty)
        await #expect(throws: InstanceManagerError.notFound("disk nothing")) {
            try await instances.diskDelete(name: "nothing", uuid: "")
        }
        // A path that does not exist fails in the background with the reason.
        let disk = try await instances.diskCreate(
            name: "d", uuid: "", path: "/nonexistent/hornbill.img", blockSize: 512)
        #expect(disk.state == .creating)
        let failed = try await eventually { () async throws -> DiskInfo? in
            let current = try await instances.diskGet(name: "d")
            return current.state == .creating ? nil : current
        }
        #expect(failed.state == .error && failed.errorMsg.contains("No such file"))
        #expect(try daemon.call("bdev_get_bdevs").get() == .array([]))
    }
}
