// /v1/nodes: the nodes the node controllers registered; /v1/ws/nodes streams them.
//
// `GET /v1/nodes[/<name>]`; `PUT /v1/nodes/<name>` replaces `allowScheduling`,
// `evictionRequested`, `tags` and `instanceManagerCPURequest` (a field left out becomes its zero
// value, as Longhorn's API does); `POST /v1/nodes/<name>?action=diskUpdate` with
// `{"disks":{<name>:<disk>}}` replaces the whole disk map. Both check the change
// (NodeChangeValidation; 409 while the node's disk status has not caught up with its spec) and
// write the spec with compare-and-swap on the version read, trying a lost race again on the new
// version; the node's status is the node controller's. A node's `address` is its instance
// managers' `status.ip`.
//
// Every request reads the store; the documents it read are decoded once per version
// (`DecodedDocumentCache`), and a node's answer is encoded once per version, address and origin
// (`RenderedResourceCache`).

import Foundation
public import Hummingbird
public import ManagerModel

public struct NodeRoutes: APIRouteGroup {
    let store: any ResourceStore
    private let nodes = DecodedDocumentCache<Node>()
    private let instanceManagers = DecodedDocumentCache<InstanceManager>()
    private let renderedNodes = RenderedResourceCache<NodeRenderInputs>()

    public init(store: any ResourceStore) { self.store = store }

    /// What a node's answer shows besides the node itself.
    private struct NodeRenderInputs: Hashable, Sendable {
        var version: Int64
        var address: String
        var origin: String
    }

    public var schemas: [APISchema] {
        [NodeFields.schema, NodeFields.diskUpdateInputSchema, NodeFields.diskSpecSchema, NodeFields.diskInfoSchema]
    }

    public func addRoutes(to router: Router<BasicRequestContext>, links: @escaping @Sendable (Request) -> APILinks) {
        router.get("/v1/nodes") { request, _ in
            try APIResponse.json(try await collection(links: links(request)))
        }
        router.get("/v1/nodes/:name") { request, context in
            let name = try Self.name(context)
            let (node, version, _) = try await read(name)
            let address = try await nodeAddresses()[node.metadata.name] ?? ""
            let links = links(request)
            let body = try renderedNodes.body(
                name: name, inputs: NodeRenderInputs(version: version, address: address, origin: links.origin)
            ) { () throws(APIError) in resource(node, address: address, links: links) }
            return APIResponse.json(encoded: body)
        }
        router.put("/v1/nodes/:name") { request, context in
            let name = try Self.name(context)
            let body = try await APIRequestBody.decode(NodeUpdate.self, from: request)
            let tags = try NodeChangeValidation.tags(body.tags ?? [])
            let cpuRequest = body.instanceManagerCPURequest ?? 0
            guard cpuRequest >= 0 else {
                throw APIError.badRequest("instanceManagerCPURequest \(cpuRequest) is negative")
            }
            let node = try await modify(name) { (node: inout Node) throws(APIError) in
                try NodeChangeValidation.disksSynced(node)
                node.spec.allowScheduling = body.allowScheduling ?? false
                node.spec.evictionRequested = body.evictionRequested ?? false
                node.spec.tags = tags
                node.spec.instanceManagerCPURequest = cpuRequest
            }
            return try APIResponse.json(
                resource(node, address: try await nodeAddresses()[name] ?? "", links: links(request)))
        }
        router.post("/v1/nodes/:name") { request, context in
            let name = try Self.name(context)
            let action = request.uri.queryParameters.get("action") ?? ""
            guard action == "diskUpdate" else {
                throw APIError.badRequest("node action \"\(action)\" is not supported: the node's action is diskUpdate")
            }
            let body = try await APIRequestBody.decode(DiskUpdate.self, from: request)
            let v2Enabled = try await v2DataEngineEnabled()
            let node = try await modify(name) { (node: inout Node) throws(APIError) in
                try NodeChangeValidation.disksSynced(node)
                node.spec.disks = try NodeChangeValidation.disks(
                    body.disks ?? [:], replacing: node, v2DataEngineEnabled: v2Enabled)
            }
            return try APIResponse.json(
                resource(node, address: try await nodeAddresses()[name] ?? "", links: links(request)))
        }
    }

