// Edge values of the lvol operations, each answered as SPDK's blobstore answers it: a size of
// 0 clusters is valid (the lvol owns nothing, all I/O is out of range), a read-only blob cannot be
// snapshotted (EINVAL), and an lvol held open for writing cannot shrink (EBUSY).

import BlockCore
import BlockDevices
import LogicalVolumes
import TestSupport
import Testing

@Suite struct LvolEdgeValueTests {
    static let mib = 1 << 20

    func makeStore() async throws -> (MallocDevice, LogicalVolumeStore) {
        let device = try mallocDevice(megabytes: 32)
        let store = try await LogicalVolumeStore.create(
            on: device, name: "lvs", options: .init(clusterSize: Self.mib), executor: testReactor)
        return (device, store)
    }

    @Test func resizeToZeroFreesEveryClusterAndPersists() async throws {
        let (device, store) = try await makeStore()
        let free = store.freeClusters
        let thick = try await store.createVolume(name: "thick", sizeBytes: 4 * UInt64(Self.mib), thinProvisioned: false)
        let thin = try await store.createVolume(name: "thin", sizeBytes: 4 * UInt64(Self.mib), thinProvisioned: true)
        try await write(thin, pattern(7, count: 4096), atBlock: 0)
        #expect(store.freeClusters == free - 5)

        try await store.resize(thick, sizeBytes: 0)
        try await store.resize(thin, sizeBytes: 0)
        #expect(thick.blockCount == 0 && thin.blockCount == 0)
        #expect(thick.allocatedClusters == 0 && thin.allocatedClusters == 0)
        #expect(store.freeClusters == free)
        #expect(await errorCode { _ = try await read(thin, count: 4096, atBlock: 0) } == .outOfRange)
        #expect(await errorCode { try await write(thick, pattern(1, count: 4096), atBlock: 0) } == .outOfRange)

        // Growing again shows zeroes, not the old data.
        try await store.resize(thin, sizeBytes: UInt64(Self.mib))
        #expect(try await read(thin, count: 4096, atBlock: 0) == [UInt8](repeating: 0, count: 4096))
        try await store.resize(thin, sizeBytes: 0)

        // A 0-byte lvol can be created, and every size survives a reload.
        let empty = try await store.createVolume(name: "empty", sizeBytes: 0, thinProvisioned: false)
        #expect(empty.blockCount == 0)
        try await store.close()
        let reloaded = try #require(try await LogicalVolumeStore.load(from: device, executor: testReactor))
        for name in ["thick", "thin", "empty"] {
            #expect(try #require(reloaded.volume(named: name)).blockCount == 0, "\(name)")
        }
        #expect(reloaded.freeClusters == free)
        try await reloaded.close()
    }

    @Test func aSnapshotOrReadOnlyLvolCannotBeSnapshotted() async throws {
        let (_, store) = try await makeStore()
        let lvol = try await store.createVolume(name: "v", sizeBytes: 2 * UInt64(Self.mib), thinProvisioned: true)
        try await write(lvol, pattern(3, count: 4096), atBlock: 0)
        let snapshot = try await store.snapshot(lvol, name: "snap")
        let free = store.freeClusters
        #expect(await errorCode { _ = try await store.snapshot(snapshot, name: "snap2") } == .invalidArgument)
        // The name is checked first, as SPDK does.
        #expect(await errorCode { _ = try await store.snapshot(snapshot, name: "v") } == .alreadyExists)
        try await store.setReadOnly(lvol)
        #expect(await errorCode { _ = try await store.snapshot(lvol, name: "snap3") } == .invalidArgument)
        // Nothing changed: the snapshot keeps its data, no lvol was added, no cluster moved.
        #expect(store.volumes.count == 2 && store.volume(named: "snap2") == nil)
        #expect(store.freeClusters == free)
        #expect(snapshot.isSnapshot && snapshot.allocatedClusters == 1)
        #expect(try await read(snapshot, count: 4096, atBlock: 0) == pattern(3, count: 4096))
        try await store.close()
    }

    @Test func anLvolOpenForWritingGrowsButDoesNotShrink() async throws {
        let (_, store) = try await makeStore()
        let lvol = try await store.createVolume(name: "v", sizeBytes: 2 * UInt64(Self.mib), thinProvisioned: true)
        let descriptor = try BlockDescriptor(lvol, writable: true)
        #expect(await errorCode { try await store.resize(lvol, sizeBytes: 0) } == .busy)
        #expect(lvol.blockCount == UInt64(2 * Self.mib / lvol.blockSize))
        try await store.resize(lvol, sizeBytes: 4 * UInt64(Self.mib))
        #expect(lvol.blockCount == UInt64(4 * Self.mib / lvol.blockSize))
        descriptor.close()
        try await store.resize(lvol, sizeBytes: 0)
        #expect(lvol.blockCount == 0)
        try await store.close()
    }
}
