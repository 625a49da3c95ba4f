import BlockCore
import BlockDevices
import TestSupport
import Testing

@Suite struct WrapperDeviceTests {
    @Test func faultInjectionFailsExactlyWhatWasAskedFor() async throws {
        let base = try MallocDevice(name: "Malloc0", blockCount: 256, blockSize: 4096)
        let device = FaultInjectionDevice(wrapping: base)
        #expect(device.name == "EE_Malloc0")
        let channel = try device.makeChannel()
        let buffer = IOBuffer(byteCount: 4096)
        device.inject(.write, count: 2)
        await #expect(throws: BlockError.self) { try await channel.write(buffer.vector(), offsetBlocks: 0) }
        try await channel.read(buffer.vector(), offsetBlocks: 0)  // reads unaffected
        await #expect(throws: BlockError.self) { try await channel.write(buffer.vector(), offsetBlocks: 0) }
        try await channel.write(buffer.vector(), offsetBlocks: 0)  // the count is used up
        #expect(device.injectedCount == 2)

        device.inject([.read, .flush], probabilityPercent: 50)
        var failures = 0
        for _ in 0..<200 {
            do { try await channel.read(buffer.vector(), offsetBlocks: 1) } catch { failures += 1 }
        }
        #expect((60...140).contains(failures))
        device.clear()
        try await channel.flush()
    }

    @Test func faultInjectionPassesConformanceWhenIdle() async throws {
        try await BlockDeviceConformance(name: "error bdev") {
            FaultInjectionDevice(wrapping: try MallocDevice(name: "Malloc0", blockCount: 2048, blockSize: 512))
        }.runAll()
    }

    @Test func delayAddsLatency() async throws {
        let base = try MallocDevice(name: "Malloc0", blockCount: 256, blockSize: 4096)
        let device = DelayDevice(wrapping: base, name: "slow", read: .milliseconds(20), write: .zero)
        let channel = try device.makeChannel()
        let buffer = IOBuffer(byteCount: 4096)
        let clock = ContinuousClock()
        let start = clock.now
        try await channel.read(buffer.vector(), offsetBlocks: 0)
        #expect(clock.now - start >= .milliseconds(20))
        try await uringReactor.run {
            let onReactor = try device.makeChannel()
            try await onReactor.read(buffer.vector(), offsetBlocks: 0)
            #expect(uringReactor.isCurrent)
        }
    }
}
