// A device for tests of what happens while I/O is in flight: a RAM disk whose reads and writes
// stop at a gate until the test opens it. The test can see how many are waiting, so "an I/O is
// in flight on this device now" is a fact it waits for, not a guess about timing.

public import BlockCore
public import BlockDevices
public import Foundation
import Synchronization

public final class GateDevice: BlockDevice, Sendable {
    public let base: MallocDevice
    public let name: String
    public let uuid = UUID()
    public let claims = DeviceClaims()
    public let ioControl = DeviceIOControl()
    public var aliases: [String] { [] }
    public var productName: String { "gate" }
    public var blockSize: Int { base.blockSize }
    public var blockCount: UInt64 { base.blockCount }
    public var supportedIOTypes: IOTypes { base.supportedIOTypes }

    private struct Gate {
        var isOpen = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let gate = Mutex(Gate())

    /// A device whose gate is closed.
    public init(name: String, blockCount: UInt64, blockSize: Int) throws {
        self.name = name
        base = try MallocDevice(name: "\(name)-base", blockCount: blockCount, blockSize: blockSize)
    }

    public func makeChannel() throws -> any IOChannel { GateChannel(device: self, base: try base.makeChannel()) }

    /// Reads and writes waiting at the gate now.
    public var waitingIOs: Int { gate.withLock { $0.waiting.count } }

    /// Waits until `count` I/Os wait at the gate, at most `seconds`; returns whether they do.
    public func waitForWaitingIOs(_ count: Int, seconds: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while waitingIOs < count {
            guard Date() < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Makes later reads and writes wait at the gate.
    public func closeGate() { gate.withLock { $0.isOpen = false } }

    /// Lets every waiting and later I/O through.
    public func openGate() {
        let waiting = gate.withLock { gate in
            gate.isOpen = true
            defer { gate.waiting.removeAll() }
            return gate.waiting
        }
        for waiter in waiting { waiter.resume() }
    }

    func pass() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            gate.withLock { gate in
                if gate.isOpen {
                    continuation.resume()
                } else {
                    gate.waiting.append(continuation)
                }
            }
        }
    }
}

final class GateChannel: IOChannel {
    let device: GateDevice
    let base: any IOChannel

    init(device: GateDevice, base: any IOChannel) {
        self.device = device
        self.base = base
    }

    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        await device.pass()
        try await base.read(data, offsetBlocks: offsetBlocks)
    }

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        await device.pass()
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
