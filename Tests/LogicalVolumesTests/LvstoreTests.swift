import BlockCore
import BlockDevices
@testable import LogicalVolumes
import Testing

@Suite struct LvstoreTests {
    @Test func capacityMatchesSPDK() async throws {
        // SPDK's tests: 128 MiB malloc, 512-byte blocks, 4 MiB clusters -> 31 data clusters.
        let device = try mallocDevice(megabytes: 128, blockSize: 512)
        let store = try await LogicalVolumeStore.create(on: device, name: "lvs", executor: testReactor)
        #expect(store.totalDataClusters == 31)
        #expect(store.freeClusters == 31)
        #expect(store.clusterSize == 4 * 1024 * 1024)
        #expect(store.blockSize == 512)
        #expect(store.clearMethod == .unmap)
        #expect(device.claims.current.claimant == "lvol")
    }

    @Test func reloadAfterCleanAndUncleanStop() async throws {
        let device = try mallocDevice(megabytes: 64)
        let options = LogicalVolumeStore.CreateOptions(clusterSize: 1024 * 1024)
        let store = try await LogicalVolumeStore.create(on: device, name: "disk1", options: options, executor: testReactor)
        let lvol = try await store.createVolume(name: "replica-a", sizeBytes: 10 * 1024 * 1024, thinProvisioned: true)
        let data = pattern(1, count: 8192)
        try await write(lvol, data, atBlock: 300)
        try await store.close()
        #expect(device.claims.current.claimant == nil)

        let clean = try #require(try await LogicalVolumeStore.load(from: device, executor: testReactor))
        #expect(clean.wasCleanlyClosed)
        #expect(clean.name == "disk1")
        let reloaded = try #require(clean.volume(named: "replica-a"))
        #expect(reloaded.uuid == lvol.uuid)
        #expect(reloaded.aliases == ["disk1/replica-a"])
        #expect(try await read(reloaded, count: 8192, atBlock: 300) == data)
        #expect(clean.freeClusters == clean.totalDataClusters - 1)

        // Dropped without close: an unclean stop.
        try await write(reloaded, data, atBlock: 2000)
        let unclean = try await LogicalVolumeStore.reopenAfterCrash(device: device, executor: testReactor, abandoning: clean)
        #expect(!unclean.wasCleanlyClosed)
        let again = try #require(unclean.volume(named: "replica-a"))
        #expect(try await read(again, count: 8192, atBlock: 2000) == data)
        #expect(unclean.freeClusters == unclean.totalDataClusters - 2)
    }

    @Test func deviceWithoutLvstoreLoadsAsNil() async throws {
        let device = try mallocDevice(megabytes: 16)
        #expect(try await LogicalVolumeStore.load(from: device, executor: testReactor) == nil)
        #expect(device.claims.current.writers == 0)
    }

    @Test func renameGrowDestroy() async throws {
        let device = try mallocDevice(megabytes: 32)
        let store = try await LogicalVolumeStore.create(
            on: device, name: "old", options: .init(clusterSize: 1024 * 1024), executor: testReactor)
        let lvol = try await store.createVolume(name: "v", sizeBytes: 1, thinProvisioned: true)
        try await store.rename(to: "new")
        #expect(store.name == "new")
        #expect(lvol.aliases == ["new/v"])
        #expect(try await store.grow() == store.totalDataClusters)
        try await store.destroy()
        #expect(!lvol.exists)
        #expect(device.claims.current.claimant == nil)
        #expect(try await LogicalVolumeStore.load(from: device, executor: testReactor) == nil)
    }

    @Test func invalidArgumentsAreRefusedClearly() async throws {
        let device = try mallocDevice(megabytes: 16, blockSize: 512)
        for size in [0, 2048, 4095, 8191] {
            let code = await errorCode {
                _ = try await LogicalVolumeStore.create(
                    on: device, name: "lvs", options: .init(clusterSize: size), executor: testReactor)
            }
            #expect(code == .invalidArgument, "cluster size \(size)")
        }
        let tooBig = await errorCode {
            _ = try await LogicalVolumeStore.create(
                on: device, name: "lvs", options: .init(clusterSize: 16 * 1024 * 1024), executor: testReactor)
        }
        #expect(tooBig == .invalidArgument)
        for name in ["", "a/b", String(repeating: "x", count: 256), "tab\tname"] {
            let code = await errorCode {
                _ = try await LogicalVolumeStore.create(on: device, name: name, executor: testReactor)
            }
            #expect(code == .invalidArgument, "name \(name.prefix(10))")
        }
        #expect(device.claims.current.claimant == nil)
        let store = try await LogicalVolumeStore.create(
            on: device, name: "lvs", options: .init(clusterSize: 8192), executor: testReactor)
        #expect(await errorCode { _ = try await store.createVolume(name: "a/b", sizeBytes: 1, thinProvisioned: true) } == .invalidArgument)
        _ = try await store.createVolume(name: "v", sizeBytes: 1, thinProvisioned: true)
        #expect(await errorCode { _ = try await store.createVolume(name: "v", sizeBytes: 1, thinProvisioned: true) } == .alreadyExists)
        // A second lvstore cannot claim the same device.
        #expect(await errorCode { _ = try await LogicalVolumeStore.create(on: device, name: "other", executor: testReactor) } == .claimed)
    }

