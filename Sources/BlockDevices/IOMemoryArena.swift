// The data plane's budget of I/O buffer memory (spdk_tgt -s): one mapping, in 2 MiB hugepages
// when the machine has them reserved (fewer TLB misses, never swapped), in ordinary pages when it
// has not, with the reason said plainly. Buffers are carved from it into pools; nothing in it is
// allocated per I/O.

public import BlockCore
import Foundation
import Glibc

public final class IOMemoryArena: @unchecked Sendable {
    public static let hugePageSize = 2 * 1024 * 1024

    public let byteCount: Int
    /// True when the memory is backed by 2 MiB hugepages.
    public let usesHugePages: Bool
    /// Why hugepages are not used, when they are not.
    public let fallbackReason: String?
    let base: UnsafeMutableRawPointer
    private var carved = 0

    /// Maps `megabytes` MiB, rounded up to whole hugepages.
    /// - Throws: `.invalidArgument` for a size of 0, `.noSpace` when not even ordinary memory can be had.
    public init(megabytes: Int, hugePages: Bool) throws {
        guard megabytes > 0 else { throw BlockError(.invalidArgument, "memory size must be at least 1 MiB") }
        // Checked before the arithmetic: a size past what an address can count is refused, not a trap.
        guard megabytes <= (Int.max - Self.hugePageSize) >> 20 else {
            throw BlockError(.noMemory, "\(megabytes) MiB of I/O memory cannot be mapped")
        }
        let bytes = (megabytes * 1024 * 1024 + Self.hugePageSize - 1) / Self.hugePageSize * Self.hugePageSize
        var reason: String? = hugePages ? nil : "hugepages disabled (--no-huge)"
        var mapping: UnsafeMutableRawPointer?
        if hugePages {
            let huge = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0)
            if huge != MAP_FAILED {
                mapping = huge
            } else {
                reason = "hugepages unavailable: \(String(cString: strerror(errno))) (\(Self.hugePageReport()))"
            }
        }
        if mapping == nil {
            let plain = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard plain != MAP_FAILED, let plain else {
                throw BlockError(.noSpace, "cannot map \(bytes) bytes of I/O memory: \(String(cString: strerror(errno)))")
            }
            mapping = plain
        }
        base = mapping!
        byteCount = bytes
        usesHugePages = reason == nil
        fallbackReason = reason
    }

    deinit { munmap(base, byteCount) }

    /// What the kernel says about 2 MiB hugepages, for the fallback message.
    static func hugePageReport() -> String {
        guard let text = try? String(contentsOfFile: "/proc/sys/vm/nr_hugepages", encoding: .utf8) else {
            return "no hugepage support in the kernel"
        }
        let count = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return "vm.nr_hugepages is \(count); reserve some with sysctl vm.nr_hugepages=N"
    }

    /// A one-line description for the operator.
    public var summary: String {
        let megabytes = byteCount >> 20
        if usesHugePages { return "\(megabytes) MiB of I/O buffer memory in 2 MiB hugepages" }
        return "\(megabytes) MiB of I/O buffer memory in ordinary pages (\(fallbackReason ?? ""))"
    }

    /// Bytes not yet carved into pools.
    public var remainingBytes: Int { byteCount - carved }

    /// Carves `capacity` buffers of `bufferSize` bytes (page-aligned) into a pool.
    /// - Throws: `.noSpace` when the arena has no room left for them.
    public func makePool(bufferSize: Int, capacity: Int) throws -> IOBufferPool {
        let stride = (bufferSize + BlockLimits.bufferAlignment - 1) / BlockLimits.bufferAlignment * BlockLimits.bufferAlignment
        guard capacity > 0, stride * capacity <= remainingBytes else {
            throw BlockError(.noSpace, "the I/O memory budget has \(remainingBytes) bytes left; \(stride * capacity) are needed")
        }
        let buffers = (0..<capacity).map { index in
            IOBuffer(borrowing: UnsafeMutableRawBufferPointer(start: base + carved + index * stride, count: bufferSize), owner: self)
        }
        carved += stride * capacity
        return IOBufferPool(buffers: buffers)
    }
}
