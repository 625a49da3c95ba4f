import Foundation
import ManagerControllers
import ManagerModel
import ManagerStore
import TestSupport
import Testing

/// The instance handler follows its instance manager's InstanceWatch: with the loop's resync a
/// minute away, an instance that exits is seen within seconds (the watch lists the instances and
/// queues the resources whose instance changed), and its neighbour is left as it was.
@Suite(.serialized, .timeLimit(.minutes(3))) struct InstanceHandlerWatchTests {
    private static let slowResync = ReconcileOptions(
        resyncInterval: .seconds(60), retryDelayBase: .milliseconds(50), retryDelayMax: .milliseconds(500))

    @Test func aV1ReplicaProcessThatDiesIsSeenThroughTheWatchAndItsNeighbourIsLeftAlone() async throws {
        let node = try InstanceTestNode()
        let diskPath = "\(node.scratch.path)/v1-disk"
        let names = ["vol1-r-0a1b2c3d", "vol2-r-0a1b2c3d"]
        for (index, name) in names.enumerated() {
            try await node.create(
                replicaResource(
                    name, volume: "vol\(index + 1)", size: 16 << 20, engine: .v1, diskID: "disk-uuid",
                    diskPath: diskPath, dataDirectoryName: "vol\(index + 1)-0a1b2c3d"), name)
        }
        let controllers = InstanceControllers(
            store: node.scratch.store, configuration: node.configuration, options: Self.slowResync)
        let task = Task { await controllers.run() }
        defer { task.cancel() }
        for name in names {
            _ = try await node.waitFor(Replica.self, name, "running") { $0.status.currentState == .running }
        }
        let neighbour = try #require(try await node.scratch.store.get(Replica.self, names[1]))

        let killed = try await offThread { try runCommand(["pkill", "-KILL", "-f", "\(diskPath)/replicas/vol1-0a1b2c3d"]) }
        #expect(killed.status == 0, "\(killed.output)")
        _ = try await node.waitFor(Replica.self, names[0], "error", within: 20) {
            $0.status.currentState == .error
        }
        // The replica that kept running was not written again: nothing of it changed.
        let after = try #require(try await node.scratch.store.get(Replica.self, names[1]))
        #expect(after.resourceVersion == neighbour.resourceVersion)
        #expect(after.value.status.currentState == .running)
        task.cancel()
        await task.value
    }
}
