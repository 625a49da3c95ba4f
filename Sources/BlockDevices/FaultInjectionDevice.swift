// SPDK's error bdev: wraps a device and fails chosen I/Os, for tests of how upper layers react.

public import BlockCore
public import Foundation
import StorageKit
import Synchronization

public final class FaultInjectionDevice: BlockDevice, @unchecked Sendable {
    public let base: any BlockDevice
    public let name: String
    public let uuid: UUID
    public let claims = DeviceClaims()
    public let ioControl = DeviceIOControl()
    public let aliases: [String]
    public var productName: String { "Error disk" }
    public var blockSize: Int { base.blockSize }
    public var blockCount: UInt64 { base.blockCount }
    public var supportedIOTypes: IOTypes { base.supportedIOTypes }

    struct Rule {
        var types: IOTypes
        var remaining: Int?
        var probabilityPercent: Int
        var error: BlockError
    }

    private struct State {
        var rules: [Rule] = []
        var random: SeededRandom
        var injected = 0
    }

    private let state: Mutex<State>

    /// - Parameters:
    ///   - name: defaults to SPDK's `EE_<base name>`.
    ///   - seed: drives the probability rules, so a failing run can be replayed.
    public init(
        wrapping base: any BlockDevice, name: String? = nil, aliases: [String] = [], uuid: UUID = UUID(), seed: UInt64 = 1
    ) {
        self.base = base
        self.name = name ?? "EE_\(base.name)"
        self.aliases = aliases
        self.uuid = uuid
        self.state = Mutex(State(random: SeededRandom(seed: seed)))
    }

    /// Fails the next `count` I/Os of `types` with `error`.
    public func inject(_ types: IOTypes, count: Int, error: BlockError = BlockError(.ioError, "injected I/O error")) {
        state.withLock { $0.rules.append(Rule(types: types, remaining: count, probabilityPercent: 100, error: error)) }
    }

    /// Fails I/Os of `types` with `error`, each with the given probability, until `clear()`.
    public func inject(_ types: IOTypes, probabilityPercent: Int, error: BlockError = BlockError(.ioError, "injected I/O error")) {
        precondition((0...100).contains(probabilityPercent))
        state.withLock {
            $0.rules.append(Rule(types: types, remaining: nil, probabilityPercent: probabilityPercent, error: error))
        }
    }

    public func clear() { state.withLock { $0.rules.removeAll() } }

    /// How many I/Os were failed so far.
    public var injectedCount: Int { state.withLock { $0.injected } }

    func failure(for type: IOTypes) -> BlockError? {
        state.withLock { state in
            for index in state.rules.indices where state.rules[index].types.contains(type) {
                if let remaining = state.rules[index].remaining, remaining <= 0 { continue }
                let roll = Int(state.random.next() % 100)
                guard roll < state.rules[index].probabilityPercent else { continue }
                if state.rules[index].remaining != nil { state.rules[index].remaining! -= 1 }
                state.injected += 1
                return state.rules[index].error
            }
            return nil
        }
    }

    public func makeChannel() throws -> any IOChannel {
        FaultInjectionChannel(device: self, base: try base.makeChannel())
    }
}

final class FaultInjectionChannel: IOChannel {
    let device: FaultInjectionDevice
    let base: any IOChannel

    init(device: FaultInjectionDevice, base: any IOChannel) {
        self.device = device
        self.base = base
    }

    private func check(_ type: IOTypes) throws {
        if let error = device.failure(for: type) { throw error }
    }

    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        try check(.read)
        try await base.read(data, offsetBlocks: offsetBlocks)
    }

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        try check(.write)
        try await base.write(data, offsetBlocks: offsetBlocks, options: options)
    }

    nonisolated(nonsending) func flush() async throws {
        try check(.flush)
        try await base.flush()
    }

    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try check(.unmap)
        try await base.unmap(offsetBlocks: offsetBlocks, blockCount: blockCount)
    }

    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try check(.writeZeroes)
        try await base.writeZeroes(offsetBlocks: offsetBlocks, blockCount: blockCount)
    }
}
