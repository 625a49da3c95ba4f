// The in-process fan-out of committed changes to watchers. Writers call `publish` after their
// transaction committed, still inside the store's serialized write, so every watcher is offered
// changes in revision order. The hub holds watchers weakly: a watch whose consumer dropped its
// stream goes away with it (its entry is dropped at the next publish).

import ManagerModel
import Synchronization

final class WatchHub: Sendable {
    private struct WeakWatcher: Sendable {
        weak var watcher: StoreWatcher?
    }

    private struct State {
        var watchers: [ObjectIdentifier: WeakWatcher] = [:]
        var closed = false
    }

    private let state = Mutex(State())

    /// Adds a watcher; false once the store closed.
    func add(_ watcher: StoreWatcher) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.watchers[ObjectIdentifier(watcher)] = WeakWatcher(watcher: watcher)
            return true
        }
    }

    /// Offers a committed change to every watcher; never waits for one.
    func publish(_ event: ResourceEvent) {
        let watchers = state.withLock { state in
            let live = state.watchers.compactMapValues { $0.watcher == nil ? nil : $0 }
            state.watchers = live
            return live.values.compactMap(\.watcher)
        }
        for watcher in watchers { watcher.offer(event) }
    }

    /// Ends every watch (the store closes) and refuses new ones.
    func close() {
        let watchers = state.withLock { state in
            state.closed = true
            defer { state.watchers = [:] }
            return state.watchers.values.compactMap(\.watcher)
        }
        for watcher in watchers { watcher.close() }
    }

    /// How many watches are open.
    var count: Int {
        let watchers = state.withLock { $0.watchers.values.compactMap(\.watcher) }
        return watchers.count
    }
}
