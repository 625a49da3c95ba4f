import BlockCore
import BlockDevices
@testable import LogicalVolumes
import Testing

private let mib = 1024 * 1024

private func makeStore(megabytes: Int = 64, clusterSize: Int = mib, clear: ClearMethod = .unmap) async throws
    -> (MallocDevice, LogicalVolumeStore)
{
    let device = try mallocDevice(megabytes: megabytes)
    let store = try await LogicalVolumeStore.create(
        on: device, name: "lvs", options: .init(clusterSize: clusterSize, clearMethod: clear), executor: testReactor)
    return (device, store)
}

@Suite struct LvolTests {
    @Test func thinAndThickAllocation() async throws {
        let (_, store) = try await makeStore()
        let total = store.freeClusters
        let thin = try await store.createVolume(name: "thin", sizeBytes: 5 * UInt64(mib) + 1, thinProvisioned: true)
        #expect(thin.blockCount == 6 * UInt64(mib) / 4096)  // rounded up to clusters
        #expect(thin.isThinProvisioned)
        #expect(store.freeClusters == total)
        #expect(try await read(thin, count: 8192, atBlock: 0) == [UInt8](repeating: 0, count: 8192))

        try await write(thin, pattern(1, count: 4096), atBlock: 257)  // cluster 1
        #expect(store.freeClusters == total - 1)
        #expect(thin.allocatedClusters == 1)
        try await write(thin, pattern(2, count: 4096), atBlock: 300)  // same cluster
        #expect(store.freeClusters == total - 1)
        // The rest of a newly allocated cluster reads as zeroes.
        #expect(try await read(thin, count: 4096, atBlock: 256) == [UInt8](repeating: 0, count: 4096))

        let thick = try await store.createVolume(name: "thick", sizeBytes: 3 * UInt64(mib), thinProvisioned: false)
        #expect(!thick.isThinProvisioned)
        #expect(thick.allocatedClusters == 3)
        #expect(store.freeClusters == total - 4)
        #expect(try await read(thick, count: mib, atBlock: 0) == [UInt8](repeating: 0, count: mib))
    }

    @Test func noDataLeaksBetweenLvols() async throws {
        for clear in ClearMethod.allCases {
            let (_, store) = try await makeStore(megabytes: 16, clusterSize: 65536, clear: clear)
            let first = try await store.createVolume(name: "a", sizeBytes: 8 * 1024 * 1024, thinProvisioned: false)
            let secret = [UInt8](repeating: 0xA5, count: 8 * 1024 * 1024)
            try await write(first, secret, atBlock: 0)
            try await store.delete(first)
            // Every cluster of a new thin lvol gets one small write; the rest must read as zeroes.
            let second = try await store.createVolume(name: "b", sizeBytes: 8 * 1024 * 1024, thinProvisioned: true)
            for cluster in 0..<128 {
                try await write(second, [UInt8](repeating: 1, count: 4096), atBlock: UInt64(cluster * 16 + 5))
            }
            let all = try await read(second, count: 8 * 1024 * 1024, atBlock: 0)
            #expect(!all.contains(0xA5), "clear method \(clear)")
            let third = try await store.createVolume(name: "c", sizeBytes: 4 * 1024 * 1024, thinProvisioned: false)
            #expect(!(try await read(third, count: 4 * 1024 * 1024, atBlock: 0)).contains(0xA5))
        }
    }

    @Test func resizeGrowsAndShrinks() async throws {
        let (_, store) = try await makeStore()
        let total = store.freeClusters
        let lvol = try await store.createVolume(name: "v", sizeBytes: 4 * UInt64(mib), thinProvisioned: true)
        try await write(lvol, pattern(3, count: 4096), atBlock: 3 * 256)
        try await store.resize(lvol, sizeBytes: 2 * UInt64(mib))
        #expect(lvol.blockCount == 512)
        #expect(store.freeClusters == total)
        #expect(await errorCode { _ = try await read(lvol, count: 4096, atBlock: 512) } == .outOfRange)
        try await store.resize(lvol, sizeBytes: 4 * UInt64(mib))
        #expect(try await read(lvol, count: 4096, atBlock: 3 * 256) == [UInt8](repeating: 0, count: 4096))
        let thick = try await store.createVolume(name: "thick", sizeBytes: UInt64(mib), thinProvisioned: false)
        try await store.resize(thick, sizeBytes: 3 * UInt64(mib))
        #expect(thick.allocatedClusters == 3)
        #expect(store.freeClusters == total - 3)
    }

