import Synchronization

/// Claim and removal bookkeeping of one device. A module (an lvstore, a RAID, an NVMe-oF
/// namespace) takes an exclusive-write claim so that nobody else writes underneath it; modules
/// that stack on the device leave a removal handler on their descriptor (DeviceRemoval.swift).
public final class DeviceClaims: Sendable {
    public struct State: Sendable, Equatable {
        /// The module holding the exclusive-write claim, if any.
        public var claimant: String?
        /// How many writable descriptors are open.
        public var writers: Int
    }

    struct Inner {
        var state = State(claimant: nil, writers: 0)
        /// Set once the device is being removed: no descriptor opens any more.
        var removing = false
        /// How each open descriptor that takes part in removal hears of it (DeviceRemoval.swift).
        var removalRoutes: [ObjectIdentifier: RemovalRoute] = [:]
    }

    let inner = Mutex(Inner())

    public init() {}

    public var current: State { inner.withLock { $0.state } }

    /// True once the device is being removed (hot remove): opens are refused from then on.
    public var isRemoving: Bool { inner.withLock { $0.removing } }

    /// Opens a descriptor; `route` (if any) is listed in the same step, so a removal either
    /// refuses the open or reaches the route: there is no moment between the two.
    func open(writable: Bool, deviceName: String, descriptor: ObjectIdentifier, route: RemovalRoute?) throws {
        try inner.withLock { inner in
            guard !inner.removing else { throw BlockError(.notFound, "\(deviceName) is being removed") }
            if writable {
                if let claimant = inner.state.claimant {
                    throw BlockError(.claimed, "\(deviceName) is claimed by \(claimant) for exclusive write")
                }
                inner.state.writers += 1
            }
            if let route { inner.removalRoutes[descriptor] = route }
        }
    }

    func close(writable: Bool, descriptor: ObjectIdentifier) {
        inner.withLock { inner in
            inner.removalRoutes[descriptor] = nil
            guard writable else { return }
            precondition(inner.state.writers > 0)
            inner.state.writers -= 1
        }
    }

    func claim(module: String, deviceName: String, holdsWriter: Bool) throws {
        try inner.withLock { inner in
            if let claimant = inner.state.claimant {
                throw BlockError(.claimed, "\(deviceName) is already claimed by \(claimant)")
            }
            let otherWriters = inner.state.writers - (holdsWriter ? 1 : 0)
            guard otherWriters == 0 else {
                throw BlockError(.busy, "\(deviceName) has \(otherWriters) other writer(s) open; cannot claim it")
            }
            inner.state.claimant = module
        }
    }

    func release(module: String) {
        inner.withLock { inner in
            if inner.state.claimant == module { inner.state.claimant = nil }
        }
    }
}

/// An open handle on a device (SPDK's bdev descriptor). A writable descriptor can take the
/// device's exclusive-write claim; closing the descriptor releases it. A module stacked on the
/// device gives a removal handler (SPDK's event callback), called when the device goes away.
public final class BlockDescriptor: @unchecked Sendable {
    /// What a descriptor's owner does when its device is removed (SPDK_BDEV_EVENT_REMOVE): stop
    /// using the device and close the descriptor. It may run on any thread.
    public typealias RemovalHandler = @Sendable () async -> Void

    /// How the owner of a new descriptor hears of its device's removal.
    public enum Removal: Sendable {
        /// Not at all (a short-lived open that nothing stacks on).
        case ignored
        /// This handler runs.
        case handler(RemovalHandler)
        /// The owner sets its handler with `onRemove` once it is ready to be torn down (a module
        /// that opens its device before the module exists). A removal that starts before then
        /// waits for the handler, or for the descriptor to close, and then runs it: a device
        /// removed while a module is still opening it reaches that module all the same.
        case handlerFollows
    }

    public let device: any BlockDevice
    public let writable: Bool
    public private(set) var claimant: String?
    private var closed = false
    private let route: RemovalRoute?

    /// Opens `device`. `removal` says who hears of the device's removal while this is open.
    ///
    /// - Throws: `.notFound` when the device is being removed; `.claimed` for a writable open of
    ///   a claimed device.
    public init(_ device: any BlockDevice, writable: Bool, removal: Removal) throws {
        switch removal {
        case .ignored: route = nil
        case .handler(let handler): route = RemovalRoute(handler)
        case .handlerFollows: route = RemovalRoute(nil)
        }
        self.device = device
        self.writable = writable
        do {
            try device.claims.open(writable: writable, deviceName: device.name, descriptor: ObjectIdentifier(self), route: route)
        } catch {
            closed = true  // nothing was opened: deinit must not close it
            throw error
        }
    }

    /// Opens `device`. `onRemove` runs when the device is removed while this descriptor is open.
    ///
    /// - Throws: `.notFound` when the device is being removed; `.claimed` for a writable open of
    ///   a claimed device.
    public convenience init(_ device: any BlockDevice, writable: Bool, onRemove: RemovalHandler? = nil) throws {
        try self.init(device, writable: writable, removal: onRemove.map { .handler($0) } ?? .ignored)
    }

    /// Sets the removal handler of a descriptor opened with `.handlerFollows` (or without one).
    /// When the device is being removed already, the handler runs now: by the removal waiting for
    /// it (`.handlerFollows`), or else at once on a task of its own.
    public func onRemove(_ handler: @escaping RemovalHandler) {
        if let route {
            route.setHandler(handler)
            return
        }
        let removing = device.claims.inner.withLock { inner in
            guard !inner.removing else { return true }
            inner.removalRoutes[ObjectIdentifier(self)] = RemovalRoute(handler)
            return false
        }
        if removing { Task { await handler() } }
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
        device.claims.close(writable: writable, descriptor: ObjectIdentifier(self))
        route?.descriptorClosed()
    }

    deinit { close() }
}
