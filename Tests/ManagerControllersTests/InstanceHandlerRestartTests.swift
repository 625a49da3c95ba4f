import Foundation
import InstanceManagerAPI
import ManagerModel
import ManagerStore
import TestSupport
import Testing

@testable import ManagerControllers

/// A handler killed between two of its steps, and a new one that finishes the work: the states a
/// kill leaves are written here as the killed handler would have left them.
@Suite(.serialized, .timeLimit(.minutes(3))) struct InstanceHandlerRestartTests {
    private static let volumeSize: Int64 = 16 << 20

    /// The replica as the handler writes it just before its InstanceCreate.
    private func startingReplica(_ node: InstanceTestNode, _ name: String, volume: String) -> Replica {
        var replica = replicaResource(
            name, volume: volume, size: Self.volumeSize, engine: .v1, diskID: "disk-uuid",
            diskPath: "\(node.scratch.path)/v1-disk", dataDirectoryName: "\(volume)-0a1b2c3d")
        replica.status.ownerID = "node-1"
        replica.status.instanceManagerName = InstanceManager.name(nodeName: "node-1", dataEngine: .v1)
        replica.status.currentState = .starting
        replica.status.starting = true
        return replica
    }

    @Test func killedBeforeItsCreateTheNextHandlerCreatesTheInstance() async throws {
        let node = try InstanceTestNode()
        try await node.create(startingReplica(node, "vol4-r-0a1b2c3d", volume: "vol4"), "vol4-r-0a1b2c3d")
        try await node.whileRunning {
            let running = try await node.waitFor(Replica.self, "vol4-r-0a1b2c3d", "running") {
                $0.status.currentState == .running
            }
            #expect(running.status.started && canConnect(port: running.status.port))
        }
    }

    @Test func killedAfterItsCreateTheNextHandlerFollowsTheInstanceItMade() async throws {
        let node = try InstanceTestNode()
        let replica = startingReplica(node, "vol5-r-0a1b2c3d", volume: "vol5")
        try await node.create(replica, "vol5-r-0a1b2c3d")
        let client = InstanceServiceClient(address: node.address)
        let request = try InstanceCreateRequests.v1Replica(replica, address: "127.0.0.1", launch: node.configuration.v1Launch)
        let created = try await client.create(request)
        let uuid = created.status.uuid
        #expect(!uuid.isEmpty)
        try await node.whileRunning {
            let running = try await node.waitFor(Replica.self, "vol5-r-0a1b2c3d", "running") {
                $0.status.currentState == .running
            }
            // The instance it made, not a second one.
            #expect(running.status.uuid == uuid && running.status.port == Int(created.status.portStart))
            let listed = try await client.get(name: "vol5-r-0a1b2c3d", type: "replica", dataEngine: .v1)
            #expect(listed?.status.uuid == uuid)
        }
    }

    @Test func killedAfterItsDeleteCallTheNextHandlerDeletesTheResource() async throws {
        let node = try InstanceTestNode()
        let name = "vol6-r-0a1b2c3d"
        try await node.create(startingReplica(node, name, volume: "vol6"), name)
        let port = try await node.whileRunning {
            try await node.waitFor(Replica.self, name, "running") { $0.status.currentState == .running }.status.port
        }
        // Deletion asked for; the instance deleted by a handler that was killed before it went on.
        try await node.change(Replica.self, name) { askDeletion(&$0.metadata) }
        try await InstanceServiceClient(address: node.address).delete(
            name: name, type: "replica", dataEngine: .v1, diskUUID: "disk-uuid", cleanupRequired: true)
        try await node.whileRunning {
            try await node.waitForDeletion(Replica.self, name)
        }
        #expect(!canConnect(port: port))
        #expect(!FileManager.default.fileExists(atPath: "\(node.scratch.path)/v1-disk/replicas/vol6-0a1b2c3d"))
    }
}
