// The manager's REST API: Longhorn's /v1 in the go-rancher envelope, assembled from route groups.
// It serves the API root (`GET /v1`: links to every collection), the schemas (`GET /v1/schemas`,
// `GET /v1/schemas/<id>`, 404 for an id it does not serve), each group's routes and each group's
// websocket streams under /v1/ws/ (`APIStreamServer`); every HTTP answer passes through
// `APIEnvelopeMiddleware`.

public import Hummingbird
import HummingbirdWebSocket
public import NIOCore

public struct ManagerAPI: Sendable {
    public struct Configuration: Sendable {
        /// The host used in links when a request has no Host header.
        public var fallbackHost: String
        /// When set, every request must carry `Authorization: Bearer <token>`.
        public var bearerToken: String?
        public init(fallbackHost: String = "localhost:9500", bearerToken: String? = nil) {
            self.fallbackHost = fallbackHost
            self.bearerToken = bearerToken
        }
    }

    public var groups: [any APIRouteGroup]
    public var configuration: Configuration

    public init(groups: [any APIRouteGroup], configuration: Configuration = Configuration()) {
        self.groups = groups
        self.configuration = configuration
    }

    /// Every schema served, built-in ones first, in id order.
    public var schemas: [APISchema] {
        APISchema.builtIn + groups.flatMap(\.schemas).sorted { $0.id < $1.id }
    }

    /// Every websocket stream served: the groups' streams in group order; of two with one name, the
    /// first.
    public var streams: [APIStream] { groups.flatMap(\.streams) }

    public func makeRouter() -> Router<BasicRequestContext> {
        makeRouter(streamServer: makeStreamServer())
    }

    private func makeStreamServer() -> APIStreamServer {
        APIStreamServer(
            streams: streams, bearerToken: configuration.bearerToken, fallbackHost: configuration.fallbackHost)
    }

    private func makeRouter(streamServer: APIStreamServer) -> Router<BasicRequestContext> {
        let fallbackHost = configuration.fallbackHost
        let links: @Sendable (Request) -> APILinks = { APILinks(request: $0, fallbackHost: fallbackHost) }
        let schemas = self.schemas
        let byID = Dictionary(schemas.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })

        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIEnvelopeMiddleware(bearerToken: configuration.bearerToken, links: links))
        router.get("/v1") { request, _ in
            try APIResponse.json(Self.root(schemas: schemas, links: links(request)))
        }
        router.get("/v1/schemas") { request, _ in
            let links = links(request)
            return try APIResponse.json(
                APICollection(
                    resourceType: "schema", selfURL: links.schemas, data: schemas.map { $0.resource(links: links) }))
        }
        router.get("/v1/schemas/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            guard let schema = byID[id] else { throw APIError.notFound("schema \(id) not found") }
            return try APIResponse.json(schema.resource(links: links(request)))
        }
        // A stream request that was not upgraded: say why.
        router.get("/v1/ws/**") { request, _ -> Response in throw streamServer.refusal(path: request.uri.path) }
        for group in groups {
            group.addRoutes(to: router, links: links)
        }
        return router
    }

    /// The API served on `host:port` (port 0: any free port; `onServerRunning` learns which).
    public func makeApplication(
        host: String, port: Int, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let streamServer = makeStreamServer()
        let webSocket = WebSocketServerConfiguration(
            maxFrameSize: ManagerRESTLimits.streamInboundFrameBytesMax,
            autoPing: .enabled(timePeriod: ManagerRESTLimits.streamPingPeriod))
        return Application(
            router: makeRouter(streamServer: streamServer),
            server: .http1WebSocketUpgrade(configuration: .init(ws: webSocket)) { request, _, _ in
                streamServer.shouldUpgrade(request)
            },
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "hornbill"),
            onServerRunning: onServerRunning)
    }

    /// `GET /v1`: the API version with a link to every collection that can be listed.
    private static func root(schemas: [APISchema], links: APILinks) -> APIResource<RootFields> {
        var urls = ["self": links.root, "schemas": links.schemas]
        for schema in schemas where schema.isListable {
            urls[schema.pluralName] = links.collection(schema.pluralName)
        }
        return APIResource(id: "v1", type: "apiVersion", links: urls, fields: RootFields())
    }
}

/// The API root's fields.
struct RootFields: Encodable, Sendable {
    var version = "v1"
}
