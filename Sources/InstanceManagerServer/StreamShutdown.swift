// Ends long-lived response streams (watches, logs) when the instance manager shuts down: a graceful
// server shutdown waits for the calls under way, and a watch would otherwise never end. A stream
// opened after `close()` ends at once.

import InstanceManager
import Synchronization

public final class StreamShutdown: Sendable {
    private struct State {
        var closed = false
        var waiters: [Int: AsyncStream<Void>.Continuation] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether `close()` was called.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// A stream that finishes when `close()` is called (at once if it already was).
    public func signal() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let registered = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.waiters[id] = continuation
            return id
        }
        guard let registered else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.waiters.removeValue(forKey: registered) }
        }
        return stream
    }

    /// Ends every stream handed out and every one asked for later.
    public func close() {
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.finish() }
    }
}

/// Writes one `message` to `writer` per change any of `sources` announces (changes close together
/// may coalesce), until the caller is cancelled (the client went away) or `shutdown` closes.
func forwardChanges<Message: Sendable>(
    from sources: [ChangeBroadcaster], until shutdown: StreamShutdown, message: Message,
    write: (Message) async throws -> Void
) async throws {
    let (merged, mergedInput) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let subscriptions = sources.map { $0.subscribe() }
    let stop = shutdown.signal()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for subscription in subscriptions {
            group.addTask {
                for await _ in subscription { mergedInput.yield() }
                mergedInput.finish()
            }
        }
        group.addTask {
            for await _ in stop {}
            mergedInput.finish()
        }
        for await _ in merged {
            try await write(message)
        }
        group.cancelAll()
    }
}
