// The websocket side of the API: which upgrade requests become streams, and the bound on how many
// run at once.
//
// An upgrade to `/v1/ws/[<period>/]<name>` of a served stream, with the bearer token when one is
// configured and a free slot, becomes a stream. Every other request, upgrade or not, goes on to the
// router, whose `/v1/ws/…` routes answer why in the error envelope (400 bad period or no upgrade,
// 401, 404 unknown stream, 503 no slot).

import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import Synchronization

final class APIStreamServer: Sendable {
    private let streams: [String: APIStream]
    private let bearerToken: String?
    private let fallbackHost: String
    private let open = Mutex(0)

    init(streams: [APIStream], bearerToken: String?, fallbackHost: String) {
        self.streams = Dictionary(streams.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.bearerToken = bearerToken
        self.fallbackHost = fallbackHost
    }

    typealias Handler = WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>

    /// The stream an upgrade request opens, or `dontUpgrade` to let the router answer it.
    func shouldUpgrade(_ request: HTTPRequest) -> ShouldUpgradeResult<Handler> {
        guard case .success(let path) = StreamPath.parse(request.path ?? ""), let stream = streams[path.name],
            APIEnvelopeMiddleware.isAuthorized(request.headerFields[.authorization], token: bearerToken),
            !isFull
        else { return .dontUpgrade }
        let authority = request.authority ?? ""
        let connection = APIStreamConnection(
            stream: stream, links: APILinks(host: authority.isEmpty ? fallbackHost : authority), period: path.period)
        return .upgrade([:]) { inbound, outbound, context in
            guard self.takeSlot() else {
                // 1013, try again later.
                try await outbound.close(.unknown(1013), reason: "too many streams are open")
                return
            }
            defer { self.releaseSlot() }
            do {
                try await connection.run(inbound: inbound, outbound: outbound, logger: context.logger)
            } catch is CancellationError {
            } catch {
                context.logger.error("stream \(stream.name) failed: \(error)")
                throw error
            }
        }
    }

    /// The answer to a request for a stream that did not become one.
    func refusal(path: String) -> APIError {
        switch StreamPath.parse(path) {
        case .failure(let error): return error
        case .success(let path) where streams[path.name] == nil:
            return .notFound(
                "no stream \(path.name.prefix(256)): streams are \(streams.keys.sorted().joined(separator: ", "))")
        case .success where isFull:
            return APIError(
                .serviceUnavailable,
                "too many streams are open (\(ManagerRESTLimits.streamConnectionsMax)); try again later")
        case .success(let path):
            return .badRequest("/v1/ws/\(path.name) is a websocket stream: connect with Upgrade: websocket")
        case nil:
            return .notFound("not found: no such resource or method")
        }
    }

    private var isFull: Bool { open.withLock { $0 >= ManagerRESTLimits.streamConnectionsMax } }

    private func takeSlot() -> Bool {
        open.withLock { count in
            guard count < ManagerRESTLimits.streamConnectionsMax else { return false }
            count += 1
            return true
        }
    }

    private func releaseSlot() { open.withLock { $0 -= 1 } }
}
