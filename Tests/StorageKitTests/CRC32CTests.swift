import StorageKit
import Testing

@Suite struct CRC32CTests {
    @Test func knownVectors() {
        // RFC 3720 B.4 check value for "123456789".
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
    }

    @Test func continuationEqualsWhole() {
        var random = SeededRandom(seed: 7)
        let bytes = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &random) }
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = bytes[..<split].withUnsafeBytes { CRC32C.checksum($0) }
            let both = bytes[split...].withUnsafeBytes { CRC32C.checksum($0, continuing: first) }
            #expect(both == CRC32C.checksum(bytes))
        }
    }
}

@Suite struct BitsetTests {
    @Test func firstClearAndResize() {
        var bits = Bitset(count: 130)
        #expect(bits.firstClear() == 0)
        for i in 0..<129 { bits[i] = true }
        #expect(bits.firstClear() == 129)
        bits[129] = true
        #expect(bits.firstClear() == nil)
        bits[64] = false
        #expect(bits.firstClear(from: 3) == 64)
        #expect(bits.firstClear(from: 65) == nil)
        #expect(bits.setCount == 129)
        bits.resize(to: 200)
        #expect(bits.firstClear(from: 65) == 130)
        bits.resize(to: 60)
        #expect(bits.setCount == 60)
    }
}

@Suite struct LatencyHistogramTests {
    @Test func percentilesWithinBucketPrecision() {
        var histogram = LatencyHistogram()
        for value in 1...100_000 as ClosedRange<UInt64> { histogram.record(nanoseconds: value * 10) }
        #expect(histogram.count == 100_000)
        #expect(abs(histogram.meanNanoseconds - 500_005) < 1)
        for (quantile, exact) in [(0.5, 500_000.0), (0.99, 990_000.0), (0.999, 999_000.0)] {
            let reported = Double(histogram.percentile(quantile))
            #expect(abs(reported - exact) / exact < 0.04, "p\(quantile): \(reported) vs \(exact)")
        }
        #expect(histogram.percentile(1.0) == 1_000_000)
        var other = LatencyHistogram()
        other.record(nanoseconds: 5)
        histogram.merge(other)
        #expect(histogram.count == 100_001)
    }
}
