import Foundation
import HTTPTypes
import HummingbirdTesting
import ManagerModel
import ManagerREST
import ManagerStore
import NIOCore
import Testing

/// /v1/disktags and /v1/nodetags over nodes in the SQLite store.
@Suite struct TagRoutesTests {
    private func node(_ name: String, tags: [String], disks: [String: [String]]) throws -> Data {
        let spec = NodeSpec(
            name: name, disks: disks.mapValues { DiskSpec(path: "/var/lib/longhorn", tags: $0) }, tags: tags)
        return try JSONEncoder().encode(Node(metadata: ResourceMetadata(name: name), spec: spec))
    }

    @Test func tagsInUseAreListedOnceInNodeOrder() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hornbill-tags-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteResourceStore(directory: directory)
        defer { try? store.close() }
        let nodes = ResourceKind(rawValue: "nodes")
        _ = try await store.create(
            nodes, name: "node-b", labels: [:],
            document: node("node-b", tags: ["zone-b", "fast"], disks: ["d": ["nvme"]]))
        _ = try await store.create(
            nodes, name: "node-a", labels: [:],
            document: node("node-a", tags: ["fast"], disks: ["d2": ["ssd", "nvme"], "d1": ["hdd"]]))

        let api = ManagerAPI(groups: [TagRoutes(store: store)])
        try await api.makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            let disk = try JSONObject(
                Data(try await client.execute(uri: "/v1/disktags", method: .get).body.readableBytesView))
            #expect(disk.string("type") == "collection")
            #expect(disk.string("resourceType") == "tag")
            let diskTags = try #require(disk.objects("data"))
            #expect(diskTags.compactMap { $0.string("id") } == ["hdd", "ssd", "nvme"])
            #expect(diskTags.allSatisfy { $0.string("type") == "tag" && $0.string("tagType") == "disk" })
            #expect(diskTags.first?.string("name") == "hdd")
            #expect(diskTags.first?.object("links")?.string("self") == "http://localhost/v1/disktags")

            let node = try JSONObject(
                Data(try await client.execute(uri: "/v1/nodetags", method: .get).body.readableBytesView))
            let nodeTags = try #require(node.objects("data"))
            #expect(nodeTags.compactMap { $0.string("id") } == ["fast", "zone-b"])
            #expect(nodeTags.allSatisfy { $0.string("tagType") == "node" })
        }
    }

    @Test func noNodesMeansAnEmptyList() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hornbill-tags-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteResourceStore(directory: directory)
        defer { try? store.close() }
        let api = ManagerAPI(groups: [TagRoutes(store: store)])
        try await api.makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            for uri in ["/v1/disktags", "/v1/nodetags"] {
                let json = try JSONObject(Data(try await client.execute(uri: uri, method: .get).body.readableBytesView))
                #expect((json["data"] as? [Any])?.isEmpty == true)
            }
        }
    }
}
