import Foundation
import HTTPTypes
import HummingbirdTesting
import ManagerModel
import ManagerREST
import ManagerStore
import NIOCore
import Testing

/// The bad-input matrix of /v1/volumes, in-process over the SQLite store: every invalid field of a
/// create and every action asked in a state that does not allow it gets its HTTP status and a
/// message in the go-rancher error envelope, and the store's revision does not move (nothing is
/// stored or changed).
@Suite struct VolumeBadInputTests {
    private func send(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ body: String?
    ) async throws -> TestResponse {
        try await client.execute(uri: uri, method: method, body: body.map { ByteBuffer(string: $0) })
    }

    /// `response` is the go-rancher error envelope with `status` and a message containing `message`.
    private func expectRefused(
        _ response: TestResponse, _ status: HTTPResponse.Status, _ message: String, _ row: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(response.status == status, "\(row)", sourceLocation: sourceLocation)
        let body = try JSONObject(Data(response.body.readableBytesView))
        #expect(body.string("type") == "error", "\(row)", sourceLocation: sourceLocation)
        #expect(
            body.int("status") == status.code && body.string("code") == status.reasonPhrase, "\(row)",
            sourceLocation: sourceLocation)
        #expect(body["detail"] is String, "\(row)", sourceLocation: sourceLocation)
        let said = body.string("message") ?? ""
        #expect(said.contains(message), "\(row): \(said)", sourceLocation: sourceLocation)
    }

    /// Every row: a create body, the status and (part of) the message it gets.
    static let createRows: [(String, HTTPResponse.Status, String)] = [
        // name
        (#"{"size":"1Gi"}"#, .badRequest, "a volume needs a name"),
        (#"{"name":"","size":"1Gi"}"#, .badRequest, "a volume needs a name"),
        (#"{"name":"BAD","size":"1Gi"}"#, .badRequest, "invalid volume name"),
        (#"{"name":"-vol","size":"1Gi"}"#, .badRequest, "invalid volume name"),
        (#"{"name":"vol.1","size":"1Gi"}"#, .badRequest, "invalid volume name"),
        (#"{"name":"\#(String(repeating: "a", count: 41))","size":"1Gi"}"#, .badRequest, "no more than 40 characters"),
        (#"{"name":7,"size":"1Gi"}"#, .badRequest, "field name"),
        // size: forms and limits
        (#"{"name":"v"}"#, .badRequest, "a volume needs a size"),
        (#"{"name":"v","size":""}"#, .badRequest, "a volume needs a size"),
        (#"{"name":"v","size":"0"}"#, .badRequest, "larger than 0 bytes"),
        (#"{"name":"v","size":"-1Gi"}"#, .badRequest, "is negative"),
        (#"{"name":"v","size":-5}"#, .badRequest, "is negative"),
        (#"{"name":"v","size":"lots"}"#, .badRequest, "is not a quantity"),
        (#"{"name":"v","size":"1Zi"}"#, .badRequest, "unknown suffix"),
        (#"{"name":"v","size":"8Ei"}"#, .badRequest, "is larger than 9223372036854775807 bytes"),
        (#"{"name":"v","size":"9223372036854775807"}"#, .badRequest, "too large"),
        (#"{"name":"v","size":1.5}"#, .badRequest, "size must be a string"),
        (#"{"name":"v","size":true}"#, .badRequest, "size must be a string"),
        // numberOfReplicas
        (#"{"name":"v","size":"1Gi","numberOfReplicas":-1}"#, .badRequest, "numberOfReplicas -1 is out of range"),
        (#"{"name":"v","size":"1Gi","numberOfReplicas":21}"#, .badRequest, "numberOfReplicas 21 is out of range"),
        (#"{"name":"v","size":"1Gi","numberOfReplicas":"x"}"#, .badRequest, "field numberOfReplicas"),
        (#"{"name":"v","size":"1Gi","numberOfReplicas":2.5}"#, .badRequest, "a number does not fit its field"),
        (#"{"name":"v","size":"1Gi","staleReplicaTimeout":1e100}"#, .badRequest, "a number does not fit its field"),
        // dataEngine / backendStoreDriver
        (#"{"name":"v","size":"1Gi","dataEngine":"v9"}"#, .badRequest, "field dataEngine: invalid DataEngine \"v9\""),
        (
            #"{"name":"v","size":"1Gi","backendStoreDriver":"v3"}"#, .badRequest,
            "field backendStoreDriver: invalid DataEngine"
        ),
        (#"{"name":"v","size":"1Gi","dataEngine":"v1","backendStoreDriver":"v2"}"#, .badRequest, "disagree"),
        (#"{"name":"v","size":"1Gi","dataEngine":"v2"}"#, .forbidden, "v2-data-engine data engine is not enabled"),
        (
            #"{"name":"v","size":"1Gi","backendStoreDriver":"v2"}"#, .forbidden,
            "v2-data-engine data engine is not enabled"
        ),
        // frontend
        (#"{"name":"v","size":"1Gi","frontend":"bogus"}"#, .badRequest, "field frontend: invalid VolumeFrontend"),
        (#"{"name":"v","size":"1Gi","frontend":"iscsi"}"#, .badRequest, "frontend iscsi is not supported"),
        (#"{"name":"v","size":"1Gi","frontend":"ublk"}"#, .badRequest, "frontend ublk is not supported"),
        (#"{"name":"v","size":"1Gi","frontend":"nvmf"}"#, .badRequest, "frontend nvmf needs data engine v2"),
        // selectors
        (#"{"name":"v","size":"1Gi","diskSelector":"ssd"}"#, .badRequest, "field diskSelector"),
        (#"{"name":"v","size":"1Gi","diskSelector":[1]}"#, .badRequest, "field diskSelector"),
        (#"{"name":"v","size":"1Gi","diskSelector":["bad tag!"]}"#, .badRequest, "invalid diskSelector"),
        (#"{"name":"v","size":"1Gi","nodeSelector":["-x"]}"#, .badRequest, "invalid nodeSelector"),
        (#"{"name":"v","size":"1Gi","diskSelector":["nvme"]}"#, .badRequest, "specified disk tag nvme does not exist"),
        (#"{"name":"v","size":"1Gi","nodeSelector":["slow"]}"#, .badRequest, "specified node tag slow does not exist"),
        (#"{"name":"v","size":"1Gi","diskSelector":["fast"]}"#, .badRequest, "specified disk tag fast does not exist"),
        // anti-affinity
        (#"{"name":"v","size":"1Gi","replicaSoftAntiAffinity":"maybe"}"#, .badRequest, "invalid VolumeSettingOverride"),
        (
            #"{"name":"v","size":"1Gi","replicaZoneSoftAntiAffinity":true}"#, .badRequest,
            "field replicaZoneSoftAntiAffinity"
        ),
        (
            #"{"name":"v","size":"1Gi","replicaDiskSoftAntiAffinity":"yes"}"#, .badRequest,
            "field replicaDiskSoftAntiAffinity"
        ),
        // staleReplicaTimeout, locality, access mode, the rest
        (#"{"name":"v","size":"1Gi","staleReplicaTimeout":-1}"#, .badRequest, "staleReplicaTimeout -1 is negative"),
        (#"{"name":"v","size":"1Gi","staleReplicaTimeout":"x"}"#, .badRequest, "field staleReplicaTimeout"),
        (#"{"name":"v","size":"1Gi","dataLocality":"far"}"#, .badRequest, "field dataLocality"),
        (
            #"{"name":"v","size":"1Gi","dataLocality":"strict-local","numberOfReplicas":3}"#, .badRequest,
            "strict-local needs numberOfReplicas 1"
        ),
        (#"{"name":"v","size":"1Gi","accessMode":"rwx"}"#, .badRequest, "accessMode rwx is not supported"),
        (#"{"name":"v","size":"1Gi","accessMode":"abc"}"#, .badRequest, "field accessMode"),
        (#"{"name":"v","size":"1Gi","disableFrontend":"yes"}"#, .badRequest, "field disableFrontend"),
        (#"{"name":"v","size":"1Gi","snapshotMaxCount":1}"#, .badRequest, "snapshotMaxCount 1 is out of range"),
        (#"{"name":"v","size":"1Gi","snapshotMaxCount":251}"#, .badRequest, "snapshotMaxCount 251 is out of range"),
        (#"{"name":"v","size":"1Gi","backingImage":"bi"}"#, .badRequest, "backing images are not supported"),
        (
            #"{"name":"v","size":"1Gi","fromBackup":"s3://b/v"}"#, .badRequest,
            "restoring from a backup is not supported"
        ),
        (#"{"name":"v","size":"1Gi","encrypted":true}"#, .badRequest, "encrypted volumes are not supported"),
        // bodies that are not a volume
        ("not json", .badRequest, "malformed JSON"),
        (#"{"name":"v","size":"1Gi""#, .badRequest, "malformed JSON"),
        ("[]", .badRequest, "the request body is not valid"),
        (#""vol""#, .badRequest, "the request body is not valid"),
        ("42", .badRequest, "the request body is not valid"),
        ("null", .badRequest, "the request body is not valid"),
        ("", .badRequest, "the request body is empty"),
    ]

    @Test func everyInvalidCreateIsRefusedAndStoresNothing() async throws {
        let fixture = try VolumeRoutesFixture()
        try await fixture.addNode("node-a")
        try await fixture.api().makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            let before = try await fixture.revision()
            for (body, status, message) in Self.createRows {
                try expectRefused(try await send(client, .post, "/v1/volumes", body), status, message, body)
            }
            // Larger than any volume body: refused before it is read.
            let huge = #"{"name":"v","size":"1Gi","diskSelector":[""# + String(repeating: "a", count: 2 << 20) + #""]}"#
            try expectRefused(
                try await send(client, .post, "/v1/volumes", huge), .contentTooLarge, "larger than", "huge body")
            #expect(try await fixture.revision() == before)
            #expect(try await fixture.store.list(.volumes, selector: .everything).items.isEmpty)
            #expect(try await fixture.store.list(.volumeAttachments, selector: .everything).items.isEmpty)

            // The same fields, valid: created; unknown fields are ignored.
            let good = try await send(
                client, .post, "/v1/volumes",
                #"{"name":"v","size":"1.5Gi","diskSelector":["ssd"],"nodeSelector":["fast"],"snapshotMaxCount":2,"bogus":{"x":1}}"#
            )
            #expect(good.status == .ok)
            let stored = try #require(try await fixture.store.get(Volume.self, "v")).value
            #expect(stored.spec.size.rawValue == 1536 << 20 && stored.spec.diskSelector == ["ssd"])
            _ = try await send(client, .put, "/v1/settings/v2-data-engine", #"{"value":"true"}"#)
            let v2 = try await send(
                client, .post, "/v1/volumes", #"{"name":"v2","size":"1Gi","backendStoreDriver":"v2"}"#)
            #expect(
                try v2.status == .ok && (try JSONObject(Data(v2.body.readableBytesView)).string("dataEngine")) == "v2")
        }
    }

    @Test func everyActionInAWrongStateIsRefusedAndChangesNothing() async throws {
        let fixture = try VolumeRoutesFixture()
        try await fixture.addNode("node-a")
        try await fixture.addNode("node-down", ready: false)
        try await fixture.api().makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
            for body in [
                #"{"name":"vol1","size":"1Gi"}"#, #"{"name":"vol-new","size":"1Gi"}"#,
                #"{"name":"vol-faulted","size":"1Gi"}"#, #"{"name":"vol-attached","size":"1Gi"}"#,
                #"{"name":"vol-local","size":"1Gi","numberOfReplicas":1,"dataLocality":"strict-local"}"#,
                #"{"name":"vol-gone","size":"1Gi"}"#,
            ] {
                #expect(try await send(client, .post, "/v1/volumes", body).status == .ok, "\(body)")
            }
            try await fixture.set("vol1", .detached, .healthy)
            try await fixture.set("vol-faulted", .detached, .faulted)
            try await fixture.set("vol-attached", .attached, .faulted)
            try await fixture.set("vol-local", .detached, .healthy)
            try await fixture.set("vol-gone", .detached, .healthy)
            #expect(try await send(client, .delete, "/v1/volumes/vol-gone", nil).status == .ok)
            _ = try await send(
                client, .post, "/v1/volumes/vol1?action=attach", #"{"hostId":"node-a","attachmentID":"t1"}"#)

            let rows: [(HTTPRequest.Method, String, String?, HTTPResponse.Status, String)] = [
                // attach
                (
                    .post, "vol-gone?action=attach", #"{"hostId":"node-a"}"#, .conflict,
                    "volume vol-gone is being deleted"
                ),
                (.post, "vol-new?action=attach", #"{"hostId":"node-a"}"#, .conflict, "still being created"),
                (.post, "vol1?action=attach", "{}", .badRequest, "hostId is required"),
                (.post, "vol1?action=attach", #"{"hostId":"node-x"}"#, .badRequest, "node node-x not found"),
                (.post, "vol1?action=attach", #"{"hostId":"node-down"}"#, .badRequest, "node node-down is not ready"),
                (.post, "vol1?action=attach", #"{"hostId":5}"#, .badRequest, "field hostId"),
                (.post, "vol1?action=attach", "{", .badRequest, "malformed JSON"),
                (.post, "vol1?action=attach", "[]", .badRequest, "the request body is not valid"),
                (.post, "vol1?action=attach", nil, .badRequest, "the request body is empty"),
                (.post, "nope?action=attach", #"{"hostId":"node-a"}"#, .notFound, "volume nope not found"),
                // detach
                (.post, "nope?action=detach", nil, .notFound, "volume nope not found"),
                (.post, "vol1?action=detach", #"{"forceDetach":"yes"}"#, .badRequest, "field forceDetach"),
                (.post, "vol1?action=detach", "{", .badRequest, "malformed JSON"),
                // salvage: only detached and faulted
                (
                    .post, "vol1?action=salvage", #"{"names":["vol1-r-1"]}"#, .conflict,
                    "invalid robustness state to salvage: healthy"
                ),
                (
                    .post, "vol-attached?action=salvage", #"{"names":["r"]}"#, .conflict,
                    "invalid volume state to salvage: attached"
                ),
                (
                    .post, "vol-new?action=salvage", #"{"names":["r"]}"#, .conflict,
                    "invalid volume state to salvage: creating"
                ),
                (.post, "vol-gone?action=salvage", #"{"names":["r"]}"#, .conflict, "volume vol-gone is being deleted"),
                (.post, "vol-faulted?action=salvage", #"{"names":[]}"#, .badRequest, "needs the names of the replicas"),
                (
                    .post, "vol-faulted?action=salvage", #"{"names":["nope"]}"#, .badRequest,
                    "replica nope is not a replica of volume vol-faulted"
                ),
                (.post, "vol-faulted?action=salvage", #"{"names":"x"}"#, .badRequest, "field names"),
                (.post, "nope?action=salvage", #"{"names":["r"]}"#, .notFound, "volume nope not found"),
                // updateReplicaCount
                (
                    .post, "vol1?action=updateReplicaCount", #"{"replicaCount":0}"#, .badRequest,
                    "replicaCount must be 1 to 20, not 0"
                ),
                (
                    .post, "vol1?action=updateReplicaCount", #"{"replicaCount":21}"#, .badRequest,
                    "replicaCount must be 1 to 20, not 21"
                ),
                (
                    .post, "vol1?action=updateReplicaCount", #"{"replicaCount":-1}"#, .badRequest,
                    "replicaCount must be 1 to 20"
                ),
                (.post, "vol1?action=updateReplicaCount", "{}", .badRequest, "not missing"),
                (.post, "vol1?action=updateReplicaCount", #"{"replicaCount":"3"}"#, .badRequest, "field replicaCount"),
                (
                    .post, "vol-local?action=updateReplicaCount", #"{"replicaCount":2}"#, .badRequest,
                    "strict-local needs numberOfReplicas 1"
                ),
                (
                    .post, "vol-gone?action=updateReplicaCount", #"{"replicaCount":2}"#, .conflict,
                    "volume vol-gone is being deleted"
                ),
                (.post, "nope?action=updateReplicaCount", #"{"replicaCount":2}"#, .notFound, "volume nope not found"),
                // unknown actions, missing volumes
                (.post, "vol1?action=explode", "{}", .badRequest, "volume action \"explode\" is not supported"),
                (.post, "vol1", "{}", .badRequest, "volume action \"\" is not supported"),
                (.get, "nope", nil, .notFound, "volume nope not found"),
                (.delete, "nope", nil, .notFound, "volume nope not found"),
            ]
            let before = try await fixture.revision()
            for (method, path, body, status, message) in rows {
                let response = try await send(client, method, "/v1/volumes/" + path, body)
                try expectRefused(response, status, message, "\(method) \(path) \(body ?? "")")
            }
            // Detaching a ticket that is not there succeeds and changes nothing (Longhorn's detach is idempotent).
            let unknown = try await send(
                client, .post, "/v1/volumes/vol1?action=detach", #"{"attachmentID":"never-made"}"#)
            #expect(unknown.status == .ok)
            #expect(try await fixture.revision() == before)
            let tickets = try #require(try await fixture.store.get(VolumeAttachment.self, "vol1")).value.spec
                .attachmentTickets
            #expect(Array(tickets.keys) == ["t1"])
        }
    }
}
