// A disk with a volatile write cache whose power can be cut, for crash-consistency tests.
//
// Fault model (after FoundationDB's AsyncFileNonDurable and TigerBeetle's testing storage):
// - Reads always see the newest data (the cache).
// - A completed write, unmap or write-zeroes is volatile until a flush completes; a flush makes
//   every operation completed before it durable. A write with FUA is durable on completion (it
//   alone).
// - `powerCutAfter(operations:)` arms a cut: after that many further operations, the operation
//   that reaches the cut and every later one fail with `.ioError` and change nothing.
// - `afterPowerCut(seed:)` gives the disk as it is when power returns: the durable image plus,
//   for each volatile operation independently (seeded), nothing of it, all of it, or a random
//   subset of its blocks. Blocks are atomic: a block is never half old, half new. Volatile
//   operations are replayed in their original order, so a later write never loses to an earlier.
//
// The image is kept as a dictionary of written blocks over zeroes, so a 64 MiB disk with a few
// MiB written copies in microseconds.

public import BlockCore
public import Foundation
import StorageKit
import Synchronization

public final class CrashableDisk: BlockDevice, @unchecked Sendable {
    public let name: String
    public let uuid: UUID
    public let blockSize: Int
    public let blockCount: UInt64
    public let claims = DeviceClaims()
    public let ioControl = DeviceIOControl()
    public var aliases: [String] { [] }
    public var productName: String { "Crashable disk" }
    public var supportedIOTypes: IOTypes { [.read, .write, .unmap, .flush, .reset, .writeZeroes] }

    /// One volatile change: blocks from `start`, each new content or nil for zeroes.
    struct Change {
        var start: UInt64
        var blocks: [[UInt8]?]
    }

    struct State {
        var durable: [UInt64: [UInt8]] = [:]
        var cache: [UInt64: [UInt8]] = [:]
        var volatile: [Change] = []
        var operations = 0
        var flushes = 0
        var cutAt: Int?
        var cut = false
    }

    let state: Mutex<State>

    public init(name: String, blockCount: UInt64, blockSize: Int, uuid: UUID = UUID()) {
        precondition(blockSize >= 512 && blockSize % 512 == 0 && blockCount > 0)
        self.name = name
        self.uuid = uuid
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.state = Mutex(State())
    }

    private init(copying other: CrashableDisk, durable: [UInt64: [UInt8]]) {
        name = other.name
        uuid = other.uuid
        blockSize = other.blockSize
        blockCount = other.blockCount
        var fresh = State()
        fresh.durable = durable
        fresh.cache = durable
        state = Mutex(fresh)
    }

    /// Operations done so far (reads, writes, flushes, unmaps, write-zeroes).
    public var operationCount: Int { state.withLock { $0.operations } }
    public var flushCount: Int { state.withLock { $0.flushes } }
    /// Operations completed since the last flush, not yet durable.
    public var volatileOperationCount: Int { state.withLock { $0.volatile.count } }
    public var isPowerCut: Bool { state.withLock { $0.cut } }

    /// Cuts the power after `operations` further operations.
    public func powerCutAfter(operations: Int) {
        precondition(operations >= 0)
        state.withLock { $0.cutAt = $0.operations + operations }
    }

    public func cutPowerNow() { state.withLock { $0.cut = true } }

    /// The disk as found when power returns (see the fault model above).
    public func afterPowerCut(seed: UInt64) -> CrashableDisk {
        var random = SeededRandom(seed: seed)
        let (durable, volatile) = state.withLock { ($0.durable, $0.volatile) }
        var image = durable
        for change in volatile {
            let outcome = random.next() % 3  // 0: lost, 1: landed, 2: torn
            guard outcome != 0 else { continue }
            for (index, content) in change.blocks.enumerated() where outcome == 1 || random.next() % 2 == 0 {
                image[change.start + UInt64(index)] = content
            }
        }
        return CrashableDisk(copying: self, durable: image.filter { $0.value.contains { $0 != 0 } })
    }

    /// The disk as a clean shutdown would leave it: everything completed is there.
    public func cleanCopy() -> CrashableDisk {
        CrashableDisk(copying: self, durable: state.withLock { $0.cache })
    }

    public func makeChannel() throws -> any IOChannel { CrashableDiskChannel(disk: self) }

    /// Counts an operation; throws when the power is (or goes) out.
    func begin(_ what: String) throws {
        try state.withLock { state in
            if !state.cut, let cutAt = state.cutAt, state.operations >= cutAt { state.cut = true }
            guard !state.cut else {
                throw BlockError(.ioError, "\(what) on \(name): simulated power cut")
            }
            state.operations += 1
        }
    }

    func apply(_ change: Change, durableNow: Bool) {
        state.withLock { state in
            for (index, content) in change.blocks.enumerated() {
                let block = change.start + UInt64(index)
                state.cache[block] = content
                if durableNow { state.durable[block] = content }
            }
            if !durableNow { state.volatile.append(change) }
        }
    }

    func flushAll() {
        state.withLock { state in
            state.durable = state.cache
            state.volatile.removeAll()
            state.flushes += 1
        }
    }

    func read(block: UInt64) -> [UInt8]? { state.withLock { $0.cache[block] } }
}

final class CrashableDiskChannel: IOChannel {
    let disk: CrashableDisk

    init(disk: CrashableDisk) { self.disk = disk }

    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        let blocks = try disk.geometry.checkIO(offsetBlocks: offsetBlocks, byteCount: data.byteCount)
        try disk.begin("read")
        let size = disk.blockSize
        let content = disk.state.withLock { state in (0..<blocks).map { state.cache[offsetBlocks + $0] } }
        for (index, block) in content.enumerated() {
            if let block {
                block.withUnsafeBytes { data.copyIn(at: index * size, count: size, from: $0.baseAddress!) }
            } else {
                data.zero(from: index * size, count: size)
            }
        }
    }

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        let blocks = try disk.geometry.checkIO(offsetBlocks: offsetBlocks, byteCount: data.byteCount)
        try disk.begin("write")
        let size = disk.blockSize
        let content: [[UInt8]?] = (0..<Int(blocks)).map { index in
            var bytes = [UInt8](repeating: 0, count: size)
            bytes.withUnsafeMutableBytes { data.copyOut(from: index * size, count: size, into: $0.baseAddress!) }
            return bytes.contains { $0 != 0 } ? bytes : nil
        }
        disk.apply(.init(start: offsetBlocks, blocks: content), durableNow: options.contains(.forceUnitAccess))
    }

    nonisolated(nonsending) func flush() async throws {
        try disk.begin("flush")
        disk.flushAll()
    }

    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try disk.geometry.checkRange(offsetBlocks: offsetBlocks, blockCount: blockCount)
        try disk.begin("unmap")
        disk.apply(.init(start: offsetBlocks, blocks: Array(repeating: nil, count: Int(blockCount))), durableNow: false)
    }

    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try disk.geometry.checkRange(offsetBlocks: offsetBlocks, blockCount: blockCount)
        try disk.begin("write-zeroes")
        disk.apply(.init(start: offsetBlocks, blocks: Array(repeating: nil, count: Int(blockCount))), durableNow: false)
    }
}