    @Test func renameReadOnlyAndXattrs() async throws {
        let (_, store) = try await makeStore()
        let lvol = try await store.createVolume(name: "v", sizeBytes: UInt64(mib), thinProvisioned: true)
        #expect(String(decoding: lvol.xattr("name")!, as: UTF8.self) == "v")
        #expect(String(decoding: lvol.xattr("uuid")!, as: UTF8.self) == lvol.name)
        let created = String(decoding: lvol.xattr("creation_time")!, as: UTF8.self)
        #expect(created.count == 20 && created.hasSuffix("Z"))
        #expect(lvol.xattr("user_created") == nil)
        try await store.setXattr(lvol, name: "user_created", value: Array("true\0".utf8))
        #expect(lvol.xattr("user_created") == Array("true\0".utf8))
        try await store.rename(lvol, to: "w")
        #expect(lvol.aliases == ["lvs/w"])
        #expect(store.volume(named: "w") === lvol)
        try await store.setReadOnly(lvol)
        #expect(!lvol.supportedIOTypes.contains(.write))
        #expect(await errorCode { try await write(lvol, [UInt8](repeating: 1, count: 4096), atBlock: 0) } == .readOnly)
        #expect(await errorCode { try await store.setXattr(lvol, name: "k", value: [1]) } == .readOnly)
        #expect(await errorCode { try await store.setXattr(lvol, name: "name", value: [1]) } == .invalidArgument)
    }

    @Test func snapshotCloneAndMerge() async throws {
        let (_, store) = try await makeStore()
        let total = store.freeClusters
        let origin = try await store.createVolume(name: "head", sizeBytes: 4 * UInt64(mib), thinProvisioned: true)
        let before = pattern(10, count: 2 * mib)
        try await write(origin, before, atBlock: 0)  // clusters 0 and 1
        let snapshot = try await store.snapshot(origin, name: "snap1", xattrs: ["user_created": Array("true".utf8)])
        #expect(snapshot.isSnapshot && snapshot.isReadOnly)
        #expect(snapshot.allocatedClusters == 2)
        #expect(origin.allocatedClusters == 0)
        #expect(origin.parent === snapshot)
        #expect(snapshot.clones.map(\.name) == [origin.name])
        #expect(snapshot.xattr("user_created") == Array("true".utf8))
        #expect(store.freeClusters == total - 2)

        // The head still reads the snapshot's data; writing copies on write.
        #expect(try await read(origin, count: 2 * mib, atBlock: 0) == before)
        let after = pattern(11, count: 4096)
        try await write(origin, after, atBlock: 10)
        #expect(origin.allocatedClusters == 1)
        var expected = before
        expected.replaceSubrange(40960..<45056, with: after)
        #expect(try await read(origin, count: 2 * mib, atBlock: 0) == expected)
        #expect(try await read(snapshot, count: 2 * mib, atBlock: 0) == before)

        // A clone of the snapshot sees the snapshot.
        let clone = try await store.clone(snapshot, name: "clone1")
        #expect(try await read(clone, count: 2 * mib, atBlock: 0) == before)
        #expect(await errorCode { _ = try await store.clone(origin, name: "bad") } == .invalidArgument)

        // Two clones: the snapshot cannot go.
        #expect(await errorCode { try await store.delete(snapshot) } == .busy)
        try await store.delete(clone)
        // One clone: merged into it, data unchanged, clusters kept.
        let freeBefore = store.freeClusters
        try await store.delete(snapshot)
        #expect(!snapshot.exists)
        #expect(origin.parent == nil)
        #expect(origin.allocatedClusters == 2)
        #expect(store.freeClusters == freeBefore + 1)  // the snapshot's copy of cluster 0 was superseded
        #expect(try await read(origin, count: 2 * mib, atBlock: 0) == expected)
    }

