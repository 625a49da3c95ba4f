// Hot remove (SPDK's spdk_bdev_unregister with SPDK_BDEV_EVENT_REMOVE): a device that goes away —
// deleted by its owner, or lost (an NVMe controller given up) — is not refused because something
// sits on it. Instead everything stacked on it is told, and each stacked module lets go:
//
//   base device removed ──► lvstore on it unloads ──► each lvol removed ──► NBD export deleted
//                                                                      ├──► NVMe-oF namespace removed
//                                                                      └──► RAID1 leg failed
//
// Model: `hotRemove()` marks the device removing (no descriptor opens any more), then runs the
// removal handler of every descriptor open on it and returns when all have finished. A descriptor
// lists its route to the handler in the same step as it opens, so no open slips between the two;
// a module that opens before it exists (an lvstore loading, a RAID or namespace being made) opens
// with `.handlerFollows`, and a removal that starts before the module set its handler waits for
// it (or for the descriptor to close) and then runs it. So a removal racing a module's open
// either fails the open or reaches the module's handler, and returns after it; a handler
// closes its descriptor, and may remove devices of its own (an lvstore removes its lvols), so
// removal runs down the stack depth first and the caller of the bottom removal sees the whole
// stack gone. The device keeps serving I/O already sent to it until its owner tears it down, so
// stacked modules drain cleanly (an lvstore writes its clean-close metadata when the device still
// takes it, as SPDK's unload does). Nothing of this is on the I/O path: a stacked module stops
// sending I/O by its own state (an lvol marked gone fails new I/O; a RAID1 leg set without the
// leg; an export without connections).
//
// Failure model: a handler cannot fail; a module that cannot tear down cleanly (the device fails
// its writes) tears down uncleanly, and its data is recovered when the device comes back.

import Synchronization

extension DeviceClaims {
    /// Marks the device removing and runs the removal handler of every open descriptor, at once;
    /// returns when all have finished. Removing twice runs the handlers once.
    public func hotRemove() async {
        let routes = inner.withLock { inner -> [RemovalRoute] in
            guard !inner.removing else { return [] }
            inner.removing = true
            defer { inner.removalRoutes.removeAll() }
            return Array(inner.removalRoutes.values)
        }
        await withTaskGroup(of: Void.self) { group in
            for route in routes { group.addTask { await route.deliver() } }
        }
    }

    /// Lets the device be opened again after a removal its owner gave up (an lvol whose delete
    /// failed after what sat on it let go).
    public func cancelRemoval() {
        inner.withLock { $0.removing = false }
    }
}

extension BlockDeviceRegistry {
    /// Hot-removes the device registered as `name` (SPDK's spdk_bdev_unregister): its name is freed,
    /// new opens fail, and everything stacked on it lets go before this returns.
    ///
    /// - Throws: `.notFound` when no device is registered under that name.
    @discardableResult
    public func remove(name: String) async throws -> any BlockDevice {
        let device = try unregister(name: name)
        await device.claims.hotRemove()
        return device
    }
}

/// How one open descriptor hears of its device's removal: its owner's handler, possibly set after
/// the open (`BlockDescriptor.Removal.handlerFollows`). The removal is delivered once: to the
/// handler when there is one, else when it is set; a descriptor closed first ends the wait.
final class RemovalRoute: Sendable {
    private enum State {
        case waitingForHandler
        case ready(BlockDescriptor.RemovalHandler)
        /// A removal waits for the handler.
        case removalWaiting(CheckedContinuation<BlockDescriptor.RemovalHandler?, Never>)
        /// Delivered, or the descriptor closed.
        case finished
    }

    private let state: Mutex<State>

    init(_ handler: BlockDescriptor.RemovalHandler?) {
        state = Mutex(handler.map { .ready($0) } ?? .waitingForHandler)
    }

    /// Runs the handler, waiting for it to be set if need be.
    func deliver() async {
        let handler = await withCheckedContinuation { (continuation: CheckedContinuation<BlockDescriptor.RemovalHandler?, Never>) in
            state.withLock { state in
                switch state {
                case .ready(let handler):
                    state = .finished
                    continuation.resume(returning: handler)
                case .waitingForHandler:
                    state = .removalWaiting(continuation)
                case .removalWaiting, .finished:
                    continuation.resume(returning: nil)
                }
            }
        }
        await handler?()
    }

    func setHandler(_ handler: @escaping BlockDescriptor.RemovalHandler) {
        state.withLock { state in
            switch state {
            case .waitingForHandler, .ready:
                state = .ready(handler)
            case .removalWaiting(let continuation):
                state = .finished
                continuation.resume(returning: handler)
            case .finished:
                break
            }
        }
    }

    /// The descriptor closed: a removal waiting for the handler goes on without it.
    func descriptorClosed() {
        state.withLock { state in
            if case .removalWaiting(let continuation) = state { continuation.resume(returning: nil) }
            state = .finished
        }
    }
}
