// Memory for buffers (I/O buffers, a connection's receive and output buffers). Large ones are
// mapped from the kernel and unmapped when released, so what a connection gives back leaves the
// process at once.
//
// From the heap it would not: glibc keeps freed memory in its arenas for reuse, and after a large
// block mapped on its own is freed it raises its threshold so later blocks of that size come from
// the arenas too. Connections that grew buffers under load and gave them back would then keep the
// process's resident memory at its peak, whatever bounds the connections themselves hold to.
// Large buffers are made rarely (slots and writers reuse theirs), so the system calls cost little.

#if canImport(Glibc)
import Glibc
#endif

public enum BufferMemory {
    /// Size from which a buffer is mapped: glibc's own starting threshold. Smaller buffers come
    /// from the heap, where they are cheaper and their slack is small.
    public static let mappedThresholdBytes = 128 * 1024

    /// `byteCount` zeroed bytes aligned to `alignment` (a power of two, at most a page). A mapped
    /// buffer's pages become resident as they are touched. Running out of memory is fatal, as for
    /// any allocation: callers bound what they ask for.
    public static func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawBufferPointer {
        precondition(byteCount > 0 && alignment > 0 && alignment & (alignment - 1) == 0 && alignment <= pageBytes)
        if byteCount >= mappedThresholdBytes {
            let pointer = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard pointer != MAP_FAILED, let pointer else {
                fatalError("out of memory mapping a buffer of \(byteCount) bytes: \(String(cString: strerror(errno)))")
            }
            return UnsafeMutableRawBufferPointer(start: pointer, count: byteCount)
        }
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, alignment, byteCount) == 0, let pointer else {
            fatalError("out of memory allocating a buffer of \(byteCount) bytes")
        }
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        return UnsafeMutableRawBufferPointer(start: pointer, count: byteCount)
    }

    /// Gives back memory from `allocate`.
    public static func release(_ memory: UnsafeMutableRawBufferPointer) {
        if memory.count >= mappedThresholdBytes {
            munmap(memory.baseAddress, memory.count)
        } else {
            free(memory.baseAddress)
        }
    }

    private static let pageBytes = Int(getpagesize())
}
