// The channel a descriptor hands out: the device's own channel, with statistics and QoS
// (SPDK's bdev layer between a descriptor and the module).

final class MeteredChannel: IOChannel {
    let base: any IOChannel
    let control: DeviceIOControl
    let blockSize: UInt64

    init(base: any IOChannel, control: DeviceIOControl, blockSize: Int) {
        self.base = base
        self.control = control
        self.blockSize = UInt64(blockSize)
    }

    @inline(__always)
    private nonisolated(nonsending) func metered(
        _ kind: IOStatistics.Kind, bytes: UInt64, _ body: nonisolated(nonsending) () async throws -> Void
    ) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        if kind != .unmap {
            let wait = control.delay(bytes: bytes, isRead: kind == .read, now: start)
            if wait > .zero { try await Task.sleep(for: wait) }
        }
        do {
            try await body()
        } catch {
            control.statistics.recordError()
            throw error
        }
        let elapsed = (clock.now - start).components
        control.statistics.record(
            kind, bytes: bytes,
            nanoseconds: UInt64(elapsed.seconds) * 1_000_000_000 + UInt64(elapsed.attoseconds / 1_000_000_000))
    }

    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        try await metered(.read, bytes: UInt64(data.byteCount)) { try await base.read(data, offsetBlocks: offsetBlocks) }
    }

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        try await metered(.write, bytes: UInt64(data.byteCount)) {
            try await base.write(data, offsetBlocks: offsetBlocks, options: options)
        }
    }

    nonisolated(nonsending) func flush() async throws { try await base.flush() }

    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await metered(.unmap, bytes: blockCount * blockSize) {
            try await base.unmap(offsetBlocks: offsetBlocks, blockCount: blockCount)
        }
    }

    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await base.writeZeroes(offsetBlocks: offsetBlocks, blockCount: blockCount)
    }
}
