/// Options of a write.
public struct WriteOptions: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Force unit access: the write is durable when it completes, as if followed by a flush.
    public static let forceUnitAccess = WriteOptions(rawValue: 1)
}

/// A per-reactor I/O queue onto a block device (design/STYLE.md #5). A channel is used only on the
/// reactor (or task) that created it; it is never shared between threads.
///
/// Offsets and lengths are in blocks of the device's `blockSize`; a vector's byte count must be a
/// whole number of blocks. Out-of-range or misaligned I/O throws `.outOfRange`/`.invalidArgument`
/// and touches nothing.
///
/// Durability: a write that completed is durable once a later `flush()` completes, or at once when
/// written with `.forceUnitAccess`.
///
/// The methods are `nonisolated(nonsending)`: they run on the caller's executor (the reactor), so
/// an I/O passing through several layers of channels makes no executor switch at each of them.
public protocol IOChannel: AnyObject {
    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws
    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws
    nonisolated(nonsending) func flush() async throws
    /// Discards blocks; they read back as zeroes afterwards.
    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws
    /// Writes zeroes over blocks.
    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws
}

extension IOChannel {
    @inlinable
    public nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64) async throws {
        try await write(data, offsetBlocks: offsetBlocks, options: [])
    }
}

/// Size and range checks shared by every device.
public struct BlockGeometry: Sendable, Equatable {
    public var blockSize: Int
    public var blockCount: UInt64

    public init(blockSize: Int, blockCount: UInt64) {
        self.blockSize = blockSize
        self.blockCount = blockCount
    }

    public var byteCount: UInt64 { blockCount * UInt64(blockSize) }

    /// Validates an I/O of `byteCount` bytes at `offsetBlocks`; returns its length in blocks.
    @inlinable
    public func checkIO(offsetBlocks: UInt64, byteCount: Int) throws -> UInt64 {
        guard byteCount > 0, byteCount % blockSize == 0 else {
            throw BlockError(
                .invalidArgument, "I/O length \(byteCount) is not a positive multiple of the block size \(blockSize)")
        }
        guard byteCount <= BlockLimits.maxIOBytes else {
            throw BlockError(.invalidArgument, "I/O length \(byteCount) exceeds the limit \(BlockLimits.maxIOBytes)")
        }
        let blocks = UInt64(byteCount / blockSize)
        try checkRange(offsetBlocks: offsetBlocks, blockCount: blocks)
        return blocks
    }

    /// Validates a range of blocks.
    @inlinable
    public func checkRange(offsetBlocks: UInt64, blockCount blocks: UInt64) throws {
        let (end, overflow) = offsetBlocks.addingReportingOverflow(blocks)
        guard blocks > 0, !overflow, end <= blockCount else {
            throw BlockError(
                .outOfRange,
                "blocks \(offsetBlocks)..<\(offsetBlocks &+ blocks) are outside the device's \(blockCount) blocks")
        }
    }
}
