// A replica taken out of a running engine by the engine's instance handler, against a real
// `hornbill tgt` and `hornbill instance-manager`: the engine runs over two replicas, one leaves
// the engine's `spec.replicaAddressMap` (as the volume controller does with a failed replica),
// the handler removes it from the running engine (ReplicaRemove) and drops it from the status;
// then the replica stops, which a V2 replica whose lvol is the engine's RAID base refuses while
// the engine holds it. The volume is still served from the other replica.

import Foundation
import ManagerControllers
import ManagerModel
import ManagerStore
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(3))) struct EngineReplicaRemovalTests {
    private static let volumeSize: Int64 = 16 << 20

    @Test func aV2ReplicaLeavesTheRunningEngineThenStops() async throws {
        let node = try InstanceTestNode()
        let disk = try await node.readyBlockDisk()
        let names = ["vol-r-0000000a", "vol-r-0000000b"]
        for name in names {
            try await node.create(
                replicaResource(
                    name, volume: "vol", size: Self.volumeSize, engine: .v2, diskID: disk.diskUUID,
                    diskPath: disk.diskPath, dataDirectoryName: name), name)
        }
        try await node.whileRunning {
            try await removeOneReplica(node, names: names, engine: .v2)
        }
    }

    @Test func aV1ReplicaLeavesTheRunningEngineThenStops() async throws {
        let node = try InstanceTestNode()
        let names = ["vol-r-0000000c", "vol-r-0000000d"]
        for name in names {
            try await node.create(
                replicaResource(
                    name, volume: "vol", size: Self.volumeSize, engine: .v1, diskID: "disk-uuid",
                    diskPath: "\(node.scratch.path)/v1-disk", dataDirectoryName: name), name)
        }
        try await node.whileRunning {
            try await removeOneReplica(node, names: names, engine: .v1)
        }
    }

    /// Runs the engine over both replicas, takes the second out of its spec, and expects it out of
    /// the running engine, then stopped, with the engine still serving.
    private func removeOneReplica(_ node: InstanceTestNode, names: [String], engine: DataEngine) async throws {
        var addresses: [String: String] = [:]
        for name in names {
            let running = try await node.waitFor(Replica.self, name, "running") {
                $0.status.currentState == .running && $0.status.port > 0
            }
            addresses[name] = "\(running.status.storageIP):\(running.status.port)"
        }
        try await node.create(
            engineResource(
                "vol-e-0", volume: "vol", size: Self.volumeSize, engine: engine, frontend: .nbd, replicas: addresses),
            "vol-e-0")
        let started = try await node.waitFor(Engine.self, "vol-e-0", "running over both replicas") {
            $0.status.currentState == .running && $0.status.replicaModeMap.count == 2
        }
        #expect(started.status.replicaModeMap.values.allSatisfy { $0 == .readWrite })
        let (kept, removed) = (names[0], names[1])

        try await node.change(Engine.self, "vol-e-0") { $0.spec.replicaAddressMap.removeValue(forKey: removed) }
        let after = try await node.waitFor(Engine.self, "vol-e-0", "without the removed replica") {
            $0.status.currentReplicaAddressMap[removed] == nil && $0.status.replicaModeMap[removed] == nil
        }
        #expect(after.status.currentState == .running)
        #expect(after.status.currentReplicaAddressMap == [kept: addresses[kept] ?? ""])
        #expect(after.status.replicaModeMap == [kept: .readWrite])

        try await node.change(Replica.self, removed) { $0.spec.desireState = .stopped }
        let stopped = try await node.waitFor(Replica.self, removed, "stopped") { $0.status.currentState == .stopped }
        #expect(stopped.status.port == 0)
        #expect(try await nbdSize(after.status.endpoint) == Self.volumeSize)
        let still = try #require(try await node.get(Engine.self, "vol-e-0"))
        #expect(still.status.currentState == .running && still.status.replicaModeMap == [kept: .readWrite])

        try await node.change(Engine.self, "vol-e-0") { askDeletion(&$0.metadata) }
        try await node.waitForDeletion(Engine.self, "vol-e-0")
        for name in names {
            try await node.change(Replica.self, name) { askDeletion(&$0.metadata) }
            try await node.waitForDeletion(Replica.self, name)
        }
    }
}
