// /v1/instancemanagers: the instance managers the node controllers registered, read-only.
// An instance manager is `type:"instanceManager"` with its spec (`nodeID`, `image`, `managerType`,
// `dataEngine`) and status (`currentState`, `ip`, API versions, and the instances it runs as the
// instance manager controller last saw them: `instanceEngines`, `instanceReplicas` and, for older
// clients, both in `instances`; never null).

import Foundation
public import Hummingbird
public import ManagerModel

public struct InstanceManagerRoutes: APIRouteGroup {
    let store: any ResourceStore

    public init(store: any ResourceStore) { self.store = store }

    public var schemas: [APISchema] { [InstanceManagerFields.schema] }

    public func addRoutes(to router: Router<BasicRequestContext>, links: @escaping @Sendable (Request) -> APILinks) {
        router.get("/v1/instancemanagers") { request, _ in
            let links = links(request)
            let managers = try await StoredDocuments.list(InstanceManager.self, store: store)
            return try APIResponse.json(
                APICollection(
                    resourceType: "instanceManager", selfURL: links.collection("instanceManagers"),
                    data: managers.map { Self.resource($0.value, links: links) }))
        }
        router.get("/v1/instancemanagers/:name") { request, context in
            let manager = try await read(context.parameters.get("name") ?? "")
            return try APIResponse.json(Self.resource(manager, links: links(request)))
        }
    }

    private func read(_ name: String) async throws(APIError) -> InstanceManager {
        let stored: StoredResource?
        do {
            stored = try await store.get(.instanceManagers, name: name)
        } catch {
            throw APIError(error)
        }
        guard let stored else { throw APIError.notFound("instance manager \(name) not found") }
        return try StoredDocuments.decode(InstanceManager.self, stored)
    }

    private static func resource(_ manager: InstanceManager, links: APILinks) -> APIResource<InstanceManagerFields> {
        APIResource(
            id: manager.metadata.name, type: "instanceManager", pluralName: "instanceManagers",
            fields: InstanceManagerFields(manager), links: links)
    }
}

/// An instance manager's fields in its API resource.
struct InstanceManagerFields: Encodable, Sendable {
    var name: String
    var nodeID: String
    var image: String
    var managerType: String
    var dataEngine: String
    var currentState: String
    var ip: String
    var apiMinVersion: Int
    var apiVersion: Int
    var proxyApiMinVersion: Int
    var proxyApiVersion: Int
    var instanceEngines: [String: InstanceProcess]
    var instanceReplicas: [String: InstanceProcess]
    var instances: [String: InstanceProcess]

    init(_ manager: InstanceManager) {
        name = manager.metadata.name
        nodeID = manager.spec.nodeID
        image = manager.spec.image
        managerType = manager.spec.type.rawValue
        dataEngine = manager.spec.dataEngine.rawValue
        currentState = manager.status.currentState.rawValue
        ip = manager.status.ip
        apiMinVersion = manager.status.apiMinVersion
        apiVersion = manager.status.apiVersion
        proxyApiMinVersion = manager.status.proxyApiMinVersion
        proxyApiVersion = manager.status.proxyApiVersion
        instanceEngines = manager.status.instanceEngines
        instanceReplicas = manager.status.instanceReplicas
        instances = manager.status.instances
    }

    static let schema = APISchema(
        id: "instanceManager", pluralName: "instanceManagers", collectionMethods: ["GET"], resourceMethods: ["GET"],
        resourceFields: [
            "name": .init("string"), "nodeID": .init("string"), "image": .init("string"),
            "managerType": .init("string"), "dataEngine": .init("string"), "currentState": .init("string"),
            "ip": .init("string"), "apiMinVersion": .init("int"), "apiVersion": .init("int"),
            "proxyApiMinVersion": .init("int"), "proxyApiVersion": .init("int"),
            "instanceEngines": .init("map[json]"), "instanceReplicas": .init("map[json]"),
            "instances": .init("map[json]"),
        ])
}
