// Following an instance manager's changes: InstanceService.InstanceWatch sends an empty message
// whenever one of its instances changes. Each message (`changed`), each time the stream opens
// (`opened`: changes made while it was closed) and each time an open stream ends or breaks
// (`closed`: the instance manager stopped or restarted) calls `onChange`; the stream is then
// opened again after `retryDelay`. The watch runs until its task is cancelled. It only says when
// to look: what changed is read with InstanceList. Changes that arrive while `onChange` still
// runs are folded into one call after it (`opened` or `closed`, the newest, over `changed`): a
// burst of changes costs one look, not one per message, however many instances the node runs.

import GRPCCore
import GRPCNIOTransportHTTP2Posix
import InstanceManagerAPI
import SwiftProtobuf
import Synchronization

enum InstanceManagerWatch {
    enum Change: Sendable, Equatable {
        /// The stream opened: anything may have changed while it was closed.
        case opened
        /// An instance changed.
        case changed
        /// The stream ended: the instance manager stopped, or restarted.
        case closed

        /// This change and `next` as one look: `opened` and `closed` (everything is looked at)
        /// win over `changed`, and the newer of them over the older.
        func followed(by next: Change) -> Change { next == .changed ? self : next }
    }

    static func run(
        _ address: InstanceManagerAddress, retryDelay: Duration,
        onChange: @escaping @Sendable (Change) async -> Void
    ) async {
        let pending = PendingChange()
        let (doorbell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let note: @Sendable (Change) -> Void = { change in
            pending.fold(change)
            ring.yield()
        }
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in doorbell {
                    guard let change = pending.take() else { continue }
                    await onChange(change)
                }
            }
            await follow(address, retryDelay: retryDelay, note: note)
            ring.finish()
        }
    }

    /// Reads the stream, reopening it after `retryDelay`, until cancelled; each change is noted.
    private static func follow(
        _ address: InstanceManagerAddress, retryDelay: Duration, note: @escaping @Sendable (Change) -> Void
    ) async {
        let options = watchOptions
        while !Task.isCancelled {
            do {
                try await GRPCConnection.withOwnConnection(host: address.host, port: address.instanceServicePort) { client in
                    try await Imrpc_InstanceService.Client(wrapping: client).instanceWatch(
                        Google_Protobuf_Empty(), options: options
                    ) { response in
                        note(.opened)
                        do {
                            for try await _ in response.messages { note(.changed) }
                        } catch {
                            // The stream broke: the instance manager stopped.
                        }
                        note(.closed)
                    }
                }
            } catch {
                // Not running, or gone: try again after the pause.
            }
            try? await Task.sleep(for: retryDelay)
        }
    }

    /// The change not yet passed on, the changes noted since folded into it (`Change.followed(by:)`).
    final class PendingChange: Sendable {
        private let change = Mutex<Change?>(nil)

        func fold(_ new: Change) {
            change.withLock { change in change = change.map { $0.followed(by: new) } ?? new }
        }

        func take() -> Change? {
            change.withLock { change in
                defer { change = nil }
                return change
            }
        }
    }

    /// No deadline: the stream stays open for as long as the instance manager runs.
    private static var watchOptions: CallOptions {
        var options = CallOptions.defaults
        options.waitForReady = false
        return options
    }
}
