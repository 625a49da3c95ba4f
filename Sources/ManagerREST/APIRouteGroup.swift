// A set of /v1 routes, the schemas they serve (settings, nodes, volumes, …) and the websocket
// streams of their collections. The server is assembled from groups registered by hand.

public import Hummingbird

public protocol APIRouteGroup: Sendable {
    /// The schemas of the resources these routes serve, published under /v1/schemas.
    var schemas: [APISchema] { get }
    /// Adds the routes. `links(request)` gives the URLs for the request's Host.
    func addRoutes(to router: Router<BasicRequestContext>, links: @escaping @Sendable (Request) -> APILinks)
    /// The websocket streams served under /v1/ws/ (none unless a group lists some).
    var streams: [APIStream] { get }
}

extension APIRouteGroup {
    public var streams: [APIStream] { [] }
}
