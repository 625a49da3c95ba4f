// One instance manager's instances, followed once for every instance handler of this node: the
// feed follows the InstanceWatch (InstanceManagerWatch, which folds a burst of changes into one)
// and lists the instances once per change; every subscriber (the Replica and the Engine handler)
// gets that list with the one before it, and works out from the two what concerns it. A
// subscriber that is still busy with an update when the next ones come gets them folded into one
// (the oldest list before, the newest now, `opened` or `closed` over `changed`), so a slow
// handler costs memory for one update, not for every change. A subscriber starts as after an
// `opened`: it has not seen a list yet.

import ManagerModel
import Synchronization

/// What the instance manager's instances were before a change and are after it.
struct InstanceUpdate: Sendable {
    var change: InstanceManagerWatch.Change
    /// nil when the stream closed or the list failed: anything may have changed.
    var now: InstanceManagerInstances?
    var before: InstanceManagerInstances?

    /// This update followed by `next`, as one.
    func followed(by next: InstanceUpdate) -> InstanceUpdate {
        InstanceUpdate(change: change.followed(by: next.change), now: next.now, before: before)
    }
}

final class InstanceFeed: Sendable {
    let address: InstanceManagerAddress
    let dataEngine: DataEngine

    private struct Subscriber {
        var pending: InstanceUpdate?
        var doorbell: AsyncStream<Void>.Continuation
    }

    private struct State {
        var last: InstanceManagerInstances?
        var subscribers: [Int: Subscriber] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    init(address: InstanceManagerAddress, dataEngine: DataEngine) {
        self.address = address
        self.dataEngine = dataEngine
    }

    /// How long a watch whose instance manager does not answer waits before it tries again.
    static let watchRetryDelay: Duration = .seconds(1)

    /// Follows the instance manager until the task is cancelled.
    func run() async {
        let client = InstanceServiceClient(address: address)
        let dataEngine = self.dataEngine
        await InstanceManagerWatch.run(address, retryDelay: Self.watchRetryDelay) { change in
            let now = change == .closed ? nil : try? await client.list(dataEngine: dataEngine)
            self.publish(change, now: now)
        }
    }

    private func publish(_ change: InstanceManagerWatch.Change, now: InstanceManagerInstances?) {
        state.withLock { state in
            let update = InstanceUpdate(change: change, now: now, before: state.last)
            state.last = now
            for id in state.subscribers.keys {
                guard var subscriber = state.subscribers[id] else { continue }
                subscriber.pending = subscriber.pending.map { $0.followed(by: update) } ?? update
                state.subscribers[id] = subscriber
                subscriber.doorbell.yield()
            }
        }
    }

    /// Calls `body` with every update from now on (folded while `body` runs), until the task is
    /// cancelled; the first is an `opened` with no list before it.
    func follow(_ body: (InstanceUpdate) async -> Void) async {
        let (doorbell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            let first = InstanceUpdate(change: .opened, now: state.last, before: nil)
            state.subscribers[id] = Subscriber(pending: first, doorbell: ring)
            return id
        }
        ring.yield()
        defer { _ = state.withLock { $0.subscribers.removeValue(forKey: id) } }
        for await _ in doorbell {
            let update = state.withLock { state -> InstanceUpdate? in
                defer { state.subscribers[id]?.pending = nil }
                return state.subscribers[id]?.pending
            }
            if let update { await body(update) }
        }
    }
}
