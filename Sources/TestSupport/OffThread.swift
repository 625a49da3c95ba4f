import Foundation

/// Runs a blocking call (a poll on a test socket) on a thread of its own, so it never holds one of
/// the few threads that run every test's tasks.
public func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