    /// The body of a node PUT.
    private struct NodeUpdate: Decodable {
        var allowScheduling: Bool?
        var evictionRequested: Bool?
        var tags: [String]?
        var instanceManagerCPURequest: Int?
    }

    /// The body of diskUpdate.
    private struct DiskUpdate: Decodable {
        var disks: [String: DiskSpec]?
    }

    private static func name(_ context: BasicRequestContext) throws(APIError) -> String {
        let name = context.parameters.get("name") ?? ""
        guard !name.isEmpty else { throw APIError.notFound("node \"\" not found") }
        return name
    }

    private func resource(_ node: Node, address: String, links: APILinks) -> APIResource<NodeFields> {
        APIResource(
            id: node.metadata.name, type: "node", pluralName: "nodes", actions: NodeFields.actions,
            fields: NodeFields(node, address: address), links: links)
    }

    private func read(_ name: String) async throws(APIError) -> (value: Node, version: Int64, labels: [String: String])
    {
        let stored: StoredResource?
        do {
            stored = try await store.get(.nodes, name: name)
        } catch {
            throw APIError(error)
        }
        guard let stored else { throw APIError.notFound("node \(name) not found") }
        return (try nodes.decode(stored), stored.resourceVersion, stored.labels)
    }

    /// Applies `change` to the stored node and writes it with compare-and-swap, again on the new
    /// version when another writer got there first.
    private func modify(_ name: String, _ change: (inout Node) throws(APIError) -> Void) async throws(APIError) -> Node
    {
        for _ in 0...ManagerRESTLimits.conflictRetries {
            let current = try await read(name)
            var node = current.value
            try change(&node)
            guard node != current.value else { return node }
            let document = try StoredDocuments.encode(node, name: name)
            do {
                _ = try await store.update(
                    .nodes, name: name, labels: current.labels, document: document, expectedVersion: current.version)
                return node
            } catch .conflict {
                continue
            } catch {
                throw APIError(error)
            }
        }
        throw APIError.conflict("node \(name) kept changing while it was being updated; try again")
    }

    private func v2DataEngineEnabled() async throws(APIError) -> Bool {
        let stored: StoredResource?
        do {
            stored = try await store.get(.settings, name: "v2-data-engine")
        } catch {
            throw APIError(error)
        }
        guard let stored else { return false }
        return try StoredDocuments.decode(Setting.self, stored).value == "true"
    }

    /// Node name → address: the `status.ip` of the node's instance managers (V1's first).
    /// `/v1/ws/nodes`: the nodes again on every change of a node or an instance manager (addresses).
    public var streams: [APIStream] {
        [
            APIStream(
                name: "nodes", store: store, kinds: [.nodes, .instanceManagers], collection: collection(links:))
        ]
    }

    /// Every node, in the collection envelope.
    private func collection(links: APILinks) async throws(APIError) -> APICollection<APIResource<NodeFields>> {
        let addresses = try await nodeAddresses()
        let nodes = try await StoredDocuments.list(Node.self, store: store, cache: self.nodes)
        return APICollection(
            resourceType: "node", selfURL: links.collection("nodes"),
            data: nodes.map { resource($0.value, address: addresses[$0.name] ?? "", links: links) })
    }

    private func nodeAddresses() async throws(APIError) -> [String: String] {
        let managers = try await StoredDocuments.list(InstanceManager.self, store: store, cache: instanceManagers)
        var addresses: [String: String] = [:]
        for manager in managers.sorted(by: { $0.value.spec.dataEngine.rawValue < $1.value.spec.dataEngine.rawValue })
        where !manager.value.status.ip.isEmpty && addresses[manager.value.spec.nodeID] == nil {
            addresses[manager.value.spec.nodeID] = manager.value.status.ip
        }
        return addresses
    }
}
