// Hostile variations of valid bytes for fuzz and abuse tests: start from a frame a peer could
// send and flip, insert or delete bytes, or cut it short. Deterministic for a seeded generator,
// so a failure replays from its seed.

public import StorageKit

public enum ByteMutator {
    /// `count` random bytes.
    public static func random(count: Int, using random: inout SeededRandom) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { random.fill($0) }
        return bytes
    }

    /// `bytes` with 1...`maxEdits` edits: a byte flipped to a random value, a bit flipped, random
    /// bytes inserted, a run deleted, or a run duplicated.
    public static func mutate(_ bytes: [UInt8], maxEdits: Int = 4, using random: inout SeededRandom) -> [UInt8] {
        var out = bytes
        for _ in 0..<Int.random(in: 1...max(1, maxEdits), using: &random) {
            let position = out.isEmpty ? 0 : Int.random(in: 0..<out.count, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0 where !out.isEmpty:
                out[position] = UInt8.random(in: 0...255, using: &random)
            case 1 where !out.isEmpty:
                out[position] ^= 1 << UInt8.random(in: 0..<8, using: &random)
            case 2:
                out.insert(contentsOf: Self.random(count: Int.random(in: 1...16, using: &random), using: &random), at: position)
            case 3 where !out.isEmpty:
                out.removeSubrange(position..<min(out.count, position + Int.random(in: 1...16, using: &random)))
            case 4 where !out.isEmpty:
                let run = Array(out[position..<min(out.count, position + Int.random(in: 1...16, using: &random))])
                out.insert(contentsOf: run, at: position)
            default:
                out.append(UInt8.random(in: 0...255, using: &random))
            }
        }
        return out
    }

    /// `bytes` cut at a random point strictly inside (at least one byte kept, at least one lost).
    public static func truncate(_ bytes: [UInt8], using random: inout SeededRandom) -> [UInt8] {
        guard bytes.count > 1 else { return [] }
        return Array(bytes[0..<Int.random(in: 1..<bytes.count, using: &random)])
    }
}
