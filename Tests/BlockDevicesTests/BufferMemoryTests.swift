import BlockCore
import Glibc
import Testing

@Suite struct BufferMemoryTests {
    /// Whether every page of `memory` is mapped in this process (mincore fails with ENOMEM on an
    /// unmapped page).
    private func isMapped(_ memory: UnsafeMutableRawBufferPointer) -> Bool {
        var residency = [UInt8](repeating: 0, count: (memory.count + 4095) / 4096)
        return mincore(memory.baseAddress, memory.count, &residency) == 0
    }

    @Test(arguments: [512, 4096, BufferMemory.mappedThresholdBytes - 64, BufferMemory.mappedThresholdBytes, 1 << 20, 3 << 20 + 512])
    func buffersAreZeroedAndAligned(byteCount: Int) {
        for alignment in [64, 4096] {
            let memory = BufferMemory.allocate(byteCount: byteCount, alignment: alignment)
            #expect(memory.count == byteCount)
            #expect(UInt(bitPattern: memory.baseAddress) % UInt(alignment) == 0)
            #expect(memory.allSatisfy { $0 == 0 })
            memory.initializeMemory(as: UInt8.self, repeating: 0xA5)  // every byte is writable
            BufferMemory.release(memory)
        }
    }

    /// A large buffer given back leaves the process at once (a heap allocator could keep it), so
    /// connections that gave back what they grew under load do not keep the memory resident.
    @Test func largeBuffersGoBackToTheKernelWhenReleased() {
        let sizes = [BufferMemory.mappedThresholdBytes, 1 << 20, 16 << 20]
        for size in sizes {
            let memory = BufferMemory.allocate(byteCount: size, alignment: 64)
            memory.initializeMemory(as: UInt8.self, repeating: 1)
            #expect(isMapped(memory))
            BufferMemory.release(memory)
            #expect(!isMapped(memory), "\(size) bytes are still mapped after their release")
        }
        // An I/O buffer's memory goes with the buffer.
        var buffer: IOBuffer? = IOBuffer(byteCount: 1 << 20)
        let memory = buffer!.bytes
        #expect(isMapped(memory))
        buffer = nil
        #expect(!isMapped(memory))
    }
}
