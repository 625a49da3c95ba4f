import Foundation

/// Runs a blocking call (a poll on a test socket) on a thread of its own, so it never holds one of
/// the few threads that run every test's tasks.
public func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

/// A blocking body (a scripted peer on a test socket) started at once on a thread of its own; its
/// result is awaited later. Unlike a task that calls `offThread`, it does not wait for a free
/// thread of the tasks' shared pool before it starts, so a peer is already serving when the code
/// under test connects, however busy the pool is.
public final class BackgroundThread<T: Sendable>: @unchecked Sendable {  // `result` is guarded by `condition`
    private let condition = NSCondition()
    private var result: Result<T, any Error>?

    public init(_ body: @escaping @Sendable () throws -> T) {
        Thread.detachNewThread { [self] in
            let outcome = Result { try body() }
            condition.lock()
            result = outcome
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The body's result, once it has returned.
    public func value() async throws -> T {
        try await offThread { [self] in
            condition.lock()
            defer { condition.unlock() }
            while true {
                if let result { return try result.get() }
                condition.wait()
            }
        }
    }
}
