import Foundation
import HTTPTypes
import HummingbirdTesting
import ManagerModel
import ManagerREST
import ManagerStore
import NIOCore
import Testing

/// /v1/engineimages over nodes, engines and replicas in the SQLite store.
@Suite struct EngineImageRoutesTests {
    private func json(_ response: TestResponse) throws -> JSONObject {
        try JSONObject(Data(response.body.readableBytesView))
    }

    @Test func theOneDefaultImageIsDeployedOnEveryNodeAndCountsItsUsers() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hornbill-engine-images-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteResourceStore(directory: directory)
        defer { try? store.close() }
        for name in ["node-b", "node-a"] {
            _ = try await store.create(
                Node(metadata: ResourceMetadata(name: name), spec: NodeSpec(name: name)), name: name)
        }
        let image = InstanceManager.defaultImage
        _ = try await store.create(
            Engine(metadata: ResourceMetadata(name: "vol-e-0"), spec: EngineSpec(instance: InstanceSpec(image: image))),
            name: "vol-e-0")
        _ = try await store.create(
            Replica(
                metadata: ResourceMetadata(name: "vol-r-1"), spec: ReplicaSpec(instance: InstanceSpec(image: image))),
            name: "vol-r-1")
        _ = try await store.create(
            Replica(
                metadata: ResourceMetadata(name: "old-r-1"), spec: ReplicaSpec(instance: InstanceSpec(image: "other"))),
            name: "old-r-1")
        let created = Date(timeIntervalSince1970: 1_800_000_000)
        let routes = EngineImageRoutes(store: store, configuration: .init(ownerID: "node-a", created: created))
        let name = routes.name
        #expect(name.hasPrefix("ei-") && name.count == 11)
        #expect(name == EngineImageName.of(image: image) && name != EngineImageName.of(image: "other"))

        try await ManagerAPI(groups: [routes]).makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            let list = try json(try await client.execute(uri: "/v1/engineimages", method: .get))
            #expect(list.string("type") == "collection" && list.string("resourceType") == "engineImage")
            let images = try #require(list.objects("data"))
            #expect(images.count == 1)
            let listed = try #require(images.first)
            #expect(listed.string("id") == name && listed.string("type") == "engineImage")
            #expect(listed.object("links")?.string("self") == "http://localhost/v1/engineimages/\(name)")
            #expect(listed.string("name") == name && listed.string("image") == image)
            #expect(listed.bool("default") == true && listed.bool("incompatible") == false)
            #expect(listed.string("state") == "deployed" && listed.string("ownerID") == "node-a")
            #expect(listed.int("refCount") == 2, "the engine and the replica of this image, not the other")
            #expect(listed.string("created") == KubernetesTime.format(created))
            #expect(listed.object("nodeDeploymentMap")?.members as? [String: Bool] == ["node-a": true, "node-b": true])
            let ready = try #require(listed.objects("conditions")?.first)
            #expect(ready.string("type") == "ready" && ready.string("status") == "True")
            #expect(listed.int("cliAPIVersion") ?? 0 >= listed.int("cliAPIMinVersion") ?? 1)
            #expect(listed.int("controllerAPIVersion") ?? 0 >= listed.int("controllerAPIMinVersion") ?? 1)
            #expect(listed.int("dataFormatVersion") == 1 && listed.string("version") == "hornbill")

            let byID = try json(try await client.execute(uri: "/v1/engineimages/\(name)", method: .get))
            #expect(byID.string("id") == name && byID.int("refCount") == 2)

            let missing = try await client.execute(uri: "/v1/engineimages/ei-00000000", method: .get)
            #expect(missing.status == .notFound)
            #expect(try json(missing).string("message") == "engine image ei-00000000 not found")

            let schema = try json(try await client.execute(uri: "/v1/schemas/engineImage", method: .get))
            #expect(schema.string("pluralName") == "engineImages")
            #expect(schema.object("links")?.string("collection") == "http://localhost/v1/engineimages")
        }
    }
}
