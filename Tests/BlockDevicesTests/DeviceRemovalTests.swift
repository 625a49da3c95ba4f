// Hot remove racing a module's open (DeviceRemoval.swift): a removal either refuses the open or
// reaches the module's removal handler, and returns only after it ran. Each test forces one
// interleaving by waiting for a state, never for time.

import BlockCore
import BlockDevices
import Synchronization
import Testing

private final class RemovalTally: Sendable {
    private let value = Atomic<Int>(0)
    func raise() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// Waits (bounded) until the device's removal has begun.
private func waitUntilRemoving(_ device: any BlockDevice) async -> Bool {
    for _ in 0..<6000 {
        if device.claims.isRemoving { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return false
}

@Suite struct DeviceRemovalTests {
    @Test func aRemovalThatBeginsBeforeTheHandlerIsSetWaitsForItAndRunsIt() async throws {
        let device = try MallocDevice(name: "race0", blockCount: 64, blockSize: 512)
        // A module opened the device but is not ready yet (an lvstore still loading).
        let descriptor = try BlockDescriptor(device, writable: true, removal: .handlerFollows)
        try descriptor.claim(module: "lvol")
        let removal = Task { await device.claims.hotRemove() }
        #expect(await waitUntilRemoving(device))
        // No open gets in any more.
        #expect(throws: BlockError.self) { _ = try BlockDescriptor(device, writable: false) }
        // The module becomes ready: the waiting removal runs its handler.
        let told = RemovalTally()
        descriptor.onRemove {
            told.raise()
            descriptor.close()
        }
        await removal.value
        #expect(told.count == 1)
        #expect(device.claims.current.claimant == nil && device.claims.current.writers == 0)
    }

    @Test func aRemovalGoesOnWhenTheOpenerGivesUpWithoutAHandler() async throws {
        let device = try MallocDevice(name: "race1", blockCount: 64, blockSize: 512)
        let descriptor = try BlockDescriptor(device, writable: true, removal: .handlerFollows)
        let removal = Task { await device.claims.hotRemove() }
        #expect(await waitUntilRemoving(device))
        descriptor.close()  // the module's open failed on its own
        await removal.value
        #expect(device.claims.current.writers == 0)
    }

    @Test func anOpenRacingARemovalIsEitherRefusedOrReached() async throws {
        for round in 0..<200 {
            let device = try MallocDevice(name: "race-\(round)", blockCount: 8, blockSize: 512)
            let told = RemovalTally()
            async let removal: Void = device.claims.hotRemove()
            let opened = Task { () -> BlockDescriptor? in
                let box = Mutex<BlockDescriptor?>(nil)
                let descriptor = try? BlockDescriptor(device, writable: true, removal: .handler({
                    told.raise()
                    box.withLock { $0?.close() }
                }))
                box.withLock { $0 = descriptor }
                return descriptor
            }
            let descriptor = await opened.value
            await removal
            // Opened: the removal must have reached it (the handler may close it only once set).
            if let descriptor {
                #expect(told.count == 1, "round \(round): an open that won the race was not told of the removal")
                descriptor.close()
            } else {
                #expect(told.count == 0)
            }
            #expect(device.claims.current.writers == 0)
        }
    }
}
