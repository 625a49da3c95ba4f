import BlockCore
import BlockDevices
import Testing

@Suite struct IOMemoryArenaTests {
    @Test func hugepagesOrAClearFallback() throws {
        let arena = try IOMemoryArena(megabytes: 3, hugePages: true)
        #expect(arena.byteCount == 4 << 20)  // whole hugepages
        if !arena.usesHugePages {
            #expect(arena.fallbackReason?.contains("hugepages unavailable") == true)
            #expect(arena.summary.contains("ordinary pages"))
        }
        let plain = try IOMemoryArena(megabytes: 2, hugePages: false)
        #expect(!plain.usesHugePages && plain.fallbackReason == "hugepages disabled (--no-huge)")
        #expect(throws: BlockError.self) { try IOMemoryArena(megabytes: 0, hugePages: false) }
    }

    @Test func poolsAreCarvedWithinTheBudget() async throws {
        let arena = try IOMemoryArena(megabytes: 2, hugePages: false)
        let pool = try arena.makePool(bufferSize: 128 * 1024, capacity: 8)
        #expect(arena.remainingBytes == (2 << 20) - 8 * 128 * 1024)
        #expect(throws: BlockError.self) { try arena.makePool(bufferSize: 128 * 1024, capacity: 9) }
        var buffers: [IOBuffer] = []
        while let buffer = pool.tryAcquire() {
            #expect(UInt(bitPattern: buffer.bytes.baseAddress!) % UInt(BlockLimits.bufferAlignment) == 0)
            buffer.bytes.initializeMemory(as: UInt8.self, repeating: UInt8(buffers.count))
            buffers.append(buffer)
        }
        #expect(buffers.count == 8)
        // Buffers do not overlap: each still holds its own fill.
        for (index, buffer) in buffers.enumerated() { #expect(buffer.bytes.allSatisfy { $0 == UInt8(index) }) }
        // An arena-backed buffer works for device I/O.
        let device = try MallocDevice(name: "m", blockCount: 1024, blockSize: 512)
        try await device.makeChannel().write(buffers[3].vector(), offsetBlocks: 0)
        let back = IOBuffer(byteCount: 128 * 1024)
        try await device.makeChannel().read(back.vector(), offsetBlocks: 0)
        #expect(back.bytes.allSatisfy { $0 == 3 })
        for buffer in buffers { pool.release(buffer) }
    }
}
