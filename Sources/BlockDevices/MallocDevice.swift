public import BlockCore
public import Foundation
import Glibc
import Synchronization

/// A RAM-backed device (SPDK's malloc bdev): zero-filled at creation, lost at exit. Its I/O
/// completes inline on the caller's thread. Flush is a no-op: memory is as durable as it gets.
public final class MallocDevice: BlockDevice, @unchecked Sendable {
    public let name: String
    public let uuid: UUID
    public let blockSize: Int
    public let blockCount: UInt64
    public let claims = DeviceClaims()
    public let ioControl = DeviceIOControl()
    public var aliases: [String] { [] }
    public var productName: String { "Malloc disk" }
    public var supportedIOTypes: IOTypes { [.read, .write, .unmap, .flush, .reset, .writeZeroes] }

    let memory: UnsafeMutableRawBufferPointer

    /// Creations check what is available and take it one at a time, so two at once cannot both
    /// count the same free memory.
    private static let creation = Mutex(())

    /// - Throws: `.invalidArgument` for a block size that is not a multiple of 512 in
    ///   `BlockLimits.minBlockSize...maxBlockSize`, or a zero block count; `.noMemory` (ENOMEM, as
    ///   SPDK's malloc bdev answers) when the size overflows or the memory cannot be had, checked
    ///   before anything is allocated.
    public init(name: String, blockCount: UInt64, blockSize: Int, uuid: UUID = UUID()) throws {
        guard blockSize >= BlockLimits.minBlockSize, blockSize <= BlockLimits.maxBlockSize,
            blockSize % BlockLimits.minBlockSize == 0
        else {
            throw BlockError(
                .invalidArgument,
                "block size \(blockSize) must be a multiple of 512 between \(BlockLimits.minBlockSize) and \(BlockLimits.maxBlockSize)")
        }
        guard blockCount > 0 else { throw BlockError(.invalidArgument, "a malloc device needs at least one block") }
        let (bytes, overflow) = blockCount.multipliedReportingOverflow(by: UInt64(blockSize))
        guard !overflow, bytes <= UInt64(Int.max) else {
            throw BlockError(.noMemory, "\(blockCount) blocks of \(blockSize) bytes do not fit in memory")
        }
        self.memory = try Self.creation.withLock { _ in
            guard SystemMemory.canAllocate(bytes) else {
                throw BlockError(
                    .noMemory,
                    "\(bytes) bytes for malloc device \(name) are more than the \(SystemMemory.availableBytes()) bytes available")
            }
            return try Self.mapZeroed(byteCount: Int(bytes))
        }
        self.name = name
        self.uuid = uuid
        self.blockSize = blockSize
        self.blockCount = blockCount
    }

    deinit { munmap(memory.baseAddress, memory.count) }

    /// Anonymous memory, zero-filled by the kernel and populated now (the device's memory is
    /// reserved at creation, as SPDK's zeroed allocation is); a refusal is an error, not a trap.
    private static func mapZeroed(byteCount: Int) throws -> UnsafeMutableRawBufferPointer {
        let pointer = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)
        guard pointer != MAP_FAILED, let pointer else {
            throw BlockError(.noMemory, "cannot map \(byteCount) bytes: \(String(cString: strerror(errno)))")
        }
        return UnsafeMutableRawBufferPointer(start: pointer, count: byteCount)
    }

    public func makeChannel() throws -> any IOChannel { MallocChannel(device: self) }
}

final class MallocChannel: IOChannel {
    let device: MallocDevice
    let geometry: BlockGeometry

    init(device: MallocDevice) {
        self.device = device
        self.geometry = device.geometry
    }

    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        _ = try geometry.checkIO(offsetBlocks: offsetBlocks, byteCount: data.byteCount)
        let start = device.memory.baseAddress! + Int(offsetBlocks) * geometry.blockSize
        data.copyIn(at: 0, count: data.byteCount, from: start)
    }

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        _ = try geometry.checkIO(offsetBlocks: offsetBlocks, byteCount: data.byteCount)
        let start = device.memory.baseAddress! + Int(offsetBlocks) * geometry.blockSize
        data.copyOut(from: 0, count: data.byteCount, into: start)
    }

    nonisolated(nonsending) func flush() async throws {}

    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await writeZeroes(offsetBlocks: offsetBlocks, blockCount: blockCount)
    }

    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try geometry.checkRange(offsetBlocks: offsetBlocks, blockCount: blockCount)
        let start = device.memory.baseAddress! + Int(offsetBlocks) * geometry.blockSize
        start.initializeMemory(as: UInt8.self, repeating: 0, count: Int(blockCount) * geometry.blockSize)
    }
}
