import Foundation
import HTTPTypes
import HummingbirdTesting
import ManagerControllers
import ManagerModel
import ManagerREST
import ManagerStore
import NIOCore
import Testing

/// The controllers on their loops with the REST API over the same store: changes made over HTTP
/// reach the disks.
@Suite(.timeLimit(.minutes(2))) struct NodeLoopRESTTests {
    private func object(_ response: TestResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any] ?? [:]
    }

    @Test func aDiskAddedOverHTTPBecomesReadyAndCanBeRemovedOnceDisabled() async throws {
        let scratch = try StoreScratch()
        let controllers = NodeControllers(
            store: scratch.store, nodeName: "node-1", address: "127.0.0.1", dataDirectory: scratch.dataDirectory,
            instanceManagers: InstanceManagerAddresses(v1: nil, v2: nil), options: fastLoop)
        let api = ManagerAPI(groups: [NodeRoutes(store: scratch.store), InstanceManagerRoutes(store: scratch.store)])
        let extra = "\(scratch.path)/extra"
        try await whileRunning(controllers) {
            try await api.makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
                // Registered, its default disk given a status (updates wait for that).
                _ = try await until("node registered") {
                    try await scratch.store.get(Node.self, "node-1")?.value.status.diskStatus["default-disk"]
                }
                let add = try await client.execute(
                    uri: "/v1/nodes/node-1?action=diskUpdate", method: .post,
                    body: ByteBuffer(
                        string:
                            #"{"disks":{"default-disk":{"path":"\#(scratch.dataDirectory)/disks/default","allowScheduling":true},"#
                            + #""extra":{"path":"\#(extra)","allowScheduling":true,"tags":["fast"]}}}"#))
                #expect(add.status == .ok)
                let ready = try await until("extra disk ready") { () async throws -> [String: Any]? in
                    let node = try object(try await client.execute(uri: "/v1/nodes/node-1", method: .get))
                    let disk = (node["disks"] as? [String: Any])?["extra"] as? [String: Any]
                    let conditions = disk?["conditions"] as? [String: Any]
                    return (conditions?["Ready"] as? [String: Any])?["status"] as? String == "True" ? disk : nil
                }
                let uuid = try #require(ready["diskUUID"] as? String)
                #expect(FileManager.default.fileExists(atPath: "\(extra)/longhorn-disk.cfg"))
                #expect((ready["storageMaximum"] as? Int ?? 0) > 0)

                // Removing it while it allows scheduling is refused; disabled first, it goes.
                let defaultDisk =
                    #""default-disk":{"path":"\#(scratch.dataDirectory)/disks/default","allowScheduling":true}"#
                let refused = try await client.execute(
                    uri: "/v1/nodes/node-1?action=diskUpdate", method: .post,
                    body: ByteBuffer(string: "{\"disks\":{\(defaultDisk)}}"))
                #expect(refused.status == .badRequest)
                #expect((try object(refused)["message"] as? String)?.contains("Please disable the disk") == true)
                let disable = try await client.execute(
                    uri: "/v1/nodes/node-1?action=diskUpdate", method: .post,
                    body: ByteBuffer(
                        string: #"{"disks":{\#(defaultDisk),"extra":{"path":"\#(extra)","allowScheduling":false}}}"#))
                #expect(disable.status == .ok)
                _ = try await until("extra disk not schedulable") { () async throws -> Bool? in
                    let status = try await scratch.node().value.status.diskStatus["extra"]
                    return status?.conditions.condition(ofType: "Schedulable")?.status == .isFalse ? true : nil
                }
                let remove = try await client.execute(
                    uri: "/v1/nodes/node-1?action=diskUpdate", method: .post,
                    body: ByteBuffer(string: "{\"disks\":{\(defaultDisk)}}"))
                #expect(remove.status == .ok)
                _ = try await until("extra disk gone from the status") {
                    try await scratch.node().value.status.diskStatus["extra"] == nil ? true : nil
                }
                // Its directory and config stay: added again, it is the same disk.
                #expect(FileManager.default.fileExists(atPath: "\(extra)/longhorn-disk.cfg"))
                _ = uuid
            }
        }
    }
}
