// A websocket stream of one collection: `/v1/ws/<name>` (or `/v1/ws/<period>/<name>`) sends the
// whole collection, in the same envelope as `GET /v1/<name>`, when the client connects and then
// whenever a change to one of `kinds` changes it. A route group serves one by listing it in its
// `streams`; `APIStreamConnection` runs it for each client.

public import Foundation
public import ManagerModel

public struct APIStream: Sendable {
    /// The path name: `settings` serves `/v1/ws/settings`.
    public var name: String
    /// Where the changes come from.
    public var store: any ResourceStore
    /// The kinds whose changes make the collection be rendered again.
    public var kinds: [ResourceKind]
    /// The collection's JSON for links built from the connecting request's Host.
    public var render: @Sendable (APILinks) async throws(APIError) -> Data

    public init(
        name: String, store: any ResourceStore, kinds: [ResourceKind],
        render: @escaping @Sendable (APILinks) async throws(APIError) -> Data
    ) {
        self.name = name
        self.store = store
        self.kinds = kinds
        self.render = render
    }

    /// A stream of the collection `collection(links)` returns, encoded as the API encodes answers.
    public init<Collection: Encodable & Sendable>(
        name: String, store: any ResourceStore, kinds: [ResourceKind],
        collection: @escaping @Sendable (APILinks) async throws(APIError) -> Collection
    ) {
        self.init(name: name, store: store, kinds: kinds) { links throws(APIError) in
            let value = try await collection(links)
            do {
                return try APIResponse.encode(value)
            } catch {
                throw APIError.internalError("the \(name) collection cannot be encoded: \(error)")
            }
        }
    }
}
