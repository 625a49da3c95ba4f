// SPDK's bdev-layer services for one device: I/O statistics (bdev_get_iostat) and QoS rate limits
// (bdev_set_qos_limit). I/O opened through a `BlockDescriptor` passes through a `MeteredChannel`
// that records into these and, when limits are set, waits for its share of the rate.
//
// Cost: counting is a few relaxed atomic adds and two clock reads per I/O; with no limit set the
// QoS check is one relaxed load. With limits, a token bucket under a mutex decides the wait.

import Synchronization

public final class DeviceIOControl: Sendable {
    public let statistics = IOStatistics()
    let limiter = Mutex(RateLimiter())
    let limited = Atomic<Bool>(false)

    public init() {}

    /// The current limits (0 = unlimited).
    public var limits: QoSLimits { limiter.withLock { $0.limits } }

    /// Sets the limits; zero everywhere removes them.
    public func setLimits(_ limits: QoSLimits) {
        limiter.withLock { $0.configure(limits) }
        limited.store(!limits.isUnlimited, ordering: .relaxed)
    }

    /// How long an I/O of `bytes` (a read or a write) must wait before it may start; reserves its
    /// share of the rate.
    func delay(bytes: UInt64, isRead: Bool, now: ContinuousClock.Instant) -> Duration {
        guard limited.load(ordering: .relaxed) else { return .zero }
        return limiter.withLock { $0.reserve(bytes: bytes, isRead: isRead, now: now) }
    }
}

/// SPDK's four QoS limits (bdev_set_qos_limit); 0 means unlimited.
public struct QoSLimits: Sendable, Equatable {
    public var readWriteIOsPerSecond: UInt64 = 0
    public var readWriteMegabytesPerSecond: UInt64 = 0
    public var readMegabytesPerSecond: UInt64 = 0
    public var writeMegabytesPerSecond: UInt64 = 0

    public init(
        readWriteIOsPerSecond: UInt64 = 0, readWriteMegabytesPerSecond: UInt64 = 0, readMegabytesPerSecond: UInt64 = 0,
        writeMegabytesPerSecond: UInt64 = 0
    ) {
        self.readWriteIOsPerSecond = readWriteIOsPerSecond
        self.readWriteMegabytesPerSecond = readWriteMegabytesPerSecond
        self.readMegabytesPerSecond = readMegabytesPerSecond
        self.writeMegabytesPerSecond = writeMegabytesPerSecond
    }

    public var isUnlimited: Bool {
        readWriteIOsPerSecond == 0 && readWriteMegabytesPerSecond == 0 && readMegabytesPerSecond == 0
            && writeMegabytesPerSecond == 0
    }
}

/// Token buckets: each limit is a clock of when its capacity is next free; an I/O starts when all
/// its buckets allow and pushes them forward by its cost.
struct RateLimiter {
    private(set) var limits = QoSLimits()
    private var ioFree = ContinuousClock.now
    private var bytesFree = ContinuousClock.now
    private var readBytesFree = ContinuousClock.now
    private var writeBytesFree = ContinuousClock.now

    mutating func configure(_ limits: QoSLimits) {
        self.limits = limits
        let now = ContinuousClock.now
        (ioFree, bytesFree, readBytesFree, writeBytesFree) = (now, now, now, now)
    }

    private static func cost(_ amount: UInt64, perSecond rate: UInt64) -> Duration {
        .nanoseconds(Int64(Double(amount) / Double(rate) * 1e9))
    }

