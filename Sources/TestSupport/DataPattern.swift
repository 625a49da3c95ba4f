import BlockCore
import StorageKit

/// Deterministic block contents: any block's expected bytes can be recomputed from
/// (seed, block index, generation), so a check can name the first differing byte.
public struct DataPattern: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// Fills `buffer` with the pattern of blocks `startBlock…` of generation `generation`.
    public func fill(_ buffer: UnsafeMutableRawBufferPointer, startBlock: UInt64, blockSize: Int, generation: UInt64) {
        precondition(buffer.count % blockSize == 0)
        for index in 0..<(buffer.count / blockSize) {
            let block = UnsafeMutableRawBufferPointer(rebasing: buffer[(index * blockSize)..<((index + 1) * blockSize)])
            var random = SeededRandom(seed: seed ^ (startBlock + UInt64(index)) &* 0x9E37_79B9_7F4A_7C15 ^ generation &* 0xD1B5_4A32_D192_ED03)
            random.fill(block)
        }
    }

    /// The first byte offset where `buffer` differs from the pattern, or nil.
    public func firstMismatch(
        _ buffer: UnsafeRawBufferPointer, startBlock: UInt64, blockSize: Int, generation: UInt64
    ) -> Int? {
        let expected = IOBuffer(byteCount: buffer.count)
        fill(expected.bytes, startBlock: startBlock, blockSize: blockSize, generation: generation)
        for offset in 0..<buffer.count where buffer[offset] != expected.bytes[offset] { return offset }
        return nil
    }
}