    @Test func fullThinStoreReturnsNoSpaceAndCorruptsNothing() async throws {
        let (device, store) = try await makeStore(megabytes: 8, clusterSize: 65536)
        let clusters = Int(store.freeClusters)
        let a = try await store.createVolume(name: "a", sizeBytes: UInt64(clusters) * 65536, thinProvisioned: true)
        let b = try await store.createVolume(name: "b", sizeBytes: UInt64(clusters) * 65536, thinProvisioned: true)
        var written: [(UInt64, [UInt8])] = []
        for cluster in 0..<clusters {
            let data = pattern(UInt64(cluster), count: 4096)
            try await write(a, data, atBlock: UInt64(cluster * 16))
            written.append((UInt64(cluster * 16), data))
        }
        #expect(store.freeClusters == 0)
        #expect(await errorCode { try await write(b, [UInt8](repeating: 7, count: 4096), atBlock: 0) } == .noSpace)
        #expect(await errorCode { _ = try await store.createVolume(name: "c", sizeBytes: 65536, thinProvisioned: false) } == .noSpace)
        // Writes into allocated clusters still work; nothing was damaged.
        try await write(a, pattern(99, count: 4096), atBlock: 1)
        for (block, data) in written { #expect(try await read(a, count: 4096, atBlock: block) == data) }
        #expect(try await read(b, count: 4096, atBlock: 0) == [UInt8](repeating: 0, count: 4096))
        try await store.close()
        let reloaded = try #require(try await LogicalVolumeStore.load(from: device, executor: testReactor))
        let a2 = try #require(reloaded.volume(named: "a"))
        for (block, data) in written { #expect(try await read(a2, count: 4096, atBlock: block) == data) }
        #expect(reloaded.freeClusters == 0)
    }

    @Test func unmapReleasesWholeClustersOnlyWhenNothingShowsThrough() async throws {
        let (_, store) = try await makeStore(clusterSize: 65536)
        let lvol = try await store.createVolume(name: "v", sizeBytes: 1024 * 1024, thinProvisioned: true)
        try await write(lvol, pattern(5, count: 4 * 65536), atBlock: 0)
        #expect(lvol.allocatedClusters == 4)
        try await lvol.makeChannel().unmap(offsetBlocks: 16, blockCount: 32)  // clusters 1 and 2 whole
        #expect(lvol.allocatedClusters == 2)
        try await lvol.makeChannel().unmap(offsetBlocks: 49, blockCount: 2)  // part of cluster 3
        #expect(lvol.allocatedClusters == 2)
        let data = try await read(lvol, count: 4 * 65536, atBlock: 0)
        var expected = pattern(5, count: 4 * 65536)
        expected.replaceSubrange(65536..<(3 * 65536), with: repeatElement(0, count: 2 * 65536))
        expected.replaceSubrange((49 * 4096)..<(51 * 4096), with: repeatElement(0, count: 8192))
        #expect(data == expected)

        // Under a snapshot, unmapping must hide the parent's data, not expose it.
        _ = try await store.snapshot(lvol, name: "s")
        try await lvol.makeChannel().unmap(offsetBlocks: 0, blockCount: 16)
        #expect(try await read(lvol, count: 65536, atBlock: 0) == [UInt8](repeating: 0, count: 65536))
        try await lvol.makeChannel().writeZeroes(offsetBlocks: 48, blockCount: 1)
        #expect(try await read(lvol, count: 4096, atBlock: 48) == [UInt8](repeating: 0, count: 4096))
    }

    @Test func deleteRefusesOpenLvols() async throws {
        let (_, store) = try await makeStore()
        let lvol = try await store.createVolume(name: "v", sizeBytes: UInt64(mib), thinProvisioned: true)
        let descriptor = try BlockDescriptor(lvol, writable: true)
        try descriptor.claim(module: "nvmf")
        #expect(await errorCode { try await store.delete(lvol) } == .busy)
        descriptor.close()
        try await store.delete(lvol)
        #expect(await errorCode { _ = try await read(lvol, count: 4096, atBlock: 0) } == .notFound)
    }
}

@Suite struct LvolConcurrencyTests {
    @Test func concurrentFirstWritesToOneClusterAllocateItOnce() async throws {
        let (_, store) = try await makeStore(megabytes: 32, clusterSize: 65536)
        let origin = try await store.createVolume(name: "v", sizeBytes: 1024 * 1024, thinProvisioned: true)
        try await write(origin, pattern(1, count: 1024 * 1024), atBlock: 0)
        let snapshot = try await store.snapshot(origin, name: "s")
        let clone = try await store.clone(snapshot, name: "c")
        let free = store.freeClusters
        for target in [origin, clone] {
            // 16 blocks per cluster: every block of clusters 0..3 written at once by its own task.
            try await withTaskExecutorPreference(testReactor) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for block in 0..<64 {
                        group.addTask {
                            try await write(target, pattern(UInt64(1000 + block), count: 4096), atBlock: UInt64(block))
                        }
                    }
                    try await group.waitForAll()
                }
            }
            #expect(target.allocatedClusters == 4)
            for block in 0..<64 {
                #expect(try await read(target, count: 4096, atBlock: UInt64(block)) == pattern(UInt64(1000 + block), count: 4096))
            }
        }
        #expect(store.freeClusters == free - 8)
        #expect(try await read(snapshot, count: 1024 * 1024, atBlock: 0) == pattern(1, count: 1024 * 1024))
    }

    @Test func snapshotWhileWritingKeepsEveryWrite() async throws {
        let (_, store) = try await makeStore(megabytes: 32, clusterSize: 65536)
        let origin = try await store.createVolume(name: "v", sizeBytes: 1024 * 1024, thinProvisioned: true)
        let snapshots = try await withTaskExecutorPreference(testReactor) {
            try await withThrowingTaskGroup(of: LogicalVolume?.self) { group in
                for block in 0..<256 {
                    group.addTask {
                        try await write(origin, pattern(UInt64(block), count: 4096), atBlock: UInt64(block))
                        return nil
                    }
                    if block % 64 == 0 {
                        group.addTask { try await store.snapshot(origin, name: "s\(block)") }
                    }
                }
                var taken: [LogicalVolume] = []
                for try await snapshot in group { if let snapshot { taken.append(snapshot) } }
                return taken
            }
        }
        #expect(snapshots.count == 4)
        for block in 0..<256 {
            #expect(try await read(origin, count: 4096, atBlock: UInt64(block)) == pattern(UInt64(block), count: 4096))
        }
        try await withTaskExecutorPreference(testReactor) { try store.state.validate() }
    }
}
