// The URLs an API object carries. Every URL a client follows comes from the server, built from the
// Host header of the request it answers: `http://<Host>/v1/<plural>/<id>`, actions
// `<self>?action=<name>`.

public import Hummingbird

public struct APILinks: Sendable, Equatable {
    /// `http://<host>`.
    public var origin: String

    public init(host: String) { origin = "http://\(host)" }

    /// The links of a request: its Host header (its authority), or `fallbackHost` without one.
    public init(request: Request, fallbackHost: String) {
        let authority = request.head.authority ?? ""
        self.init(host: authority.isEmpty ? fallbackHost : authority)
    }

    public var root: String { "\(origin)/v1" }
    public var schemas: String { "\(root)/schemas" }
    public func schema(_ id: String) -> String { "\(schemas)/\(id)" }
    public func collection(_ pluralName: String) -> String { "\(root)/\(pluralName.lowercased())" }
    public func resource(_ pluralName: String, id: String) -> String { "\(collection(pluralName))/\(id)" }

    /// The action map of a resource: each name → `<self>?action=<name>`.
    public func actions(_ names: [String], of selfURL: String) -> [String: String] {
        Dictionary(uniqueKeysWithValues: names.map { ($0, "\(selfURL)?action=\($0)") })
    }
}
