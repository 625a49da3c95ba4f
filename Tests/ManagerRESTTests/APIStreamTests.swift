import Foundation
import HTTPTypes
import HummingbirdTesting
import ManagerModel
import ManagerREST
import ManagerStore
import NIOCore
import Testing

/// The websocket streams on a live loopback server over a SQLite store of its own: the collection on
/// connect, again after each change at most once per period, refusals, and clients that do not read.
@Suite(.timeLimit(.minutes(2))) struct APIStreamTests {
    private func withServer(
        token: String? = nil,
        _ test: @escaping @Sendable (SQLiteResourceStore, any TestClientProtocol, Int) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("hornbill-streams-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteResourceStore(directory: directory)
        defer { try? store.close() }
        let api = ManagerAPI(
            groups: [SettingRoutes(store: store), NodeRoutes(store: store), VolumeRoutes(store: store)],
            configuration: .init(bearerToken: token))
        try await api.makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            try await test(store, client, try #require(client.port))
        }
    }

    private static func put(
        _ client: any TestClientProtocol, _ setting: String, _ value: String, headers: HTTPFields = [:]
    ) async throws {
        let response = try await client.execute(
            uri: "/v1/settings/\(setting)", method: .put, headers: headers,
            body: ByteBuffer(string: #"{"value":"\#(value)"}"#))
        #expect(response.status == .ok, "PUT \(setting)=\(value)")
    }

    private static func value(of setting: String, in message: String?) throws -> String? {
        let collection = try JSONObject(Data(try #require(message).utf8))
        return collection.objects("data")?.first { $0.string("id") == setting }?.string("value")
    }

    private static func ids(in message: String?) throws -> [String] {
        try JSONObject(Data(try #require(message).utf8)).objects("data")?.compactMap { $0.string("id") } ?? []
    }

    @Test func theCollectionOnConnectThenAfterAChange() async throws {
        try await withServer { _, client, port in
            let stream = StreamClient.connect(port: port, path: "/v1/ws/settings")
            defer { stream.close() }
            var messages = stream.messages.makeAsyncIterator()
            let first = try JSONObject(Data(try #require(await messages.next()).utf8))
            #expect(first.string("type") == "collection")
            #expect(first.string("resourceType") == "setting")
            #expect(first["actions"] as? [String: String] == [:])
            #expect(first.object("links")?.string("self")?.hasSuffix("/v1/settings") == true)
            let listed = try JSONObject(
                Data(try await client.execute(uri: "/v1/settings", method: .get).body.readableBytesView))
            #expect(first.objects("data")?.map { $0.string("id") } == listed.objects("data")?.map { $0.string("id") })
            let setting = try #require(first.objects("data")?.first { $0.string("id") == "orphan-auto-deletion" })
            #expect(setting.string("value") == "false")
            #expect(setting.string("type") == "setting")

            try await Self.put(client, "orphan-auto-deletion", "true")
            let message1 = await messages.next()
            #expect(try Self.value(of: "orphan-auto-deletion", in: message1) == "true")
        }
    }

    @Test func changesWithinAPeriodAreCoalesced() async throws {
        try await withServer { _, client, port in
            let stream = StreamClient.connect(port: port, path: "/v1/ws/2s/settings")
            defer { stream.close() }
            var messages = stream.messages.makeAsyncIterator()
            let message2 = await messages.next()
            #expect(try Self.value(of: "storage-over-provisioning-percentage", in: message2) == "100")
            let start = ContinuousClock.now
            for value in 101...110 {
                try await Self.put(client, "storage-over-provisioning-percentage", String(value))
            }
            var seen: [String?] = []
            while seen.last != "110" {
                seen.append(try Self.value(of: "storage-over-provisioning-percentage", in: await messages.next()))
            }
            // Ten changes, and at most one message per 2 s period while they came (plus the one
            // that may end a period as it begins): coalesced however slow the machine is.
            let periods = Int((ContinuousClock.now - start) / .seconds(2)) + 1
            #expect(seen.count <= min(periods + 1, 10), "\(seen) in \(periods) periods")
            #expect(seen.count < 10 || periods >= 9, "\(seen)")
        }
    }

    @Test func theNodesStreamFollowsTheStoredNodes() async throws {
        try await withServer { store, _, port in
            func node(_ name: String) throws -> Data {
                try JSONEncoder().encode(
                    Node(
                        metadata: ResourceMetadata(name: name),
                        spec: NodeSpec(name: name, disks: ["disk-1": DiskSpec(path: "/var/lib/hornbill")]),
                        status: NodeStatus(
                            conditions: [
                                Condition(type: NodeConditionType.ready, status: .isTrue, reason: "", message: "")
                            ])))
            }
            _ = try await store.create(.nodes, name: "node-a", labels: [:], document: node("node-a"))
            let stream = StreamClient.connect(port: port, path: "/v1/ws/0s/nodes")
            defer { stream.close() }
            var messages = stream.messages.makeAsyncIterator()
            let first = try #require(await messages.next())
            #expect(try Self.ids(in: first) == ["node-a"])
            let collection = try JSONObject(Data(first.utf8))
            #expect(collection.string("resourceType") == "node")
            let nodeA = try #require(collection.objects("data")?.first)
            #expect(nodeA.string("type") == "node")
            #expect(nodeA.object("conditions")?.object("Ready")?.string("status") == "True")
            #expect(nodeA.object("disks")?.object("disk-1")?.string("path") == "/var/lib/hornbill")
            let selfURL = try #require(nodeA.object("links")?.string("self"))
            #expect(selfURL.hasSuffix("/v1/nodes/node-a"))
            #expect(nodeA.object("actions")?.string("diskUpdate") == selfURL + "?action=diskUpdate")

            _ = try await store.create(.nodes, name: "node-b", labels: [:], document: node("node-b"))
            let message3 = await messages.next()
            #expect(try Self.ids(in: message3) == ["node-a", "node-b"])
            _ = try await store.delete(.nodes, name: "node-a", expectedVersion: nil)
            let message4 = await messages.next()
            #expect(try Self.ids(in: message4) == ["node-b"])
        }
    }

    @Test func theVolumesStreamFollowsVolumesAndWhatTheyOwn() async throws {
        try await withServer { store, client, port in
            let stream = StreamClient.connect(port: port, path: "/v1/ws/0s/volumes")
            defer { stream.close() }
            var messages = stream.messages.makeAsyncIterator()
            #expect(try Self.ids(in: await messages.next()) == [])
            let created = try await client.execute(
                uri: "/v1/volumes", method: .post, body: ByteBuffer(string: #"{"name":"vol1","size":"1Gi"}"#))
            #expect(created.status == .ok)
            // The volume, then its attachment (a second change) may come in one message or two.
            var message = await messages.next()
            #expect(try Self.ids(in: message) == ["vol1"])
            let collection = try JSONObject(Data(try #require(message).utf8))
            #expect(collection.string("resourceType") == "volume")
            // A replica of it changes what the stream shows.
            var replica = Replica(metadata: ResourceMetadata(name: "vol1-r-00000001"), spec: ReplicaSpec())
            replica.spec.instance.volumeName = "vol1"
            _ = try await store.create(replica, name: "vol1-r-00000001", labels: ["longhornvolume": "vol1"])
            var replicas: [String] = []
            while replicas.isEmpty {
                message = await messages.next()
                let text = try #require(message)
                let volume = try #require(try JSONObject(Data(text.utf8)).objects("data")?.first)
                replicas = volume.objects("replicas")?.compactMap { $0.string("name") } ?? []
            }
            #expect(replicas == ["vol1-r-00000001"])
        }
    }

    @Test func aClientThatDoesNotReadBlocksNoWriterAndNoOtherClient() async throws {
        try await withServer { _, client, port in
            let stalled = NonReadingStreamClient.connect(port: port, path: "/v1/ws/0s/settings")
            for await _ in stalled.connected { break }
            let reader = StreamClient.connect(port: port, path: "/v1/ws/0s/settings")
            defer { reader.close() }
            var messages = reader.messages.makeAsyncIterator()
            _ = await messages.next()

            // Each change is a message of the whole collection to each client: the stalled one's
            // socket fills, and the writes and the other client go on.
            let started = ContinuousClock.now
            for value in 200..<500 {
                try await Self.put(client, "storage-over-provisioning-percentage", String(value))
            }
            #expect(ContinuousClock.now - started < .seconds(40))
            var latest: String?
            while latest != "499" {
                latest = try Self.value(of: "storage-over-provisioning-percentage", in: await messages.next())
            }
            stalled.release()
            stalled.connection.cancel()
        }
    }

    @Test func requestsThatAreNotStreamsAreAnsweredInTheEnvelope() async throws {
        try await withServer { _, client, port in
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("/v1/ws/settings", .badRequest, "Upgrade: websocket"),
                ("/v1/ws/1s/settings", .badRequest, "Upgrade: websocket"),
                ("/v1/ws/orphans", .notFound, "no stream orphans"),
                ("/v1/ws/fast/settings", .badRequest, "invalid stream period"),
            ]
            for (uri, status, message) in cases {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == status, "\(uri)")
                let error = try JSONObject(Data(response.body.readableBytesView))
                #expect(error.string("type") == "error")
                #expect(error.string("message")?.contains(message) == true, "\(uri): \(error.string("message") ?? "")")
            }
            // A stream that was not served does not upgrade.
            let unknown = StreamClient.connect(port: port, path: "/v1/ws/orphans")
            await #expect(throws: (any Error).self) { try await unknown.connection.value }
        }
    }

    @Test func aStreamNeedsTheBearerTokenWhenOneIsSet() async throws {
        try await withServer(token: "s3cret") { _, _, port in
            let refused = StreamClient.connect(port: port, path: "/v1/ws/settings")
            await #expect(throws: (any Error).self) { try await refused.connection.value }
            let allowed = StreamClient.connect(
                port: port, path: "/v1/ws/settings", headers: [.authorization: "Bearer s3cret"])
            defer { allowed.close() }
            var messages = allowed.messages.makeAsyncIterator()
            let value = try Self.value(of: "orphan-auto-deletion", in: await messages.next())
            #expect(value == "false")
        }
    }
}
