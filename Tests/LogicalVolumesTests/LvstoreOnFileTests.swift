import BlockCore
import BlockDevices
import Foundation
import LogicalVolumes
import TestSupport
import Testing

@Suite struct LvstoreOnFileTests {
    @Test func examineBringsBackEveryLvolIntoTheRegistry() async throws {
        let file = try TemporaryFile(size: 64 << 20)
        let registry = BlockDeviceRegistry()
        let device = try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
        let store = try await LogicalVolumeStore.create(
            on: device, name: "disk", options: .init(clusterSize: 1 << 20), executor: testReactor, registry: registry)
        let head = try await store.createVolume(name: "replica-r1", sizeBytes: 8 << 20, thinProvisioned: true)
        try await write(head, pattern(9, count: 65536), atBlock: 16)
        let snapshot = try await store.snapshot(
            head, name: "replica-r1-snap-s1", xattrs: ["user_created": Array("true".utf8), "snapshot_timestamp": Array("2026-11-25T00:00:00Z".utf8)])
        try await store.setXattr(head, name: "k", value: Array("v".utf8))
        #expect(registry.lookup("disk/replica-r1") === head)
        #expect(registry.lookup(snapshot.name) === snapshot)
        try await store.close()
        #expect(registry.all.isEmpty)

        let reopened = try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
        let loaded = try #require(try await LogicalVolumeStore.load(from: reopened, executor: testReactor, registry: registry))
        #expect(loaded.uuid == store.uuid)
        let head2 = try #require(registry.lookup("disk/replica-r1") as? LogicalVolume)
        let snapshot2 = try #require(registry.lookup("disk/replica-r1-snap-s1") as? LogicalVolume)
        #expect(head2.uuid == head.uuid && snapshot2.uuid == snapshot.uuid)
        #expect(head2.parent === snapshot2)
        #expect(snapshot2.isSnapshot)
        #expect(snapshot2.xattr("snapshot_timestamp") == Array("2026-11-25T00:00:00Z".utf8))
        #expect(head2.xattr("k") == Array("v".utf8))
        #expect(head2.creationTime == head.creationTime)
        #expect(try await read(head2, count: 65536, atBlock: 16) == pattern(9, count: 65536))
        #expect(reopened.claims.current.claimant == "lvol")
        try await loaded.close()
    }

    @Test func growAddsTheClustersOfAGrownFile() async throws {
        let file = try TemporaryFile(size: 64 << 20)
        let device = try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
        let store = try await LogicalVolumeStore.create(
            on: device, name: "disk", options: .init(clusterSize: 1 << 20), executor: testReactor)
        let before = store.totalDataClusters
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file.path))
        try handle.truncate(atOffset: 96 << 20)
        try handle.close()
        try device.rescan()
        let after = try await store.grow()
        #expect(after == before + 32)
        #expect(store.freeClusters == after)
        let big = try await store.createVolume(name: "big", sizeBytes: after << 20, thinProvisioned: false)
        #expect(big.allocatedClusters == after)
        try await store.close()
        let loaded = try #require(try await LogicalVolumeStore.load(from: device, executor: testReactor))
        #expect(loaded.totalDataClusters == after)
        #expect(loaded.freeClusters == 0)
        try await loaded.close()
    }
}
