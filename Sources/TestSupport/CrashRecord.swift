import StorageKit

/// The content of a block written as write number `sequence` by the kill-test worker: the
/// sequence and block number up front, then bytes derived from both, so a reader can tell which
/// write a block holds and whether it is intact.
public enum CrashRecord {
    public static func fill(_ bytes: UnsafeMutableRawBufferPointer, block: UInt64, sequence: UInt64) {
        var random = SeededRandom(seed: block &* 1_000_003 &+ sequence)
        random.fill(bytes)
        bytes.storeBytes(of: sequence.littleEndian, toByteOffset: 0, as: UInt64.self)
        bytes.storeBytes(of: block.littleEndian, toByteOffset: 8, as: UInt64.self)
    }
}
