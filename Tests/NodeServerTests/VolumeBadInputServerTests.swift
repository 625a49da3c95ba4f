// The bad-input matrix of /v1/volumes end to end, through a running `hornbill server`: one
// representative request of each class (a create with an invalid field, a refused data engine, an
// unknown tag, a body that is not JSON or not an object; an action in a state that does not allow
// it, out of range, unknown, on a missing volume, with a malformed body) gets its HTTP status and
// the go-rancher error envelope, and the volumes read before and after are the same. The whole
// matrix runs in-process in ManagerRESTTests.VolumeBadInputTests.

import Foundation
import Glibc
import ManagerClient
import TestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// One request and its raw answer: the status and the body, whatever they are.
private func exchange(_ method: String, _ url: String, _ body: String?) async throws -> (status: Int, body: Data) {
    var request = URLRequest(url: try #require(URL(string: url)), timeoutInterval: 10)
    request.httpMethod = method
    request.httpBody = body.map { Data($0.utf8) }
    // Completion-handler API: on Linux the async one can resume twice when a task is cancelled.
    return try await withCheckedThrowingContinuation { continuation in
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error {
                continuation.resume(throwing: error)
            } else if let http = response as? HTTPURLResponse {
                continuation.resume(returning: (http.statusCode, data ?? Data()))
            } else {
                continuation.resume(throwing: URLError(.badServerResponse))
            }
        }.resume()
    }
}

@Suite(.serialized, .timeLimit(.minutes(3))) struct VolumeBadInputServerTests {
    @Test func badInputIsRefusedAndChangesNothing() async throws {
        let node = try NodeUnderTest()
        defer { node.stop() }
        let api = node.url
        _ = try await eventually("the manager answers", seconds: 60) { () -> Bool? in
            try hornbill(["setting", "set", "storage-minimal-available-percentage", "0", "--server", api]).status == 0
                ? true : nil
        }
        let created = try hornbill([
            "volume", "create", "vol1", "--size", "64Mi", "--replicas", "1", "--wait", "--server", api,
        ])
        #expect(created.status == 0, "\(created.errors)")

        // Everything a refusal must leave as it was: the volumes and their tickets.
        func snapshot() async throws -> [String] {
            let list = try await exchange("GET", api + "/v1/volumes", nil)
            let volumes = try #require(try JSONSerialization.jsonObject(with: list.body) as? [String: Any])
            let data = try #require(volumes["data"] as? [[String: Any]])
            return data.map { volume in
                let attachments =
                    (volume["volumeAttachment"] as? [String: Any])?["attachments"] as? [String: Any] ?? [:]
                return [
                    volume["name"], volume["size"], volume["numberOfReplicas"], volume["dataEngine"],
                    volume["frontend"],
                    volume["diskSelector"], volume["nodeSelector"], volume["staleReplicaTimeout"],
                ].map { "\($0 ?? "nil")" }.joined(separator: " ") + " tickets \(attachments.keys.sorted())"
            }.sorted()
        }
        let before = try await snapshot()
        #expect(before.count == 1 && before[0].hasPrefix("vol1 67108864 1 v1 blockdev"), "\(before)")

        let rows: [(String, String, String?, Int, String)] = [
            ("POST", "/v1/volumes", #"{"name":"BAD","size":"1Gi"}"#, 400, "invalid volume name"),
            ("POST", "/v1/volumes", #"{"name":"v","size":"lots"}"#, 400, "is not a quantity"),
            (
                "POST", "/v1/volumes", #"{"name":"v","size":"1Gi","numberOfReplicas":21}"#, 400,
                "numberOfReplicas 21 is out of range"
            ),
            (
                "POST", "/v1/volumes", #"{"name":"v","size":"1Gi","dataEngine":"v2"}"#, 403,
                "v2-data-engine data engine is not enabled"
            ),
            (
                "POST", "/v1/volumes", #"{"name":"v","size":"1Gi","frontend":"iscsi"}"#, 400,
                "frontend iscsi is not supported"
            ),
            (
                "POST", "/v1/volumes", #"{"name":"v","size":"1Gi","diskSelector":["nvme"]}"#, 400,
                "specified disk tag nvme does not exist"
            ),
            (
                "POST", "/v1/volumes", #"{"name":"v","size":"1Gi","replicaSoftAntiAffinity":"maybe"}"#, 400,
                "invalid VolumeSettingOverride"
            ),
            (
                "POST", "/v1/volumes", #"{"name":"v","size":"1Gi","staleReplicaTimeout":-1}"#, 400,
                "staleReplicaTimeout -1 is negative"
            ),
            ("POST", "/v1/volumes", #"{"name":["v"],"size":"1Gi"}"#, 400, "field name"),
            ("POST", "/v1/volumes", "not json", 400, "malformed JSON"),
            ("POST", "/v1/volumes", #"{"name":"vol1","size":"1Gi"}"#, 409, "volume vol1 already exists"),
            (
                "POST", "/v1/volumes/vol1?action=updateReplicaCount", #"{"replicaCount":0}"#, 400,
                "replicaCount must be 1 to 20"
            ),
            ("POST", "/v1/volumes/vol1?action=salvage", #"{"names":["vol1-r-x"]}"#, 409, "to salvage"),
            ("POST", "/v1/volumes/vol1?action=attach", #"{"hostId":"node-z"}"#, 400, "node node-z not found"),
            ("POST", "/v1/volumes/vol1?action=attach", "{", 400, "malformed JSON"),
            ("POST", "/v1/volumes/vol1?action=explode", "{}", 400, "volume action \"explode\" is not supported"),
            ("POST", "/v1/volumes/nope?action=attach", #"{"hostId":"node-a"}"#, 404, "volume nope not found"),
            ("GET", "/v1/volumes/nope", nil, 404, "volume nope not found"),
            ("DELETE", "/v1/volumes/nope", nil, 404, "volume nope not found"),
        ]
        let codes = [400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict"]
        for (method, path, body, status, message) in rows {
            let row = "\(method) \(path) \(body ?? "")"
            let answer = try await exchange(method, api + path, body)
            #expect(answer.status == status, "\(row)")
            let envelope = try JSONSerialization.jsonObject(with: answer.body) as? [String: Any] ?? [:]
            #expect(
                envelope["type"] as? String == "error" && envelope["status"] as? Int == status, "\(row): \(envelope)")
            #expect(envelope["code"] as? String == codes[status], "\(row): \(envelope)")
            #expect(envelope["detail"] is String, "\(row)")
            #expect((envelope["message"] as? String ?? "").contains(message), "\(row): \(envelope["message"] ?? "")")
        }
        // A ticket that is not there: detached already, nothing to do (Longhorn's detach is idempotent).
        let detach = try await exchange(
            "POST", api + "/v1/volumes/vol1?action=detach", #"{"attachmentID":"never-made"}"#)
        #expect(detach.status == 200)
        #expect(try await snapshot() == before)
    }
}
