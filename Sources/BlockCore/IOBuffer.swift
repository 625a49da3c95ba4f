#if canImport(Glibc)
import Glibc
#endif

/// A page-aligned I/O buffer, suitable for O_DIRECT. Allocated once, reused through a pool.
public final class IOBuffer: @unchecked Sendable {
    public let bytes: UnsafeMutableRawBufferPointer
    /// The memory's owner when the buffer borrows it (an arena); nil when the buffer owns it.
    private let owner: AnyObject?

    /// A buffer over memory that `owner` keeps alive (e.g. a hugepage arena).
    public init(borrowing memory: UnsafeMutableRawBufferPointer, owner: AnyObject) {
        bytes = memory
        self.owner = owner
    }

    /// Zeroed memory of its own, given back when the buffer goes (`BufferMemory`: mapped from
    /// the kernel when large).
    public init(byteCount: Int, alignment: Int = BlockLimits.bufferAlignment) {
        owner = nil
        bytes = BufferMemory.allocate(byteCount: byteCount, alignment: alignment)
    }

    deinit { if owner == nil { BufferMemory.release(bytes) } }

    public var count: Int { bytes.count }

    /// The first `byteCount` bytes as an I/O vector.
    public func vector(byteCount: Int? = nil) -> IOVector {
        .single(UnsafeMutableRawBufferPointer(rebasing: bytes[0..<(byteCount ?? bytes.count)]))
    }
}

/// A fixed set of equal buffers (design/STYLE.md #7). `acquire` parks the caller while every buffer
/// is in use and resumes it when one is released, so in-flight memory never grows past the pool.
/// A pool belongs to one reactor and is not thread-safe.
public final class IOBufferPool {
    public let bufferSize: Int
    public let capacity: Int
    private var free: [IOBuffer]
    private var waiters: [UnsafeContinuation<IOBuffer, Never>] = []
    private var waiterHead = 0

    public init(bufferSize: Int, capacity: Int) {
        precondition(capacity > 0)
        self.bufferSize = bufferSize
        self.capacity = capacity
        free = (0..<capacity).map { _ in IOBuffer(byteCount: bufferSize) }
    }

    /// A pool of buffers made elsewhere (all of one size).
    public init(buffers: [IOBuffer]) {
        precondition(!buffers.isEmpty && buffers.allSatisfy { $0.count == buffers[0].count })
        bufferSize = buffers[0].count
        capacity = buffers.count
        free = buffers
    }

    public var available: Int { free.count }

    public func tryAcquire() -> IOBuffer? { free.popLast() }

    public func acquire() async -> IOBuffer {
        if let buffer = free.popLast() { return buffer }
        return await withUnsafeContinuation { waiters.append($0) }
    }

    public func release(_ buffer: IOBuffer) {
        precondition(buffer.count == bufferSize, "buffer returned to the wrong pool")
        if waiterHead < waiters.count {
            let waiter = waiters[waiterHead]
            waiterHead += 1
            if waiterHead == waiters.count {
                waiters.removeAll(keepingCapacity: true)
                waiterHead = 0
            }
            waiter.resume(returning: buffer)
        } else {
            precondition(free.count < capacity, "buffer released twice")
            free.append(buffer)
        }
    }
}
