// A fixed-size bit array with first-clear-bit search, used for allocation maps.

/// A growable array of bits, stored as 64-bit words.
public struct Bitset: Sendable, Equatable {
    public private(set) var count: Int
    private(set) var words: [UInt64]

    /// `count` bits, all clear.
    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        self.words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    public subscript(index: Int) -> Bool {
        get {
            precondition(index >= 0 && index < count, "bit \(index) out of 0..<\(count)")
            return words[index >> 6] & (1 << UInt64(index & 63)) != 0
        }
        set {
            precondition(index >= 0 && index < count, "bit \(index) out of 0..<\(count)")
            if newValue {
                words[index >> 6] |= 1 << UInt64(index & 63)
            } else {
                words[index >> 6] &= ~(1 << UInt64(index & 63))
            }
        }
    }

    /// The number of set bits.
    public var setCount: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// The lowest clear bit at or after `start`, or nil when every bit from there is set.
    public func firstClear(from start: Int = 0) -> Int? {
        var wordIndex = start >> 6
        guard wordIndex < words.count else { return nil }
        var word = words[wordIndex] | ((1 << UInt64(start & 63)) &- 1)
        while true {
            if word != UInt64.max {
                let bit = wordIndex << 6 + (~word).trailingZeroBitCount
                return bit < count ? bit : nil
            }
            wordIndex += 1
            guard wordIndex < words.count else { return nil }
            word = words[wordIndex]
        }
    }

    /// Grows or shrinks to `newCount` bits; new bits are clear.
    public mutating func resize(to newCount: Int) {
        precondition(newCount >= 0)
        let wordCount = (newCount + 63) / 64
        if wordCount > words.count {
            words.append(contentsOf: repeatElement(0, count: wordCount - words.count))
        } else {
            words.removeLast(words.count - wordCount)
        }
        count = newCount
        if newCount & 63 != 0, let last = words.indices.last {
            words[last] &= (1 << UInt64(newCount & 63)) - 1
        }
    }
}
