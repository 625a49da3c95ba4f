// /v1/ws/nodes from the stored nodes, in a minimal node rendering: `name`, the spec's
// `allowScheduling`, `evictionRequested`, `tags`, `instanceManagerCPURequest` and `disks` (each
// disk's spec), the status's `region`, `zone`, `autoEvicting` and `conditions` (a map keyed by
// type), the action `diskUpdate`.
//
// It stands until the node routes serve the stream themselves: a group listed before this one that
// streams `nodes` takes the name (`ManagerAPI.streams`, first wins), so this group is then dropped.

import Foundation
public import Hummingbird
public import ManagerModel

public struct StoredNodeStream: APIRouteGroup {
    let store: any ResourceStore

    public init(store: any ResourceStore) { self.store = store }

    public var schemas: [APISchema] { [] }

    public func addRoutes(
        to router: Router<BasicRequestContext>, links: @escaping @Sendable (Request) -> APILinks
    ) {}

    public var streams: [APIStream] {
        [APIStream(name: "nodes", store: store, kinds: [.nodes], collection: collection(links:))]
    }

    struct NodeFields: Encodable, Sendable {
        var name: String
        var allowScheduling: Bool
        var evictionRequested: Bool
        var tags: [String]
        var instanceManagerCPURequest: Int
        var disks: [String: DiskSpec]
        var region: String
        var zone: String
        var autoEvicting: Bool
        var conditions: [String: Condition]

        init(_ node: Node) {
            name = node.metadata.name
            allowScheduling = node.spec.allowScheduling
            evictionRequested = node.spec.evictionRequested
            tags = node.spec.tags
            instanceManagerCPURequest = node.spec.instanceManagerCPURequest
            disks = node.spec.disks
            region = node.status.region
            zone = node.status.zone
            autoEvicting = node.status.autoEvicting
            conditions = Dictionary(
                node.status.conditions.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Every stored node by name, in the collection envelope.
    func collection(links: APILinks) async throws(APIError) -> APICollection<APIResource<NodeFields>> {
        let list: ResourceList
        do {
            list = try await store.list(.nodes, selector: .everything)
        } catch {
            throw APIError(error)
        }
        var nodes: [APIResource<NodeFields>] = []
        for item in list.items.sorted(by: { $0.name < $1.name }) {
            let node: Node
            do {
                node = try JSONDecoder().decode(Node.self, from: item.document)
            } catch {
                throw APIError.internalError("the stored node \(item.name) cannot be read: \(error)")
            }
            nodes.append(
                APIResource(
                    id: item.name, type: "node", pluralName: "nodes", actions: ["diskUpdate"],
                    fields: NodeFields(node), links: links))
        }
        return APICollection(resourceType: "node", selfURL: links.collection("nodes"), data: nodes)
    }
}