    @Test func corruptedMetadataIsRefused() async throws {
        let device = try mallocDevice(megabytes: 16)
        let store = try await LogicalVolumeStore.create(
            on: device, name: "lvs", options: .init(clusterSize: 65536), executor: testReactor)
        _ = try await store.createVolume(name: "v", sizeBytes: 65536, thinProvisioned: false)
        try await store.close()

        // Flip one byte of the superblock's checksummed area.
        let page = try await read(device, count: 4096, atBlock: 0)
        var damaged = page
        damaged[20] ^= 0xFF
        try await write(device, damaged, atBlock: 0)
        await #expect {
            _ = try await LogicalVolumeStore.load(from: device, executor: testReactor)
        } throws: { error in
            (error as? BlockError)?.code == .corrupted && "\(error)".contains("superblock")
        }
        try await write(device, page, atBlock: 0)

        // The newest checkpoint (slot B, written by the clean close) damaged: the older slot and
        // its journal still describe the same state.
        let superblock = store.superblock
        let slotA = superblock.checkpointOffset / 4096
        let slotB = (superblock.checkpointOffset + superblock.checkpointBytes) / 4096
        var checkpoint = try await read(device, count: 4096, atBlock: slotB)
        checkpoint[70] ^= 0x55
        try await write(device, checkpoint, atBlock: slotB)
        let fallback = try #require(try await LogicalVolumeStore.load(from: device, executor: testReactor))
        #expect(fallback.volume(named: "v") != nil)
        fallback.abandon()

        // Both damaged: refused.
        var older = try await read(device, count: 4096, atBlock: slotA)
        older[70] ^= 0x55
        try await write(device, older, atBlock: slotA)
        await #expect {
            _ = try await LogicalVolumeStore.load(from: device, executor: testReactor)
        } throws: { error in
            (error as? BlockError)?.code == .corrupted && "\(error)".contains("no intact checkpoint")
        }
        #expect(device.claims.current.writers == 0)
    }

    @Test func damagedJournalEntryBeforeIntactOnesIsRefused() async throws {
        let device = try mallocDevice(megabytes: 16)
        let store = try await LogicalVolumeStore.create(
            on: device, name: "lvs", options: .init(clusterSize: 65536), executor: testReactor)
        for i in 0..<4 { _ = try await store.createVolume(name: "v\(i)", sizeBytes: 65536, thinProvisioned: true) }
        store.abandon()
        let first = store.superblock.journalOffset / 4096
        var entry = try await read(device, count: 4096, atBlock: first)
        entry[70] ^= 0x01
        try await write(device, entry, atBlock: first)
        await #expect {
            _ = try await LogicalVolumeStore.load(from: device, executor: testReactor)
        } throws: { error in
            (error as? BlockError)?.code == .corrupted && "\(error)".contains("later entries exist")
        }

        // A torn last entry, by contrast, is an operation that never returned: dropped silently.
        try await write(device, [UInt8](repeating: 0, count: 4096), atBlock: first)
        entry[70] ^= 0x01
        try await write(device, entry, atBlock: first)
        let last = first + 3
        var tail = try await read(device, count: 4096, atBlock: last)
        tail[70] ^= 0x01
        try await write(device, tail, atBlock: last)
        let recovered = try #require(try await LogicalVolumeStore.load(from: device, executor: testReactor))
        #expect(recovered.volumes.map(\.lvolName) == ["v0", "v1", "v2"])
        #expect(!recovered.wasCleanlyClosed)
    }
}

extension LogicalVolumeStore {
    /// Simulates a process that died holding `store`: its claim is dropped without a clean close,
    /// then the device is loaded again.
    static func reopenAfterCrash(
        device: any BlockDevice, executor: any IOExecutor, abandoning store: LogicalVolumeStore
    ) async throws -> LogicalVolumeStore {
        store.abandon()
        return try #require(try await LogicalVolumeStore.load(from: device, executor: executor))
    }
}
