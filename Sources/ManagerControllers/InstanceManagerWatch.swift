// Following an instance manager's changes: InstanceService.InstanceWatch sends an empty message
// whenever one of its instances changes. Each message (`changed`), each time the stream opens
// (`opened`: changes made while it was closed) and each time an open stream ends or breaks
// (`closed`: the instance manager stopped or restarted) calls `onChange`; the stream is then
// opened again after `retryDelay`. The watch runs until its task is cancelled. It only says when
// to look: what changed is read with InstanceList.

import GRPCCore
import GRPCNIOTransportHTTP2Posix
import InstanceManagerAPI
import SwiftProtobuf

enum InstanceManagerWatch {
    enum Change: Sendable, Equatable {
        /// The stream opened: anything may have changed while it was closed.
        case opened
        /// An instance changed.
        case changed
        /// The stream ended: the instance manager stopped, or restarted.
        case closed
    }

    static func run(
        _ address: InstanceManagerAddress, retryDelay: Duration,
        onChange: @escaping @Sendable (Change) async -> Void
    ) async {
        let options = watchOptions
        while !Task.isCancelled {
            do {
                try await GRPCConnection.withOwnConnection(host: address.host, port: address.instanceServicePort) { client in
                    try await Imrpc_InstanceService.Client(wrapping: client).instanceWatch(
                        Google_Protobuf_Empty(), options: options
                    ) { response in
                        await onChange(.opened)
                        do {
                            for try await _ in response.messages { await onChange(.changed) }
                        } catch {
                            // The stream broke: the instance manager stopped.
                        }
                        await onChange(.closed)
                    }
                }
            } catch {
                // Not running, or gone: try again after the pause.
            }
            try? await Task.sleep(for: retryDelay)
        }
    }

    /// No deadline: the stream stays open for as long as the instance manager runs.
    private static var watchOptions: CallOptions {
        var options = CallOptions.defaults
        options.waitForReady = false
        return options
    }
}
