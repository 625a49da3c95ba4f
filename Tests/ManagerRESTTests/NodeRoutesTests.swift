import Foundation
import HTTPTypes
import HummingbirdTesting
import ManagerModel
import ManagerREST
import ManagerStore
import NIOCore
import Testing

/// /v1/nodes and /v1/instancemanagers over resources in the SQLite store.
@Suite struct NodeRoutesTests {
    /// A store in a directory of its own, and the API over it.
    private final class Fixture: @unchecked Sendable {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hornbill-node-routes-\(UUID().uuidString)").path
        let store: SQLiteResourceStore

        init() throws { store = try SQLiteResourceStore(directory: directory) }

        deinit {
            try? store.close()
            try? FileManager.default.removeItem(atPath: directory)
        }

        func api() -> ManagerAPI {
            ManagerAPI(groups: [NodeRoutes(store: store), InstanceManagerRoutes(store: store), TagRoutes(store: store)])
        }

        /// node-1 with a scheduling disk `fast`, a disabled empty disk `empty` and a disabled disk
        /// `busy` holding replica `vol-r-1`.
        func addNode() async throws {
            var node = Node(
                metadata: ResourceMetadata(name: "node-1"),
                spec: NodeSpec(
                    name: "node-1",
                    disks: [
                        "fast": DiskSpec(path: "/data/fast", tags: ["ssd"]),
                        "empty": DiskSpec(path: "/data/empty", allowScheduling: false),
                        "busy": DiskSpec(path: "/data/busy", allowScheduling: false),
                    ], tags: ["zone-a"]))
            node.status.conditions = [Condition(type: "Ready", status: .isTrue)]
            node.status.diskStatus = [
                "fast": DiskStatus(
                    conditions: [Condition(type: "Ready", status: .isTrue)], storageMaximum: 100, diskUUID: "u-fast"),
                "empty": DiskStatus(diskUUID: "u-empty"),
                "busy": DiskStatus(
                    storageScheduled: 1 << 20, scheduledReplica: ["vol-r-1": 1 << 20], diskUUID: "u-busy"),
            ]
            _ = try await store.create(node, name: "node-1")
            var manager = InstanceManager(
                metadata: ResourceMetadata(name: "instance-manager-1"),
                spec: InstanceManagerSpec(image: "hornbill", nodeID: "node-1", dataEngine: .v1))
            manager.status.ip = "10.0.0.1"
            manager.status.currentState = .running
            _ = try await store.create(manager, name: "instance-manager-1")
        }

        func setV2(_ value: String) async throws {
            _ = try await store.create(
                Setting(metadata: ResourceMetadata(name: "v2-data-engine"), value: value), name: "v2-data-engine")
        }

        /// Does what the node controller does with the disk status: one entry per disk of the spec.
        func syncDiskStatus() async throws {
            let stored = try #require(try await store.get(Node.self, "node-1"))
            var node = stored.value
            node.status.diskStatus = node.spec.disks.keys.reduce(into: [:]) { status, name in
                status[name] = node.status.diskStatus[name] ?? DiskStatus(diskUUID: "u-\(name)")
            }
            _ = try await store.update(node, name: "node-1", expectedVersion: stored.resourceVersion)
        }

        func storedNode() async throws -> Node {
            try #require(try await store.get(Node.self, "node-1")).value
        }
    }

    private func json(_ response: TestResponse) throws -> JSONObject {
        try JSONObject(Data(response.body.readableBytesView))
    }

    private func diskUpdate(_ client: any TestClientProtocol, _ body: String) async throws -> TestResponse {
        try await client.execute(
            uri: "/v1/nodes/node-1?action=diskUpdate", method: .post, body: ByteBuffer(string: body))
    }

    /// The three disks as they are, with `changes` on top.
    private func disks(_ changes: [String: String?] = [:]) -> String {
        var disks: [String: String] = [
            "fast": #"{"path":"/data/fast","allowScheduling":true,"tags":["ssd"]}"#,
            "empty": #"{"path":"/data/empty","allowScheduling":false}"#,
            "busy": #"{"path":"/data/busy","allowScheduling":false}"#,
        ]
        for (name, disk) in changes { disks[name] = disk }
        return #"{"disks":{"#
            + disks.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
            + "}}"
    }

