// Streams that follow changes (watches, logs) wait for the next change with nothing to read from
// the client, so they also end when the RPC is cancelled: the client went away, or the server is
// shutting down.

import GRPCCore

/// Runs `body` until it returns or the RPC it serves is cancelled.
func untilRPCCancelled(_ body: @escaping @Sendable () async throws -> Void) async throws {
    let task = Task { try await body() }
    try await withRPCCancellationHandler {
        try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    } onCancelRPC: {
        task.cancel()
    }
}
