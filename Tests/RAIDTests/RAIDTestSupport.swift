import BlockCore
import BlockDevices
import Foundation
import RAID
import Synchronization

/// A reactor for the tests that share one channel between tasks (a channel is confined to one
/// thread).
let raidReactor: Reactor = {
    do { return try Reactor(name: "raid-tests") } catch { fatalError("cannot start the test reactor: \(error)") }
}()

/// A RAID1 array over malloc disks, each behind a fault injector so a test can fail its I/O.
/// `disks[i]` is the memory of leg `i`, readable directly to see what landed on it.
struct TestMirror {
    let disks: [MallocDevice]
    let legs: [FaultInjectionDevice]
    let raid: RAID1Device
    let events = EventLog()

    init(legs count: Int = 2, blockCount: UInt64 = 1024, blockSize: Int = 512, name: String = "raid0") throws {
        disks = try (0..<count).map { try MallocDevice(name: "Malloc\($0)", blockCount: blockCount, blockSize: blockSize) }
        legs = disks.map { FaultInjectionDevice(wrapping: $0) }
        raid = try RAID1Device(name: name, baseDevices: legs)
        raid.setEventHandler { [events] in events.append($0) }
    }

    var blockSize: Int { raid.blockSize }

    /// Reads `blocks` blocks of leg `index` straight from its disk, past the array.
    func onDisk(_ index: Int, block: UInt64, blocks: Int = 1) async throws -> [UInt8] {
        try await readBlocks(disks[index], block: block, blocks: blocks)
    }

    /// Read operations leg `index` served (counted by its descriptor's channel).
    func readsServed(by index: Int) -> UInt64 { legs[index].ioControl.statistics.snapshot[.read].operations }

    /// Write operations leg `index` took.
    func writesTaken(by index: Int) -> UInt64 { legs[index].ioControl.statistics.snapshot[.write].operations }
}

/// Events a RAID reported, in order.
final class EventLog: Sendable {
    private let list = Mutex<[RAID1Event]>([])

    func append(_ event: RAID1Event) { list.withLock { $0.append(event) } }
    var all: [RAID1Event] { list.withLock { $0 } }
}

/// True when nobody claims `device` or has it open for writing.
func isFree(_ device: any BlockDevice) -> Bool {
    device.claims.current.claimant == nil && device.claims.current.writers == 0
}

/// `blocks` blocks whose every byte is `value`.
func filled(_ value: UInt8, blocks: Int, blockSize: Int) -> [UInt8] {
    [UInt8](repeating: value, count: blocks * blockSize)
}

/// Writes `bytes` at `block` through `channel`.
func write(_ bytes: [UInt8], to channel: any IOChannel, at block: UInt64) async throws {
    let buffer = IOBuffer(byteCount: bytes.count)
    bytes.withUnsafeBytes { buffer.bytes.copyMemory(from: $0) }
    try await channel.write(buffer.vector(), offsetBlocks: block)
}

/// Reads `byteCount` bytes at `block` through `channel`.
func read(_ byteCount: Int, from channel: any IOChannel, at block: UInt64) async throws -> [UInt8] {
    let buffer = IOBuffer(byteCount: byteCount)
    try await channel.read(buffer.vector(), offsetBlocks: block)
    return Array(buffer.bytes)
}

/// Reads `blocks` blocks of `device` through a fresh channel.
func readBlocks(_ device: any BlockDevice, block: UInt64, blocks: Int = 1) async throws -> [UInt8] {
    try await read(blocks * device.blockSize, from: device.makeChannel(), at: block)
}

/// A device as its base, minus some I/O types (e.g. a disk without write-zeroes or unmap).
final class LimitedDevice: BlockDevice, @unchecked Sendable {
    let base: any BlockDevice
    let removed: IOTypes
    let claims = DeviceClaims()
    let ioControl = DeviceIOControl()
    var name: String { base.name }
    var aliases: [String] { [] }
    var uuid: UUID { base.uuid }
    var productName: String { "limited" }
    var blockSize: Int { base.blockSize }
    var blockCount: UInt64 { base.blockCount }
    var supportedIOTypes: IOTypes { base.supportedIOTypes.subtracting(removed) }

    init(_ base: any BlockDevice, without removed: IOTypes) {
        self.base = base
        self.removed = removed
    }

    func makeChannel() throws -> any IOChannel { LimitedChannel(base: try base.makeChannel(), removed: removed) }
}

final class LimitedChannel: IOChannel {
    let base: any IOChannel
    let removed: IOTypes

    init(base: any IOChannel, removed: IOTypes) {
        self.base = base
        self.removed = removed
    }

    private func check(_ type: IOTypes) throws {
        if removed.contains(type) { throw BlockError(.notSupported, "this device does not support \(type)") }
    }

    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        try check(.read)
        try await base.read(data, offsetBlocks: offsetBlocks)
    }

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        try check(.write)
        try await base.write(data, offsetBlocks: offsetBlocks, options: options)
    }

    nonisolated(nonsending) func flush() async throws { try await base.flush() }

    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try check(.unmap)
        try await base.unmap(offsetBlocks: offsetBlocks, blockCount: blockCount)
    }

    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try check(.writeZeroes)
        try await base.writeZeroes(offsetBlocks: offsetBlocks, blockCount: blockCount)
    }
}

/// Lets tasks confined to one reactor share a channel (which is not Sendable).
struct SharedOnReactor<Value>: @unchecked Sendable {
    let value: Value
}
