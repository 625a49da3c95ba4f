import BlockCore
import BlockDevices
import Foundation
import LogicalVolumes
import Synchronization
import TestSupport
import Testing

/// Counts the removal notifications a stacked module receives.
private final class RemovalLog: Sendable {
    let count = Atomic<Int>(0)
}

@Suite struct LvstoreHotRemoveTests {
    @Test func removingTheBaseUnloadsTheStoreAndTellsWhatSitsOnItsLvols() async throws {
        let file = try TemporaryFile(size: 32 << 20)
        let registry = BlockDeviceRegistry()
        let device = try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
        try registry.register(device)
        let store = try await LogicalVolumeStore.create(
            on: device, name: "hr", options: .init(clusterSize: 1 << 20), executor: testReactor, registry: registry)
        let lvol = try await store.createVolume(name: "v", sizeBytes: 4 << 20, thinProvisioned: true)
        try await write(lvol, pattern(3, count: 8192), atBlock: 10)
        // A module stacked on the lvol, as an export would be.
        let log = RemovalLog()
        let export = try BlockDescriptor(lvol, writable: true, onRemove: { log.count.add(1, ordering: .relaxed) })
        try export.claim(module: "nbd")
        let channel = try lvol.makeChannel()

        // Not refused although claimed: the removal runs down the stack before it returns.
        try await registry.remove(name: "aio0")
        #expect(log.count.load(ordering: .relaxed) == 1)
        #expect(!lvol.exists && !store.isLoaded)
        #expect(registry.all.isEmpty)
        #expect(device.claims.current.claimant == nil)
        #expect(throws: BlockError.self) { _ = try BlockDescriptor(lvol, writable: false) }
        let buffer = IOBuffer(byteCount: 4096)
        await #expect(throws: BlockError.self) { try await channel.read(buffer.vector(), offsetBlocks: 0) }
        export.close()

        // The device loaded again: the store comes back, closed cleanly, with the data.
        let again = try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
        let loaded = try #require(try await LogicalVolumeStore.load(from: again, executor: testReactor, registry: registry))
        #expect(loaded.wasCleanlyClosed)
        let volume = try #require(registry.lookup("hr/v"))
        #expect(try await read(volume, count: 8192, atBlock: 10) == pattern(3, count: 8192))
        try await loaded.close()
    }

    @Test func aRemovalDuringALoadReachesTheStoreOnceItIsLoaded() async throws {
        let device = try GateDevice(name: "gate-lvs", blockCount: 4096, blockSize: 4096)
        device.openGate()
        let registry = BlockDeviceRegistry()
        try registry.register(device)
        let store = try await LogicalVolumeStore.create(
            on: device, name: "hr", options: .init(clusterSize: 1 << 20), executor: testReactor)
        _ = try await store.createVolume(name: "v", sizeBytes: 1 << 20, thinProvisioned: true)
        try await store.close()
        // The examine starts and waits in its first metadata read; the base is removed meanwhile.
        device.closeGate()
        let load = Task { try await LogicalVolumeStore.load(from: device, executor: testReactor, registry: registry) }
        #expect(await device.waitForWaitingIOs(1))
        let removal = Task { try await registry.remove(name: "gate-lvs") }
        for _ in 0..<6000 where !device.claims.isRemoving { try await Task.sleep(for: .milliseconds(5)) }
        #expect(device.claims.isRemoving)
        device.openGate()
        _ = try await removal.value
        // The removal waited for the store the load made and unloaded it: nothing of it is left.
        #expect(registry.all.isEmpty)
        let loaded = try await load.value
        #expect(loaded?.isLoaded == false)
        #expect(device.claims.current.claimant == nil && device.claims.current.writers == 0)
    }

    @Test func deletingAnLvolTellsWhatSitsOnItAndKeepsRefusingSilentOpeners() async throws {
        let device = try mallocDevice(megabytes: 16)
        let store = try await LogicalVolumeStore.create(on: device, name: "hr", options: .init(clusterSize: 1 << 20), executor: testReactor)
        let told = try await store.createVolume(name: "told", sizeBytes: 1 << 20, thinProvisioned: true)
        let log = RemovalLog()
        let stacked = try BlockDescriptor(told, writable: true, onRemove: { log.count.add(1, ordering: .relaxed) })
        try stacked.claim(module: "nvmf")
        // The handler only counts; the descriptor stays open, so the delete is refused and undone.
        await #expect(throws: BlockError.self) { try await store.delete(told) }
        #expect(log.count.load(ordering: .relaxed) == 1)
        stacked.close()
        // Openable again after the refused delete, then deleted.
        let reader = try BlockDescriptor(told, writable: false)
        reader.close()
        try await store.delete(told)
        #expect(!told.exists)
        try await store.close()
    }
}
