// Change notifications for watch streams (InstanceWatch, ProcessWatch, the SPDK service's watch).
// A watcher is told *that* something changed, not what: it then lists, as Longhorn's clients do.
// Each subscription buffers at most one pending notification, so a watcher that stops reading
// costs one flag, never a growing queue, and still learns of the latest change when it resumes.

import Synchronization

public final class ChangeBroadcaster: Sendable {
    private let subscribers = Mutex<[Int: AsyncStream<Void>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    public init() {}

    /// A stream that yields once per change (changes in a burst may coalesce into one) until the
    /// caller stops iterating it or the broadcaster finishes.
    public func subscribe() -> AsyncStream<Void> {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// Tells every subscriber that something changed.
    public func notify() {
        let current = subscribers.withLock { Array($0.values) }
        for continuation in current { continuation.yield() }
    }

    /// Ends every subscription (the server is shutting down).
    public func finish() {
        let current = subscribers.withLock { subscribers in
            defer { subscribers.removeAll() }
            return Array(subscribers.values)
        }
        for continuation in current { continuation.finish() }
    }

    /// Open subscriptions.
    public var subscriberCount: Int { subscribers.withLock { $0.count } }
}