    @Test func nodesAreShownWithConditionMapsAndNeverNullMaps() async throws {
        let fixture = try Fixture()
        try await fixture.addNode()
        try await fixture.api().makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            let list = try json(try await client.execute(uri: "/v1/nodes", method: .get))
            #expect(list.string("type") == "collection" && list.string("resourceType") == "node")
            let node = try #require(list.objects("data")?.first)
            #expect(node.string("id") == "node-1" && node.string("type") == "node" && node.string("name") == "node-1")
            #expect(node.string("address") == "10.0.0.1")
            #expect(
                node.object("actions")?.string("diskUpdate") == "http://localhost/v1/nodes/node-1?action=diskUpdate")
            #expect(node.object("conditions")?.object("Ready")?.string("status") == "True")
            let fast = try #require(node.object("disks")?.object("fast"))
            #expect(fast.string("path") == "/data/fast" && fast.string("diskType") == "filesystem")
            #expect(fast.string("diskUUID") == "u-fast" && fast.int("storageMaximum") == 100)
            #expect(fast.object("conditions")?.object("Ready")?.string("status") == "True")
            let empty = try #require(node.object("disks")?.object("empty"))
            #expect(empty.object("conditions")?.members.isEmpty == true)
            #expect(empty.object("scheduledReplica")?.members.isEmpty == true)
            #expect(empty.object("scheduledBackingImage")?.members.isEmpty == true)
            #expect((empty["tags"] as? [Any])?.isEmpty == true)
            let busy = try #require(node.object("disks")?.object("busy"))
            #expect(busy.object("scheduledReplica")?.int("vol-r-1") == 1 << 20)

            let one = try await client.execute(uri: "/v1/nodes/node-1", method: .get)
            #expect(try one.status == .ok && json(one).string("name") == "node-1")
            let missing = try await client.execute(uri: "/v1/nodes/node-9", method: .get)
            #expect(missing.status == .notFound)

