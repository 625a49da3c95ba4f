import BlockCore
import BlockDevices
import Testing

@Suite struct IOControlTests {
    @Test func descriptorsCountIO() async throws {
        let device = try MallocDevice(name: "Malloc0", blockCount: 1024, blockSize: 512)
        let descriptor = try BlockDescriptor(device, writable: true)
        let channel = try descriptor.makeChannel()
        let buffer = IOBuffer(byteCount: 4096)
        for _ in 0..<3 { try await channel.write(buffer.vector(), offsetBlocks: 0) }
        try await channel.read(buffer.vector(byteCount: 1024), offsetBlocks: 8)
        try await channel.unmap(offsetBlocks: 0, blockCount: 16)
        await #expect(throws: BlockError.self) { try await channel.read(buffer.vector(), offsetBlocks: 1023) }
        let stats = device.ioControl.statistics.snapshot
        #expect(stats[.write] == (bytes: 12288, operations: 3))
        #expect(stats[.read] == (bytes: 1024, operations: 1))
        #expect(stats[.unmap] == (bytes: 8192, operations: 1))
        #expect(stats.errors == 1)
        #expect(stats.maxLatencyNanoseconds[1] >= stats.minLatencyNanoseconds[1])
        // I/O that bypasses descriptors (the device's own channel) is not counted.
        try await device.makeChannel().write(buffer.vector(), offsetBlocks: 0)
        #expect(device.ioControl.statistics.snapshot[.write].operations == 3)
    }

    @Test func qosLimitsHoldIOToTheRate() async throws {
        let device = try MallocDevice(name: "Malloc0", blockCount: 1024, blockSize: 512)
        device.ioControl.setLimits(QoSLimits(readWriteIOsPerSecond: 1000))
        let channel = try BlockDescriptor(device, writable: true).makeChannel()
        let buffer = IOBuffer(byteCount: 512)
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<200 { try await channel.read(buffer.vector(), offsetBlocks: 0) }
        // 200 I/Os at 1000 per second take at least ~0.19 s (a 10 ms burst is allowed).
        #expect(clock.now - start >= .milliseconds(180))

        device.ioControl.setLimits(QoSLimits(writeMegabytesPerSecond: 1))
        let big = IOBuffer(byteCount: 128 * 1024)
        let writeStart = clock.now
        for _ in 0..<4 { try await channel.write(big.vector(), offsetBlocks: 0) }
        #expect(clock.now - writeStart >= .milliseconds(350))  // 512 KiB at 1 MiB/s
        // Reads are not held by a write limit; clearing the limits lifts them.
        device.ioControl.setLimits(QoSLimits())
        #expect(device.ioControl.limits.isUnlimited)
    }
}
