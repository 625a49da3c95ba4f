// The go-rancher envelopes around what the API returns.
//
// A resource is its fields plus `id`, `type`, `links.self` and `actions`; a collection is
// `{"type":"collection","resourceType":…,"links":{"self":…},"actions":{},"data":[…]}` with `data`
// always a list. Fields are encoded into the same JSON object as the envelope's keys.

import Foundation
import Hummingbird

/// One resource in its envelope.
public struct APIResource<Fields: Encodable & Sendable>: Encodable, Sendable {
    public var id: String
    public var type: String
    public var links: [String: String]
    public var actions: [String: String]
    public var fields: Fields

    public init(id: String, type: String, links: [String: String], actions: [String: String] = [:], fields: Fields) {
        self.id = id
        self.type = type
        self.links = links
        self.actions = actions
        self.fields = fields
    }

    /// A resource of the collection `pluralName`: `links.self` is its URL, each action's URL is
    /// `<self>?action=<name>`.
    public init(id: String, type: String, pluralName: String, actions: [String] = [], fields: Fields, links: APILinks) {
        let selfURL = links.resource(pluralName, id: id)
        self.init(
            id: id, type: type, links: ["self": selfURL], actions: links.actions(actions, of: selfURL), fields: fields)
    }

    private enum EnvelopeKey: String, CodingKey { case id, type, links, actions }

    public func encode(to encoder: any Encoder) throws {
        try fields.encode(to: encoder)
        var container = encoder.container(keyedBy: EnvelopeKey.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(links, forKey: .links)
        try container.encode(actions, forKey: .actions)
    }
}

/// A list of resources in its envelope.
public struct APICollection<Item: Encodable & Sendable>: Encodable, Sendable {
    public var type = "collection"
    public var resourceType: String
    public var links: [String: String]
    public var actions: [String: String] = [:]
    public var data: [Item]

    public init(resourceType: String, selfURL: String, data: [Item]) {
        self.resourceType = resourceType
        self.links = ["self": selfURL]
        self.data = data
    }
}

/// JSON responses with go-rancher's headers.
enum APIResponse {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        json(encoded: ByteBuffer(bytes: try encode(value)), status: status)
    }

    /// An answer whose JSON is already encoded.
    static func json(encoded body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    /// The JSON of an answer: keys sorted, slashes unescaped (the same bytes for the same value).
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