            let schema = try json(try await client.execute(uri: "/v1/schemas/node", method: .get))
            #expect(schema.object("resourceActions")?.object("diskUpdate")?.string("input") == "diskUpdateInput")
            #expect((schema["resourceMethods"] as? [String]) == ["GET", "PUT"])
            let input = try await client.execute(uri: "/v1/schemas/diskUpdateInput", method: .get)
            #expect(input.status == .ok)
        }
    }

    @Test func aNodeReadAgainShowsWhatTheStoreHoldsNow() async throws {
        let fixture = try Fixture()
        try await fixture.addNode()
        let store = fixture.store
        try await fixture.api().makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            func get() async throws -> (bytes: Data, json: JSONObject) {
                let response = try await client.execute(uri: "/v1/nodes/node-1", method: .get)
                #expect(response.status == .ok)
                let bytes = Data(response.body.readableBytesView)
                return (bytes, try JSONObject(bytes))
            }
            let first = try await get()
            #expect(first.json.string("address") == "10.0.0.1" && first.json.string("zone") == "")
            #expect(try await get().bytes == first.bytes, "an unchanged node is answered with the same bytes")

            // The node controller writes the node's status: the next read shows it.
            let node = try #require(try await store.get(Node.self, "node-1"))
            var changed = node.value
            changed.status.zone = "zone-b"
            _ = try await store.update(changed, name: "node-1", labels: node.labels, expectedVersion: node.resourceVersion)
            #expect(try await get().json.string("zone") == "zone-b")

            // Its instance manager has a new address: so has the node.
            let manager = try #require(try await store.get(InstanceManager.self, "instance-manager-1"))
            var moved = manager.value
            moved.status.ip = "10.0.0.2"
            _ = try await store.update(
                moved, name: "instance-manager-1", labels: manager.labels, expectedVersion: manager.resourceVersion)
            #expect(try await get().json.string("address") == "10.0.0.2")

            // Deleted and created again under its name: the new node, not the old one.
            _ = try await store.delete(Node.self, "node-1")
            #expect(try await client.execute(uri: "/v1/nodes/node-1", method: .get).status == .notFound)
            var recreated = changed
            recreated.status.zone = "zone-c"
            _ = try await store.create(recreated, name: "node-1")
            let again = try await get()
            #expect(again.json.string("zone") == "zone-c" && again.json.string("address") == "10.0.0.2")
        }
    }

    @Test func putReplacesTheSchedulingFieldsAndTags() async throws {
        let fixture = try Fixture()
        try await fixture.addNode()
        try await fixture.api().makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            let put = try await client.execute(
                uri: "/v1/nodes/node-1", method: .put,
                body: ByteBuffer(string: #"{"tags":["b","a","b"],"instanceManagerCPURequest":250,"name":"ignored"}"#))
            #expect(put.status == .ok)
            let shown = try json(put)
            #expect((shown["tags"] as? [String]) == ["a", "b"])
            #expect(shown.bool("allowScheduling") == false && shown.bool("evictionRequested") == false)
            var node = try await fixture.storedNode()
            #expect(node.spec.tags == ["a", "b"] && node.spec.allowScheduling == false)
            #expect(node.spec.instanceManagerCPURequest == 250)
            #expect(node.spec.disks.count == 3, "a PUT leaves the disks alone")

            let tags = try await client.execute(
                uri: "/v1/nodes/node-1", method: .put,
                body: ByteBuffer(string: #"{"allowScheduling":true,"tags":["-bad"]}"#))
            #expect(tags.status == .badRequest)
            #expect(
                (try json(tags)).string("message")?.contains("at least one error encountered while validating tags")
                    == true)
            node = try await fixture.storedNode()
            #expect(
                node.spec.tags == ["a", "b"] && node.spec.allowScheduling == false, "a refused PUT changes nothing")

            let negative = try await client.execute(
                uri: "/v1/nodes/node-1", method: .put, body: ByteBuffer(string: #"{"instanceManagerCPURequest":-1}"#))
            #expect(negative.status == .badRequest)
            let missing = try await client.execute(
                uri: "/v1/nodes/node-9", method: .put, body: ByteBuffer(string: "{}"))
            #expect(missing.status == .notFound)

            let nodeTags = try json(try await client.execute(uri: "/v1/nodetags", method: .get))
            #expect(nodeTags.objects("data")?.compactMap { $0.string("id") } == ["a", "b"])
        }
    }

    @Test func diskUpdateRefusesWhatLonghornRefuses() async throws {
        let fixture = try Fixture()
        try await fixture.addNode()
        let before = try await fixture.storedNode()
        try await fixture.api().makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            func refused(_ body: String, _ text: String) async throws {
                let response = try await diskUpdate(client, body)
                let message = (try json(response)).string("message") ?? ""
                #expect(response.status == .badRequest && message.contains(text), "\(text): \(message)")
            }
            // Removing, or moving, a disk that still allows scheduling.
            try await refused(disks(["fast": nil]), "Please disable the disk fast")
            try await refused(
                disks(["fast": #"{"path":"/data/elsewhere","allowScheduling":true}"#]), "Please disable the disk fast")
            // Removing a disabled disk that still holds replicas names them.
            try await refused(disks(["busy": nil]), "vol-r-1")
            // Block disks need the V2 data engine.
            try await refused(
                disks(["nvme": #"{"path":"/dev/nvme0n1","diskType":"block"}"#]),
                "is not supported since v2 data engine is disabled")
            try await refused(
                disks(["copy": #"{"path":"/data/fast","allowScheduling":false}"#]), "already used by disk")
            try await refused(
                disks(["empty": #"{"path":"/data/empty","diskType":"block","allowScheduling":false}"#]),
                "is not supported")
            try await refused(
                disks(["new": #"{"path":"/data/new","diskDriver":"aio"}"#]), "only allowed for block disks")
            try await refused(
                disks(["new": #"{"path":"/data/new","allowScheduling":true,"evictionRequested":true}"#]),
                "before requesting eviction")
            try await refused(
                disks(["new": #"{"path":"/data/new","tags":["ok","no good"]}"#]),
                "at least one error encountered while validating tags")
            try await refused(disks(["new": #"{"path":"/data/new","storageReserved":-1}"#]), "negative")
            try await refused(disks(["new": #"{"path":"/data/new","diskType":"tape"}"#]), "tape")
            try await refused(disks(["new": #"{"path":""}"#]), "path is empty")
        }
        #expect(try await fixture.storedNode() == before, "refused updates change nothing")
    }

    @Test func diskUpdateReplacesTheDiskMap() async throws {
        let fixture = try Fixture()
        try await fixture.addNode()
        try await fixture.setV2("true")
        try await fixture.api().makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            let response = try await diskUpdate(
                client,
                disks([
                    "empty": nil, "fast": #"{"path":"/data/fast","allowScheduling":true,"tags":["z","a","z"]}"#,
                    "block-1": #"{"path":"/dev/loop7","diskType":"block"}"#,
                ]))
            #expect(response.status == .ok)
            let shown = try json(response)
            #expect(shown.object("disks")?.members.keys.sorted() == ["block-1", "busy", "fast"])
            let node = try await fixture.storedNode()
            #expect(node.spec.disks.keys.sorted() == ["block-1", "busy", "fast"])
            #expect(node.spec.disks["fast"]?.tags == ["a", "z"])
            #expect(node.spec.disks["block-1"]?.diskDriver == .auto, "a block disk's driver defaults to auto")
            #expect(node.status.diskStatus["fast"]?.diskUUID == "u-fast", "the status is the controller's")

            let diskTags = try json(try await client.execute(uri: "/v1/disktags", method: .get))
            #expect(diskTags.objects("data")?.compactMap { $0.string("id") } == ["a", "z"])

            try await fixture.syncDiskStatus()
            let type = try await diskUpdate(
                client,
                #"{"disks":{"block-1":{"path":"/dev/loop7","diskType":"filesystem"},"busy":{"path":"/data/busy","allowScheduling":false},"fast":{"path":"/data/fast"}}}"#
            )
            #expect(type.status == .badRequest)
            #expect((try json(type)).string("message")?.contains("diskType cannot change") == true)

            let action = try await client.execute(
                uri: "/v1/nodes/node-1?action=evict", method: .post, body: ByteBuffer(string: "{}"))
            #expect(action.status == .badRequest)
        }
    }

    @Test func updatesWaitUntilTheDiskStatusCaughtUpWithTheSpec() async throws {
        let fixture = try Fixture()
        try await fixture.addNode()
        try await fixture.api().makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            let added = try await diskUpdate(client, disks(["new": #"{"path":"/data/new","allowScheduling":false}"#]))
            #expect(added.status == .ok)
            let afterAdd = try await fixture.storedNode()
            let message = "spec and status of disks on node node-1 are being syncing and please retry later."

            // The status has no entry for `new` yet: neither a PUT nor another diskUpdate goes through.
            let put = try await client.execute(
                uri: "/v1/nodes/node-1", method: .put, body: ByteBuffer(string: #"{"tags":["later"]}"#))
            #expect(put.status == .conflict)
            #expect(try json(put).string("message") == message)
            let again = try await diskUpdate(client, disks())
            #expect(again.status == .conflict)
            #expect(try json(again).string("message") == message)
            #expect(try await fixture.storedNode() == afterAdd, "refused updates change nothing")

            // Once the controller gave `new` a status, both go through.
            try await fixture.syncDiskStatus()
            let putLater = try await client.execute(
                uri: "/v1/nodes/node-1", method: .put, body: ByteBuffer(string: #"{"tags":["later"]}"#))
            #expect(putLater.status == .ok)
            let removed = try await diskUpdate(client, disks())
            #expect(removed.status == .ok)
            #expect(try await fixture.storedNode().spec.disks["new"] == nil)

            // A status entry left for a disk gone from the spec holds updates back too.
            let stale = try await client.execute(
                uri: "/v1/nodes/node-1", method: .put, body: ByteBuffer(string: #"{"tags":["again"]}"#))
            #expect(stale.status == .conflict)
        }
    }

    @Test func instanceManagersAreListed() async throws {
        let fixture = try Fixture()
        try await fixture.addNode()
        try await fixture.api().makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            let list = try json(try await client.execute(uri: "/v1/instancemanagers", method: .get))
            #expect(list.string("resourceType") == "instanceManager")
            let manager = try #require(list.objects("data")?.first)
            #expect(manager.string("id") == "instance-manager-1" && manager.string("type") == "instanceManager")
            #expect(manager.string("nodeID") == "node-1" && manager.string("currentState") == "running")
            #expect(manager.string("dataEngine") == "v1" && manager.string("managerType") == "aio")
            #expect(manager.object("instanceEngines")?.members.isEmpty == true)
            #expect(
                manager.object("links")?.string("self") == "http://localhost/v1/instancemanagers/instance-manager-1")
            let one = try await client.execute(uri: "/v1/instancemanagers/instance-manager-1", method: .get)
            #expect(one.status == .ok)
            let missing = try await client.execute(uri: "/v1/instancemanagers/none", method: .get)
            #expect(missing.status == .notFound)
        }
    }
}
