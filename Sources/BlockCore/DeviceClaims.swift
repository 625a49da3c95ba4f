import Synchronization

/// Claim bookkeeping of one device. A module (an lvstore, a RAID, an NVMe-oF namespace) takes an
/// exclusive-write claim so that nobody else writes underneath it.
public final class DeviceClaims: Sendable {
    public struct State: Sendable, Equatable {
        /// The module holding the exclusive-write claim, if any.
        public var claimant: String?
        /// How many writable descriptors are open.
        public var writers: Int
    }

    private let state = Mutex(State(claimant: nil, writers: 0))

    public init() {}

    public var current: State { state.withLock { $0 } }

    func openWriter(deviceName: String) throws {
        try state.withLock { state in
            if let claimant = state.claimant {
                throw BlockError(.claimed, "\(deviceName) is claimed by \(claimant) for exclusive write")
            }
            state.writers += 1
        }
    }

    func closeWriter() {
        state.withLock { state in
            precondition(state.writers > 0)
            state.writers -= 1
        }
    }

    func claim(module: String, deviceName: String, holdsWriter: Bool) throws {
        try state.withLock { state in
            if let claimant = state.claimant {
                throw BlockError(.claimed, "\(deviceName) is already claimed by \(claimant)")
            }
            let otherWriters = state.writers - (holdsWriter ? 1 : 0)
            guard otherWriters == 0 else {
                throw BlockError(.busy, "\(deviceName) has \(otherWriters) other writer(s) open; cannot claim it")
            }
            state.claimant = module
        }
    }

    func release(module: String) {
        state.withLock { state in
            if state.claimant == module { state.claimant = nil }
        }
    }
}

/// An open handle on a device (SPDK's bdev descriptor). A writable descriptor can take the
/// device's exclusive-write claim; closing the descriptor releases it.
public final class BlockDescriptor: @unchecked Sendable {
    public let device: any BlockDevice
    public let writable: Bool
    public private(set) var claimant: String?
    private var closed = false

    public init(_ device: any BlockDevice, writable: Bool) throws {
        if writable { try device.claims.openWriter(deviceName: device.name) }
        self.device = device
        self.writable = writable
    }

    /// Takes the exclusive-write claim for `module`.
    public func claim(module: String) throws {
        precondition(!closed, "claim on a closed descriptor")
        try device.claims.claim(module: module, deviceName: device.name, holdsWriter: writable)
        claimant = module
    }

    /// Opens a channel for the calling reactor: the device's own, counted in its statistics and
    /// held to its QoS limits.
    public func makeChannel() throws -> any IOChannel {
        guard !closed else { throw BlockError(.closed, "descriptor of \(device.name) is closed") }
        return MeteredChannel(base: try device.makeChannel(), control: device.ioControl, blockSize: device.blockSize)
    }

    public func close() {
        guard !closed else { return }
        closed = true
        if let claimant { device.claims.release(module: claimant) }
        if writable { device.claims.closeWriter() }
    }

    deinit { close() }
}
