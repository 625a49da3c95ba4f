// Waiting for a device to appear (SPDK's `bdev_get_bdevs` with a `timeout`, which opens the bdev
// asynchronously). A waiter is a continuation the registry keeps under a name; `register` resumes
// every waiter whose name is the new device's name or one of its aliases. Nothing polls: a waiter
// costs no CPU until the device comes, its deadline passes (one timer) or its task is cancelled
// (its client went away), and each of those ends it at once.
//
// Races: a waiter is installed first and the registry looked up after, while `register` inserts
// first and wakes after, so a device registered at any moment is either found by the look-up or
// wakes the waiter. Whoever takes a waiter out of the table resumes it, so it resumes once.

import Synchronization

final class DeviceWaiters: Sendable {
    private struct Waiter {
        var name: String
        var continuation: CheckedContinuation<(any BlockDevice)?, Never>
    }

    private struct State {
        var nextID: UInt64 = 0
        var waiting: [UInt64: Waiter] = [:]
    }

    private let state = Mutex(State())

    /// Waiters now (for tests and diagnostics).
    var count: Int { state.withLock { $0.waiting.count } }

    /// Resumes the waiters of `device`'s name and aliases with it.
    func deviceArrived(_ device: any BlockDevice) {
        let names = Set([device.name] + device.aliases)
        let woken = state.withLock { state in
            let ids = state.waiting.filter { names.contains($0.value.name) }.map(\.key)
            return ids.compactMap { state.waiting.removeValue(forKey: $0)?.continuation }
        }
        for continuation in woken { continuation.resume(returning: device) }
    }

    /// The device named `name` once `lookup` finds it, or nil when the task is cancelled.
    func wait(for name: String, lookup: @Sendable (String) -> (any BlockDevice)?) async -> (any BlockDevice)? {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<(any BlockDevice)?, Never>) in
                let cancelled = state.withLock { state in
                    // Checked under the lock that onCancel takes: a cancel that came before this
                    // found no waiter, so it is seen here instead.
                    if Task.isCancelled { return true }
                    state.waiting[id] = Waiter(name: name, continuation: continuation)
                    return false
                }
                if cancelled {
                    continuation.resume(returning: nil)
                } else if let device = lookup(name) {
                    resume(id, with: device)
                }
            }
        } onCancel: {
            resume(id, with: nil)
        }
    }

    private func resume(_ id: UInt64, with device: (any BlockDevice)?) {
        state.withLock { $0.waiting.removeValue(forKey: id) }?.continuation.resume(returning: device)
    }
}

extension BlockDeviceRegistry {
    /// The device with this name or alias, waiting up to `timeout` for it to be registered; nil
    /// when it did not come in time or the calling task was cancelled.
    public func device(named name: String, waitingUpTo timeout: Duration) async -> (any BlockDevice)? {
        if let device = lookup(name) { return device }
        return await withTaskGroup(of: (any BlockDevice)?.self) { group in
            group.addTask { [self] in await waiters.wait(for: name) { self.lookup($0) } }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Callers waiting in `device(named:waitingUpTo:)` now.
    public var waiterCount: Int { waiters.count }
}
