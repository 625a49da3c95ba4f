// The reconcile runtime every controller runs on.
//
// Model (level-triggered, like Kubernetes' controllers):
// - A reconciler names the keys it owns (`keys()`) and which keys a stored change concerns
//   (`keys(affectedBy:)`). A reconcile reads the current state of its key, compares it with what
//   should be, and takes the steps that are missing; each step is idempotent (done twice, the
//   second time changes nothing), so a reconcile cut short anywhere (a crash, a kill) is finished
//   by the next one.
// - Keys reach a work queue from a watch of the store (every change after the revision the loop
//   started at), from a periodic resync of every key (state outside the store: disks, processes),
//   from the reconciler's own watch of state outside the store that announces its changes (an
//   instance manager's instances; `watchOutside`) and from retries. A key is queued once however
//   often it is added, and never reconciled twice at once; one worker takes keys in turn, those
//   of a resync after all others.
// - A reconcile that throws is retried after a backoff that doubles from `retryDelayBase` up to
//   `retryDelayMax`; one that succeeds clears its key's failure count.
// - Status is written with compare-and-swap (`update` with the `resourceVersion` read): a lost race
//   throws `conflict` and the key is reconciled again on the new state.
// - If the watch fails (`compacted`: the loop fell behind the store's history, or the store
//   closed), the loop lists again: it takes the store's current revision, queues every key and
//   watches from there.
// The loop runs until its task is cancelled.

public import ManagerModel

/// What a controller reconciles.
public protocol Reconciler: Sendable {
    /// Every key the controller owns now (queued at start, at each resync and after a re-list).
    func keys() async throws -> [String]
    /// The keys a stored change concerns (none if the controller does not care).
    func keys(affectedBy event: ResourceEvent) -> [String]
    /// Brings `key` to what it should be. Throwing retries it after a backoff.
    func reconcile(_ key: String) async throws
    /// Runs until the task is cancelled, calling `add` with the keys whose state outside the store
    /// changed. The default watches nothing and returns at once.
    func watchOutside(_ add: @escaping @Sendable (String) async -> Void) async
}

extension Reconciler {
    public func watchOutside(_ add: @escaping @Sendable (String) async -> Void) async {}
}

/// Thrown by a reconcile that did all it could for now and must look again soon (a disk being
/// created): the key is queued again after `delay`, without counting as a failure.
public struct ReconcileRequeue: Error, Sendable, CustomStringConvertible {
    public var delay: Duration
    public var reason: String
    public init(after delay: Duration, _ reason: String) {
        self.delay = delay
        self.reason = reason
    }
    public var description: String { "requeued after \(delay): \(reason)" }
}

/// How often and how patiently a loop works.
public struct ReconcileOptions: Sendable {
    /// Every key is reconciled at least this often.
    public var resyncInterval: Duration
    /// The first retry's delay; doubled at each failure in a row.
    public var retryDelayBase: Duration
    /// The longest delay between retries.
    public var retryDelayMax: Duration

    public init(
        resyncInterval: Duration = .seconds(30), retryDelayBase: Duration = .milliseconds(100),
        retryDelayMax: Duration = .seconds(30)
    ) {
        self.resyncInterval = resyncInterval
        self.retryDelayBase = retryDelayBase
        self.retryDelayMax = retryDelayMax
    }

    /// The delay before retry number `failures` (1 for the first).
    func retryDelay(afterFailures failures: Int) -> Duration {
        var delay = retryDelayBase
        for _ in 1..<max(failures, 1) {
            delay = delay * 2
            if delay >= retryDelayMax { return retryDelayMax }
        }
        return min(delay, retryDelayMax)
    }
}

/// Runs one reconciler: watch, resync, work queue, retries.
public struct ReconcileLoop: Sendable {
    public let name: String
    let store: any ResourceStore
    let reconciler: any Reconciler
    let options: ReconcileOptions
    /// Called with each failed reconcile (key, error); for logs.
    let onFailure: @Sendable (String, any Error) -> Void

    public init(
        name: String, store: any ResourceStore, reconciler: any Reconciler, options: ReconcileOptions = .init(),
        onFailure: @escaping @Sendable (String, any Error) -> Void = { _, _ in }
    ) {
        self.name = name
        self.store = store
        self.reconciler = reconciler
        self.options = options
        self.onFailure = onFailure
    }

    /// Runs until the task is cancelled.
    public func run() async {
        let queue = WorkQueue()
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await watch(into: queue) }
                group.addTask { await resync(into: queue) }
                group.addTask { await reconciler.watchOutside { key in await queue.add(key) } }
                group.addTask { await work(from: queue) }
            }
        } onCancel: {
            Task { await queue.shutDown() }
        }
    }

    /// Queues every key the reconciler owns now; `inBackground` behind other keys (a resync).
    private func queueAll(_ queue: WorkQueue, inBackground: Bool = false) async {
        do {
            for key in try await reconciler.keys() { await queue.add(key, inBackground: inBackground) }
        } catch {
            // A list cut short because the loop is stopping is no failure.
            if Task.isCancelled { return }
            onFailure("(list)", error)
        }
    }

    private func watch(into queue: WorkQueue) async {
        while !Task.isCancelled {
            do {
                let revision = try await store.revision()
                await queueAll(queue)
                let events = try await store.watch(nil, selector: .everything, after: revision)
                for try await event in events {
                    for key in reconciler.keys(affectedBy: event) { await queue.add(key) }
                }
            } catch {
                if Task.isCancelled { return }
                onFailure("(watch)", error)
            }
            // The watch ended (compacted, or the store closed): list again after a pause.
            try? await Task.sleep(for: options.retryDelayBase)
        }
    }

    private func resync(into queue: WorkQueue) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: options.resyncInterval)
            } catch {
                return
            }
            await queueAll(queue, inBackground: true)
        }
    }

    private func work(from queue: WorkQueue) async {
        var failures: [String: Int] = [:]
        while let key = await queue.next() {
            do {
                try await reconciler.reconcile(key)
                failures[key] = nil
            } catch let requeue as ReconcileRequeue {
                failures[key] = nil
                queue.add(key, after: requeue.delay)
            } catch {
                if Task.isCancelled {
                    await queue.done(key)
                    return
                }
                let count = (failures[key] ?? 0) + 1
                failures[key] = count
                onFailure(key, error)
                queue.add(key, after: options.retryDelay(afterFailures: count))
            }
            await queue.done(key)
        }
    }
}
