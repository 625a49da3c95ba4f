import Foundation
import HTTPTypes
import HummingbirdTesting
import ManagerModel
import ManagerREST
import ManagerStore
import NIOCore
import Testing

/// /v1/volumes and /v1/volumeattachments over the SQLite store: create with defaults, deletion
/// asked for, and the attach/detach tickets (bad requests: VolumeBadInputTests).
@Suite struct VolumeRoutesTests {
    private func json(_ response: TestResponse) throws -> JSONObject {
        try JSONObject(Data(response.body.readableBytesView))
    }

    private func post(_ client: any TestClientProtocol, _ uri: String, _ body: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, body: ByteBuffer(string: body))
    }

    @Test func aVolumeIsCreatedWithDefaultsAndItsAttachment() async throws {
        let fixture = try VolumeRoutesFixture()
        try await fixture.api().makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            let created = try await post(client, "/v1/volumes", #"{"name":"vol1","size":"1Gi","numberOfReplicas":2}"#)
            #expect(created.status == .ok)
            let volume = try json(created)
            #expect(volume.string("type") == "volume" && volume.string("id") == "vol1")
            #expect(volume.string("size") == "1073741824" && volume.int("numberOfReplicas") == 2)
            #expect(volume.string("frontend") == "blockdev" && volume.string("dataEngine") == "v1")
            #expect(volume.string("backendStoreDriver") == "v1" && volume.string("state") == "creating")
            #expect(volume.object("conditions")?.members.isEmpty == true)
            #expect((volume["controllers"] as? [Any])?.isEmpty == true && (volume["replicas"] as? [Any])?.isEmpty == true)
            #expect(volume.object("volumeAttachment")?.string("volume") == "vol1")
            #expect(volume.object("actions")?.string("attach") == "http://localhost/v1/volumes/vol1?action=attach")

            let stored = try #require(try await fixture.store.get(Volume.self, "vol1")).value
            #expect(stored.spec.numberOfReplicas == 2 && stored.status.state == .creating)
            #expect(try await fixture.store.get(VolumeAttachment.self, "vol1")?.value.spec.volume == "vol1")

            let again = try await post(client, "/v1/volumes", #"{"name":"vol1","size":"1Gi"}"#)
            #expect(try again.status == .conflict && (try json(again).string("message") ?? "").contains("already exists"))
            let list = try json(try await client.execute(uri: "/v1/volumes", method: .get))
            #expect(list.objects("data")?.map { $0.string("name") } == ["vol1"])
            let attachments = try json(try await client.execute(uri: "/v1/volumeattachments", method: .get))
            #expect(attachments.objects("data")?.first?.string("volume") == "vol1")
            #expect(try await client.execute(uri: "/v1/volumes/nope", method: .get).status == .notFound)
        }
    }

    @Test func attachAndDetachWriteTickets() async throws {
        let fixture = try VolumeRoutesFixture()
        try await fixture.addNode("node-a")
        try await fixture.addNode("node-down", ready: false)
        try await fixture.api().makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            _ = try await post(client, "/v1/volumes", #"{"name":"vol1","size":"1Gi"}"#)
            let early = try await post(client, "/v1/volumes/vol1?action=attach", #"{"hostId":"node-a"}"#)
            #expect(try early.status == .conflict && (try json(early).string("message") ?? "").contains("being created"))
            try await fixture.set("vol1", .detached)

            let refused: [(String, String)] = [
                (#"{}"#, "hostId is required"), (#"{"hostId":"node-x"}"#, "node node-x not found"),
                (#"{"hostId":"node-down"}"#, "node node-down is not ready"),
            ]
            for (body, message) in refused {
                let response = try await post(client, "/v1/volumes/vol1?action=attach", body)
                #expect(try response.status == .badRequest && (try json(response).string("message") ?? "").contains(message))
            }
            let attached = try await post(
                client, "/v1/volumes/vol1?action=attach", #"{"hostId":"node-a","attachedBy":"me","disableFrontend":true}"#)
            #expect(attached.status == .ok)
            let ticket = try #require(try json(attached).object("volumeAttachment")?.object("attachments")?.object("longhorn-api-node-a"))
            #expect(ticket.string("nodeID") == "node-a" && ticket.string("attachmentType") == "longhorn-api")
            #expect(ticket.object("parameters")?.string("disableFrontend") == "true" && ticket.bool("satisfied") == false)
            _ = try await post(client, "/v1/volumes/vol1?action=attach", #"{"hostId":"node-a","attachmentID":"csi-1","attacherType":"csi-attacher"}"#)
            var tickets = try #require(try await fixture.store.get(VolumeAttachment.self, "vol1")).value.spec.attachmentTickets
            #expect(Set(tickets.keys) == ["longhorn-api-node-a", "csi-1"])

            // A detach without an ID removes the API's tickets only; by ID removes that one.
            #expect(try await client.execute(uri: "/v1/volumes/vol1?action=detach", method: .post).status == .ok)
            tickets = try #require(try await fixture.store.get(VolumeAttachment.self, "vol1")).value.spec.attachmentTickets
            #expect(Set(tickets.keys) == ["csi-1"])
            _ = try await post(client, "/v1/volumes/vol1?action=detach", #"{"attachmentID":"csi-1"}"#)
            tickets = try #require(try await fixture.store.get(VolumeAttachment.self, "vol1")).value.spec.attachmentTickets
            #expect(tickets.isEmpty)

            let count = try await post(client, "/v1/volumes/vol1?action=updateReplicaCount", #"{"replicaCount":5}"#)
            #expect(try count.status == .ok && (try json(count).int("numberOfReplicas")) == 5)
            let badCount = try await post(client, "/v1/volumes/vol1?action=updateReplicaCount", #"{"replicaCount":0}"#)
            #expect(badCount.status == .badRequest)
            let salvage = try await post(client, "/v1/volumes/vol1?action=salvage", #"{"names":["vol1-r-1"]}"#)
            #expect(try salvage.status == .conflict && (try json(salvage).string("message") ?? "").contains("invalid robustness state to salvage"))
            let unknown = try await post(client, "/v1/volumes/vol1?action=explode", "{}")
            #expect(unknown.status == .badRequest)
        }
    }

    @Test func deleteAsksForDeletionAndRefusesFurtherActions() async throws {
        let fixture = try VolumeRoutesFixture()
        try await fixture.addNode("node-a")
        try await fixture.api().makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            _ = try await post(client, "/v1/volumes", #"{"name":"vol1","size":"1Gi"}"#)
            try await fixture.set("vol1", .detached)
            let deleted = try await client.execute(uri: "/v1/volumes/vol1", method: .delete)
            #expect(try deleted.status == .ok && (try json(deleted).bool("ready")) == false)
            let stored = try #require(try await fixture.store.get(Volume.self, "vol1")).value
            #expect(stored.metadata.isBeingDeleted)
            let attach = try await post(client, "/v1/volumes/vol1?action=attach", #"{"hostId":"node-a"}"#)
            #expect(try attach.status == .conflict && (try json(attach).string("message") ?? "").contains("being deleted"))
            #expect(try await client.execute(uri: "/v1/volumes/nope", method: .delete).status == .notFound)
        }
    }
}
