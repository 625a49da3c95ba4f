// A fixed-size log-linear latency histogram (HDR-style): 32 linear sub-buckets per power of two,
// so any recorded value is reported within ~3%. Recording is a few integer operations and never
// allocates, so it can sit on an I/O path.

public struct LatencyHistogram: Sendable {
    static let subBucketBits = 5
    static let subBuckets = 1 << subBucketBits
    static let bucketCount = 64 * subBuckets

    private var counts: [UInt64]
    public private(set) var count: UInt64 = 0
    public private(set) var sumNanoseconds: UInt64 = 0
    public private(set) var maxNanoseconds: UInt64 = 0

    public init() { counts = [UInt64](repeating: 0, count: Self.bucketCount) }

    @inline(__always)
    static func index(of value: UInt64) -> Int {
        if value < UInt64(subBuckets) { return Int(value) }
        let magnitude = 63 - value.leadingZeroBitCount  // >= subBucketBits
        let shift = magnitude - subBucketBits
        let sub = Int((value >> UInt64(shift)) & UInt64(subBuckets - 1))
        return (shift + 1) * subBuckets + sub
    }

    /// The smallest value that falls in bucket `index`.
    static func lowerBound(of index: Int) -> UInt64 {
        if index < subBuckets { return UInt64(index) }
        let shift = index / subBuckets - 1
        let sub = UInt64(index % subBuckets)
        return (UInt64(subBuckets) | sub) << UInt64(shift)
    }

    @inline(__always)
    public mutating func record(nanoseconds: UInt64) {
        counts[Self.index(of: nanoseconds)] &+= 1
        count &+= 1
        sumNanoseconds &+= nanoseconds
        if nanoseconds > maxNanoseconds { maxNanoseconds = nanoseconds }
    }

    public mutating func merge(_ other: LatencyHistogram) {
        for i in 0..<Self.bucketCount { counts[i] &+= other.counts[i] }
        count &+= other.count
        sumNanoseconds &+= other.sumNanoseconds
        maxNanoseconds = max(maxNanoseconds, other.maxNanoseconds)
    }

    public var meanNanoseconds: Double { count == 0 ? 0 : Double(sumNanoseconds) / Double(count) }

    /// The value at `quantile` (0...1): the midpoint of the bucket holding it.
    public func percentile(_ quantile: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = UInt64((quantile * Double(count)).rounded(.up))
        var seen: UInt64 = 0
        for index in 0..<Self.bucketCount {
            seen += counts[index]
            if seen >= max(rank, 1) {
                let low = Self.lowerBound(of: index)
                let high = index + 1 < Self.bucketCount ? Self.lowerBound(of: index + 1) : low
                return min((low + high) / 2, maxNanoseconds)
            }
        }
        return maxNanoseconds
    }
}