    mutating func reserve(bytes: UInt64, isRead: Bool, now: ContinuousClock.Instant) -> Duration {
        // Idle time does not bank credit beyond a 10 ms burst.
        func start(_ free: ContinuousClock.Instant) -> ContinuousClock.Instant { max(free, now - .milliseconds(10)) }
        var begin = now
        if limits.readWriteIOsPerSecond > 0 { begin = max(begin, start(ioFree)) }
        if limits.readWriteMegabytesPerSecond > 0 { begin = max(begin, start(bytesFree)) }
        if isRead, limits.readMegabytesPerSecond > 0 { begin = max(begin, start(readBytesFree)) }
        if !isRead, limits.writeMegabytesPerSecond > 0 { begin = max(begin, start(writeBytesFree)) }
        if limits.readWriteIOsPerSecond > 0 {
            ioFree = max(start(ioFree), begin) + Self.cost(1, perSecond: limits.readWriteIOsPerSecond)
        }
        if limits.readWriteMegabytesPerSecond > 0 {
            bytesFree = max(start(bytesFree), begin) + Self.cost(bytes, perSecond: limits.readWriteMegabytesPerSecond << 20)
        }
        if isRead, limits.readMegabytesPerSecond > 0 {
            readBytesFree = max(start(readBytesFree), begin) + Self.cost(bytes, perSecond: limits.readMegabytesPerSecond << 20)
        }
        if !isRead, limits.writeMegabytesPerSecond > 0 {
            writeBytesFree = max(start(writeBytesFree), begin) + Self.cost(bytes, perSecond: limits.writeMegabytesPerSecond << 20)
        }
        return begin > now ? begin - now : .zero
    }
}

/// Counters of one device (bdev_get_iostat); latencies in nanoseconds.
public final class IOStatistics: Sendable {
    public enum Kind: Int, Sendable, CaseIterable { case read, write, unmap }

    final class Counters: Sendable {
        let bytes = Atomic<UInt64>(0)
        let operations = Atomic<UInt64>(0)
        let latency = Atomic<UInt64>(0)
        let maxLatency = Atomic<UInt64>(0)
        let minLatency = Atomic<UInt64>(.max)
    }

    private let counters = [Counters(), Counters(), Counters()]
    private let errorCount = Atomic<UInt64>(0)

    public init() {}

    @inline(__always)
    func record(_ kind: Kind, bytes count: UInt64, nanoseconds: UInt64) {
        let counter = counters[kind.rawValue]
        counter.bytes.wrappingAdd(count, ordering: .relaxed)
        counter.operations.wrappingAdd(1, ordering: .relaxed)
        counter.latency.wrappingAdd(nanoseconds, ordering: .relaxed)
        var seen = counter.maxLatency.load(ordering: .relaxed)
        while nanoseconds > seen {
            let (exchanged, original) = counter.maxLatency.compareExchange(
                expected: seen, desired: nanoseconds, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
        seen = counter.minLatency.load(ordering: .relaxed)
        while nanoseconds < seen {
            let (exchanged, original) = counter.minLatency.compareExchange(
                expected: seen, desired: nanoseconds, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    func recordError() { errorCount.wrappingAdd(1, ordering: .relaxed) }

    /// What `reset(_:)` clears (bdev_get_iostat's reset_mode).
    public enum Reset: String, Sendable {
        case all, maxmin, error, none
    }

    /// Clears counters after they were reported.
    public func reset(_ mode: Reset) {
        if mode == .all || mode == .error { errorCount.store(0, ordering: .relaxed) }
        for counter in counters {
            if mode == .all {
                counter.bytes.store(0, ordering: .relaxed)
                counter.operations.store(0, ordering: .relaxed)
                counter.latency.store(0, ordering: .relaxed)
            }
            if mode == .all || mode == .maxmin {
                counter.maxLatency.store(0, ordering: .relaxed)
                counter.minLatency.store(.max, ordering: .relaxed)
            }
        }
    }

    public struct Snapshot: Sendable, Equatable {
        public var bytes: [UInt64]
        public var operations: [UInt64]
        public var latencyNanoseconds: [UInt64]
        public var maxLatencyNanoseconds: [UInt64]
        /// 0 when no I/O of that kind happened.
        public var minLatencyNanoseconds: [UInt64]
        public var errors: UInt64

        public subscript(kind: Kind) -> (bytes: UInt64, operations: UInt64) {
            (bytes[kind.rawValue], operations[kind.rawValue])
        }
    }

    public var snapshot: Snapshot {
        Snapshot(
            bytes: counters.map { $0.bytes.load(ordering: .relaxed) },
            operations: counters.map { $0.operations.load(ordering: .relaxed) },
            latencyNanoseconds: counters.map { $0.latency.load(ordering: .relaxed) },
            maxLatencyNanoseconds: counters.map { $0.maxLatency.load(ordering: .relaxed) },
            minLatencyNanoseconds: counters.map {
                let value = $0.minLatency.load(ordering: .relaxed)
                return value == .max ? 0 : value
            },
            errors: errorCount.load(ordering: .relaxed))
    }
}
