import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import HTTPTypes
import HummingbirdTesting
import InstanceManagerAPI
import ManagerControllers
import ManagerModel
import ManagerREST
import ManagerStore
import NIOCore
import SwiftProtobuf
import TestSupport
import Testing

/// An InstanceManager resource's instance maps against a real `hornbill instance-manager`: a V1
/// replica process it starts shows in the resource and in /v1/instancemanagers, and goes when it is
/// deleted. The loop's resync is a minute, so the changes arrive through InstanceWatch.
@Suite(.serialized, .timeLimit(.minutes(2))) struct InstanceManagerInstancesTests {
    private static let slowResync = ReconcileOptions(
        resyncInterval: .seconds(60), retryDelayBase: .milliseconds(50), retryDelayMax: .milliseconds(500))

    private func withInstanceService<Result: Sendable>(
        _ address: InstanceManagerAddress,
        _ body: @Sendable (Imrpc_InstanceService.Client<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: address.host, port: address.instanceServicePort), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { client in
            try await body(Imrpc_InstanceService.Client(wrapping: client))
        }
    }

    /// A V1 replica process that sleeps: `hornbill instance-manager` runs any binary it is given.
    private func replicaProcess(_ name: String, seconds: Int = 600) -> Imrpc_InstanceCreateRequest {
        var request = Imrpc_InstanceCreateRequest()
        request.spec.name = name
        request.spec.type = "replica"
        request.spec.volumeName = "vol"
        request.spec.dataEngine = .v1
        request.spec.backendStoreDriver = .v1
        request.spec.processInstanceSpec.binary = "/bin/sleep"
        request.spec.processInstanceSpec.args = ["\(seconds)"]
        return request
    }

    private func object(_ response: TestResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any] ?? [:]
    }

    @Test func aReplicaProcessAppearsInTheResourceAndGoesWhenDeleted() async throws {
        let scratch = try StoreScratch()
        let tgt = try TgtDaemon()
        let manager = try InstanceManagerDaemon(tgt: tgt, scratch: scratch)
        let controllers = NodeControllers(
            store: scratch.store, nodeName: "node-1", address: "127.0.0.1", dataDirectory: scratch.dataDirectory,
            instanceManagers: InstanceManagerAddresses(v1: manager.address, v2: manager.address),
            options: Self.slowResync)
        let v1 = InstanceManager.name(nodeName: "node-1", dataEngine: .v1)
        let api = ManagerAPI(groups: [InstanceManagerRoutes(store: scratch.store)])
        try await whileRunning(controllers) {
            _ = try await until("V1 instance manager running") {
                try await scratch.store.get(InstanceManager.self, v1)?.value.status.currentState == .running
                    ? true : nil
            }
            #expect(
                try await scratch.store.get(InstanceManager.self, v1)?.value.status.instanceReplicas.isEmpty == true)

            _ = try await withInstanceService(manager.address) { service in
                try await service.instanceCreate(replicaProcess("vol-r-1"))
            }
            let shown = try await until("the replica in the resource") { () async throws -> InstanceProcess? in
                let status = try await scratch.store.get(InstanceManager.self, v1)?.value.status
                guard let replica = status?.instanceReplicas["vol-r-1"], replica.status.state == .running else {
                    return nil
                }
                return replica
            }
            #expect(shown.spec.name == "vol-r-1" && shown.spec.dataEngine == .v1 && shown.status.type == .replica)
            let status = try #require(try await scratch.store.get(InstanceManager.self, v1)?.value.status)
            #expect(status.instanceEngines.isEmpty && status.instances["vol-r-1"] == shown)

            try await api.makeApplication(host: "127.0.0.1", port: 0).test(.live) { client in
                let listed = try object(try await client.execute(uri: "/v1/instancemanagers/\(v1)", method: .get))
                let replicas = listed["instanceReplicas"] as? [String: Any]
                let replica = replicas?["vol-r-1"] as? [String: Any]
                #expect((replica?["status"] as? [String: Any])?["state"] as? String == "running")
                #expect((replica?["status"] as? [String: Any])?["type"] as? String == "replica")
                #expect((replica?["spec"] as? [String: Any])?["name"] as? String == "vol-r-1")
                #expect((listed["instances"] as? [String: Any])?["vol-r-1"] != nil)
                #expect((listed["instanceEngines"] as? [String: Any])?.isEmpty == true)
            }

            var request = Imrpc_InstanceDeleteRequest()
            request.name = "vol-r-1"
            request.type = "replica"
            request.dataEngine = .v1
            request.backendStoreDriver = .v1
            let delete = request
            _ = try await withInstanceService(manager.address) { service in try await service.instanceDelete(delete) }
            _ = try await until("the replica gone from the resource") {
                let status = try await scratch.store.get(InstanceManager.self, v1)?.value.status
                return status?.instanceReplicas["vol-r-1"] == nil && status?.instances["vol-r-1"] == nil ? true : nil
            }

            // Nothing changed since: the resource is not written again.
            let settled = try #require(try await scratch.store.get(InstanceManager.self, v1)).resourceVersion
            try await Task.sleep(for: .seconds(1))
            #expect(try await scratch.store.get(InstanceManager.self, v1)?.resourceVersion == settled)

            // An instance manager that stops shows no instances (the process outlives the
            // instance manager's SIGKILL, so it is one that ends by itself soon).
            _ = try await withInstanceService(manager.address) { service in
                try await service.instanceCreate(replicaProcess("vol-r-2", seconds: 15))
            }
            _ = try await until("the second replica in the resource") {
                try await scratch.store.get(InstanceManager.self, v1)?.value.status.instanceReplicas["vol-r-2"]
            }
            manager.kill()
            _ = try await until("stopped, without instances") { () async throws -> Bool? in
                let status = try await scratch.store.get(InstanceManager.self, v1)?.value.status
                return status?.currentState == .stopped && status?.instanceReplicas.isEmpty == true ? true : nil
            }
        }
    }
}
