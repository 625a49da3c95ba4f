// A set of /v1 routes and the schemas they serve (settings, nodes, volumes, …). The server is
// assembled from groups registered by hand.

public import Hummingbird

public protocol APIRouteGroup: Sendable {
    /// The schemas of the resources these routes serve, published under /v1/schemas.
    var schemas: [APISchema] { get }
    /// Adds the routes. `links(request)` gives the URLs for the request's Host.
    func addRoutes(to router: Router<BasicRequestContext>, links: @escaping @Sendable (Request) -> APILinks)
}
