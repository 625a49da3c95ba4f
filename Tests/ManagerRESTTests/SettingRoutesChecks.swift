import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ManagerModel
import ManagerREST
import NIOCore
import Testing

/// The settings routes on a live loopback server over a store, whatever the store's implementation.
/// `SettingRoutesTests` runs them over the SQLite store.
struct SettingRoutesChecks {
    let store: any ResourceStore

    /// Refuses turning `v2-data-engine` off, the way the manager does while V2 volumes are attached.
    private struct RefuseV2Off: SettingChangeValidator {
        func validateChange(of definition: SettingDefinition, from current: String, to proposed: String) async throws {
            if definition.name == "v2-data-engine", current == "true", proposed == "false" {
                throw SettingChangeRefusal(
                    "cannot apply v2-data-engine setting to Longhorn workloads when there are attached v2 volumes")
            }
        }
    }

    private func withServer(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let api = ManagerAPI(groups: [SettingRoutes(store: store, changeValidator: RefuseV2Off())])
        try await api.makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in try await test(client) }
    }

    private static func json(_ response: TestResponse) throws -> JSONObject {
        try JSONObject(Data(response.body.readableBytesView))
    }

    private static func put(
        _ client: any TestClientProtocol, _ name: String, _ body: String
    ) async throws -> TestResponse {
        try await client.execute(uri: "/v1/settings/\(name)", method: .put, body: ByteBuffer(string: body))
    }

    func listShowsEverySettingWithItsDefinition() async throws {
        try await withServer { client in
            let response = try await client.execute(uri: "/v1/settings", method: .get)
            #expect(response.status == .ok)
            let json = try Self.json(response)
            #expect(json.string("type") == "collection")
            #expect(json.string("resourceType") == "setting")
            let settings = try #require(json.objects("data"))
            #expect(settings.compactMap { $0.string("name") } == SettingDefinition.all.map(\.name))
            let replicaCount = try #require(settings.first { $0.string("id") == "default-replica-count" })
            #expect(replicaCount.string("type") == "setting")
            #expect(replicaCount.string("value") == #"{"v1":"3","v2":"3"}"#)
            #expect(
                replicaCount.object("links")?.string("self") == "http://localhost/v1/settings/default-replica-count")
            let definition = try #require(replicaCount.object("definition"))
            #expect(definition.string("displayName") == "Default Replica Count")
            #expect(definition.string("type") == "int")
            #expect(definition.string("category") == "general")
            #expect(definition.bool("required") == true)
            #expect(definition.bool("readOnly") == false)
            #expect(definition.string("default") == #"{"v1":"3","v2":"3"}"#)
            #expect(definition.bool("dataEngineSpecific") == true)
            #expect(definition.object("range")?.int("minimum") == 1)
            #expect(definition.object("range")?.int("maximum") == 20)
        }
    }

    func getReturnsTheDefaultOr404() async throws {
        try await withServer { client in
            let response = try await client.execute(
                uri: "/v1/settings/storage-minimal-available-percentage", method: .get)
            #expect(response.status == .ok)
            let json = try Self.json(response)
            #expect(json.string("value") == "25")
            #expect(json.bool("applied") == true)
            let unknown = try await client.execute(uri: "/v1/settings/no-such-setting", method: .get)
            #expect(unknown.status == .notFound)
            #expect(try Self.json(unknown).string("type") == "error")
        }
    }

    func putValidatesNormalizesAndStores() async throws {
        try await withServer { client in
            // The client sends back the whole object it read; only `value` counts.
            let response = try await Self.put(
                client, "default-replica-count",
                #"{"id":"x","type":"setting","name":"other","value":" 2 ","applied":false}"#)
            #expect(response.status == .ok)
            #expect(try Self.json(response).string("value") == #"{"v1":"2","v2":"2"}"#)
            let read = try await client.execute(uri: "/v1/settings/default-replica-count", method: .get)
            #expect(try Self.json(read).string("value") == #"{"v1":"2","v2":"2"}"#)
            let stored = try #require(
                try await store.get(ResourceKind(rawValue: "settings"), name: "default-replica-count"))
            let document = try JSONObject(stored.document)
            #expect(document.string("value") == #"{"v1":"2","v2":"2"}"#)
            #expect(document.object("metadata")?.string("name") == "default-replica-count")
            #expect(document.object("status")?.bool("applied") == true)

            let again = try await Self.put(client, "default-replica-count", #"{"value":"{\"v1\":\"1\",\"v2\":\"4\"}"}"#)
            #expect(again.status == .ok)
            #expect(try Self.json(again).string("value") == #"{"v1":"1","v2":"4"}"#)
        }
    }

    func anInvalidValueIs400AndChangesNothing() async throws {
        try await withServer { client in
            #expect(
                try await Self.put(client, "storage-minimal-available-percentage", #"{"value":"40"}"#).status == .ok)
            let before = try #require(
                try await store.get(ResourceKind(rawValue: "settings"), name: "storage-minimal-available-percentage"))
            let response = try await Self.put(client, "storage-minimal-available-percentage", #"{"value":"101"}"#)
            #expect(response.status == .badRequest)
            let json = try Self.json(response)
            #expect(json.string("type") == "error")
            #expect(
                json.string("message")?.contains("storage-minimal-available-percentage with invalid value ") == true)
            #expect(json.string("message")?.contains("less than or equal to 100") == true)
            let after = try await store.get(
                ResourceKind(rawValue: "settings"), name: "storage-minimal-available-percentage")
            #expect(after == before)
            let missing = try await Self.put(client, "storage-minimal-available-percentage", "{}")
            #expect(missing.status == .badRequest)
            let unknown = try await Self.put(client, "no-such-setting", #"{"value":"1"}"#)
            #expect(unknown.status == .notFound)
        }
    }

    func theChangeValidatorCanRefuse() async throws {
        try await withServer { client in
            #expect(try await Self.put(client, "v2-data-engine", #"{"value":"true"}"#).status == .ok)
            let refused = try await Self.put(client, "v2-data-engine", #"{"value":"False"}"#)
            #expect(refused.status == .badRequest)
            let message = try Self.json(refused).string("message") ?? ""
            #expect(message.contains("v2-data-engine with invalid value false"))
            #expect(
                message.contains(
                    "cannot apply v2-data-engine setting to Longhorn workloads when there are attached v2 volumes"))
            let read = try await client.execute(uri: "/v1/settings/v2-data-engine", method: .get)
            #expect(try Self.json(read).string("value") == "true")
        }
    }

    /// Writes the setting behind the API's back while the API is between reading it and writing
    /// it, as a concurrent writer would.
    private struct InterferingWriter: SettingChangeValidator {
        let store: any ResourceStore

        func validateChange(of definition: SettingDefinition, from current: String, to proposed: String) async throws {
            let kind = ResourceKind(rawValue: "settings")
            let document = try JSONSerialization.data(withJSONObject: [
                "metadata": ["name": definition.name], "value": current, "status": ["applied": true],
            ])
            if let stored = try await store.get(kind, name: definition.name) {
                _ = try await store.update(
                    kind, name: definition.name, labels: [:], document: document,
                    expectedVersion: stored.resourceVersion)
            } else {
                _ = try await store.create(kind, name: definition.name, labels: [:], document: document)
            }
        }
    }

    func aWriteThatLostARaceIsRetriedOnTheNewVersion() async throws {
        let api = ManagerAPI(groups: [SettingRoutes(store: store, changeValidator: InterferingWriter(store: store))])
        try await api.makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            // Not stored yet: the other writer creates it first.
            let created = try await Self.put(client, "engine-replica-timeout", #"{"value":"9"}"#)
            #expect(created.status == .ok)
            // Stored: the other writer updates it first.
            let updated = try await Self.put(client, "engine-replica-timeout", #"{"value":"10"}"#)
            #expect(updated.status == .ok)
            let stored = try #require(
                try await store.get(ResourceKind(rawValue: "settings"), name: "engine-replica-timeout"))
            #expect(try JSONObject(stored.document).string("value") == #"{"v1":"10","v2":"10"}"#)
            // Four writes: each PUT's own and the other writer's before it.
            #expect(stored.resourceVersion - stored.createRevision == 3)
        }
    }
}
