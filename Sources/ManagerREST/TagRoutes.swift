// /v1/disktags and /v1/nodetags: every tag in use on a node's disks, or on the nodes, each once,
// in the order met going through the nodes by name (as Longhorn lists them). A tag is
// `{"id":<tag>,"type":"tag","name":<tag>,"tagType":"disk"|"node"}`, its self link the collection's.

import Foundation
public import Hummingbird
public import ManagerModel

public struct TagRoutes: APIRouteGroup {
    let store: any ResourceStore

    public init(store: any ResourceStore) { self.store = store }

    /// Tags are only listed through /v1/disktags and /v1/nodetags: there is no /v1/tags.
    public var schemas: [APISchema] {
        [
            APISchema(
                id: "tag", pluralName: "tags", collectionMethods: [], resourceMethods: [],
                resourceFields: ["name": .init("string"), "tagType": .init("string")])
        ]
    }

    static let nodeKind = ResourceKind.nodes

    public func addRoutes(to router: Router<BasicRequestContext>, links: @escaping @Sendable (Request) -> APILinks) {
        router.get("/v1/disktags") { request, _ in
            let tags = try await nodes().flatMap { node in
                node.spec.disks.keys.sorted().flatMap { node.spec.disks[$0]?.tags ?? [] }
            }
            return try APIResponse.json(
                Self.collection(tags, type: "disk", selfURL: links(request).collection("disktags")))
        }
        router.get("/v1/nodetags") { request, _ in
            let tags = try await nodes().flatMap(\.spec.tags)
            return try APIResponse.json(
                Self.collection(tags, type: "node", selfURL: links(request).collection("nodetags")))
        }
    }

    private struct TagFields: Encodable, Sendable {
        var name: String
        var tagType: String
    }

    private typealias TagCollection = APICollection<APIResource<TagFields>>

    private static func collection(_ tags: [String], type: String, selfURL: String) -> TagCollection {
        var seen: Set<String> = []
        let unique = tags.filter { seen.insert($0).inserted }
        return APICollection(
            resourceType: "tag", selfURL: selfURL,
            data: unique.map {
                APIResource(id: $0, type: "tag", links: ["self": selfURL], fields: TagFields(name: $0, tagType: type))
            })
    }

    /// Every node, by name.
    private func nodes() async throws(APIError) -> [Node] {
        let list: ResourceList
        do {
            list = try await store.list(Self.nodeKind, selector: .everything)
        } catch {
            throw APIError(error)
        }
        var nodes: [Node] = []
        for item in list.items.sorted(by: { $0.name < $1.name }) {
            do {
                nodes.append(try JSONDecoder().decode(Node.self, from: item.document))
            } catch {
                throw APIError.internalError("the stored node \(item.name) cannot be read: \(error)")
            }
        }
        return nodes
    }
}
