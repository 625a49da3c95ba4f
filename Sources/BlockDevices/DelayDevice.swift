// SPDK's delay bdev: wraps a device and adds a fixed latency to reads and writes, for tests of
// timeouts and of queueing under slow legs.

public import BlockCore
public import Foundation
import Synchronization

public final class DelayDevice: BlockDevice, @unchecked Sendable {
    public let base: any BlockDevice
    public let name: String
    public let uuid: UUID
    public let claims = DeviceClaims()
    public let ioControl = DeviceIOControl()
    public let aliases: [String]
    public var productName: String { "delay" }
    public var blockSize: Int { base.blockSize }
    public var blockCount: UInt64 { base.blockCount }
    public var supportedIOTypes: IOTypes { base.supportedIOTypes }

    private let latencies: Mutex<(read: Duration, write: Duration)>

    public init(
        wrapping base: any BlockDevice, name: String, aliases: [String] = [], read: Duration, write: Duration,
        uuid: UUID = UUID()
    ) {
        self.base = base
        self.name = name
        self.aliases = aliases
        self.uuid = uuid
        self.latencies = Mutex((read, write))
    }

    /// Changes the added latencies (SPDK's bdev_delay_update_latency).
    public func setLatency(read: Duration, write: Duration) { latencies.withLock { $0 = (read, write) } }

    var readLatency: Duration { latencies.withLock { $0.read } }
    var writeLatency: Duration { latencies.withLock { $0.write } }

    public func makeChannel() throws -> any IOChannel { DelayChannel(device: self, base: try base.makeChannel()) }
}

final class DelayChannel: IOChannel {
    let device: DelayDevice
    let base: any IOChannel

    init(device: DelayDevice, base: any IOChannel) {
        self.device = device
        self.base = base
    }

    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        try await Task.sleep(for: device.readLatency)
        try await base.read(data, offsetBlocks: offsetBlocks)
    }

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        try await Task.sleep(for: device.writeLatency)
        try await base.write(data, offsetBlocks: offsetBlocks, options: options)
    }

    nonisolated(nonsending) func flush() async throws { try await base.flush() }

    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await base.unmap(offsetBlocks: offsetBlocks, blockCount: blockCount)
    }

    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await base.writeZeroes(offsetBlocks: offsetBlocks, blockCount: blockCount)
    }
}
