import Foundation
import ManagerControllers
import ManagerModel
import ManagerStore
import TestSupport
import Testing

/// The instance handler against a real `hornbill tgt` and `hornbill instance-manager`: Replica and
/// Engine resources written as the volume controllers write them, run, stopped and deleted.
@Suite(.serialized, .timeLimit(.minutes(3))) struct InstanceHandlerTests {
    private static let volumeSize: Int64 = 16 << 20

    @Test func aV2ReplicaAndEngineRunStopAndAreDeleted() async throws {
        let node = try InstanceTestNode()
        let disk = try await node.readyBlockDisk()
        let replicaName = "vol-r-0a1b2c3d"
        let lvol = "\(disk.diskName)/\(replicaName)"
        try await node.create(
            replicaResource(
                replicaName, volume: "vol", size: Self.volumeSize, engine: .v2, diskID: disk.diskUUID,
                diskPath: disk.diskPath, dataDirectoryName: "vol-0a1b2c3d"), replicaName)
        try await node.whileRunning {
            let running = try await node.waitFor(Replica.self, replicaName, "running") {
                $0.status.currentState == .running
            }
            let status = running.status
            #expect(status.started && status.port > 0 && status.storageIP == "127.0.0.1" && status.ip == "127.0.0.1")
            #expect(status.instanceManagerName == InstanceManager.name(nodeName: "node-1", dataEngine: .v2))
            #expect(status.ownerID == "node-1" && !status.uuid.isEmpty)
            #expect(try node.lvolAliases().contains(lvol))
            #expect(canConnect(port: status.port), "the replica is exposed on its port")

            // Stopped: unexposed, the lvol kept.
            try await node.change(Replica.self, replicaName) { $0.spec.desireState = .stopped }
            let stopped = try await node.waitFor(Replica.self, replicaName, "stopped") {
                $0.status.currentState == .stopped
            }
            #expect(stopped.status.port == 0 && stopped.status.ip == "" && !stopped.status.started)
            #expect(!canConnect(port: status.port), "no longer exposed")
            #expect(try node.lvolAliases().contains(lvol))

            // Running again, then an engine over it with an NBD frontend.
            try await node.change(Replica.self, replicaName) { $0.spec.desireState = .running }
            let again = try await node.waitFor(Replica.self, replicaName, "running again") {
                $0.status.currentState == .running && $0.status.port > 0
            }
            let replicaAddress = "\(again.status.storageIP):\(again.status.port)"
            try await node.create(
                engineResource(
                    "vol-e-0", volume: "vol", size: Self.volumeSize, engine: .v2, frontend: .nbd,
                    replicas: [replicaName: replicaAddress]), "vol-e-0")
            let engine = try await node.waitFor(Engine.self, "vol-e-0", "running with its endpoint") {
                $0.status.currentState == .running && !$0.status.endpoint.isEmpty && !$0.status.replicaModeMap.isEmpty
            }
            #expect(engine.status.endpoint.hasPrefix("nbd://127.0.0.1:"), "\(engine.status.endpoint)")
            #expect(engine.status.currentReplicaAddressMap == [replicaName: replicaAddress])
            #expect(engine.status.replicaModeMap == [replicaName: .readWrite])
            #expect(engine.status.currentSize.rawValue == Self.volumeSize && engine.status.started)
            #expect(try await nbdSize(engine.status.endpoint) == Self.volumeSize)

            // Deletion asked for on both: the instances go, the lvol is destroyed, the resources go.
            try await node.change(Engine.self, "vol-e-0") { askDeletion(&$0.metadata) }
            try await node.waitForDeletion(Engine.self, "vol-e-0")
            try await node.change(Replica.self, replicaName) { askDeletion(&$0.metadata) }
            try await node.waitForDeletion(Replica.self, replicaName)
            #expect(try !node.lvolAliases().contains(lvol))
            #expect(!canConnect(port: again.status.port))
        }
    }

    @Test func aV1ReplicaAndEngineServeNBDAndDeletionRemovesTheDirectory() async throws {
        let node = try InstanceTestNode()
        let diskPath = "\(node.scratch.path)/v1-disk"
        let replicaName = "vol1-r-0a1b2c3d"
        let directory = "\(diskPath)/replicas/vol1-0a1b2c3d"
        try await node.create(
            replicaResource(
                replicaName, volume: "vol1", size: Self.volumeSize, engine: .v1, diskID: "disk-uuid",
                diskPath: diskPath, dataDirectoryName: "vol1-0a1b2c3d"), replicaName)
        // An engine asking for a frontend this node's V1 controller cannot give.
        try await node.create(
            engineResource(
                "vol2-e-0", volume: "vol2", size: Self.volumeSize, engine: .v1, frontend: .blockdev,
                replicas: ["vol2-r-00000000": "127.0.0.1:1"]), "vol2-e-0")
        try await node.whileRunning {
            let replica = try await node.waitFor(Replica.self, replicaName, "running") {
                $0.status.currentState == .running && $0.status.port > 0
            }
            #expect(FileManager.default.fileExists(atPath: directory))
            #expect(replica.status.instanceManagerName == InstanceManager.name(nodeName: "node-1", dataEngine: .v1))

            let refused = try await node.waitFor(Engine.self, "vol2-e-0", "refused") { $0.status.currentState == .error }
            let condition = try #require(refused.status.conditions.condition(ofType: InstanceCondition.instanceCreation))
            #expect(condition.status == .isFalse && condition.reason == InstanceCondition.creationFailure)
            #expect(condition.message.contains("blockdev") && condition.message.contains("nbd"), "\(condition.message)")

            let replicaAddress = "\(replica.status.storageIP):\(replica.status.port)"
            try await node.create(
                engineResource(
                    "vol1-e-0", volume: "vol1", size: Self.volumeSize, engine: .v1, frontend: .nbd,
                    replicas: [replicaName: replicaAddress]), "vol1-e-0")
            let engine = try await node.waitFor(Engine.self, "vol1-e-0", "running with its endpoint") {
                $0.status.currentState == .running && !$0.status.endpoint.isEmpty && !$0.status.replicaModeMap.isEmpty
            }
            #expect(engine.status.endpoint == "nbd://127.0.0.1:\(engine.status.port)/vol1", "\(engine.status.endpoint)")
            #expect(engine.status.replicaModeMap == [replicaName: .readWrite])
            #expect(try await nbdSize(engine.status.endpoint) == Self.volumeSize)

            // Stopping the engine stops its process; deleting both removes the replica's directory.
            try await node.change(Engine.self, "vol1-e-0") { $0.spec.desireState = .stopped }
            let stopped = try await node.waitFor(Engine.self, "vol1-e-0", "stopped") {
                $0.status.currentState == .stopped
            }
            #expect(stopped.status.endpoint.isEmpty && stopped.status.instanceManagerName.isEmpty)
            #expect(!canConnect(port: engine.status.port))
            for name in ["vol1-e-0", "vol2-e-0"] {
                try await node.change(Engine.self, name) { askDeletion(&$0.metadata) }
                try await node.waitForDeletion(Engine.self, name)
            }
            try await node.change(Replica.self, replicaName) { askDeletion(&$0.metadata) }
            try await node.waitForDeletion(Replica.self, replicaName)
            #expect(!FileManager.default.fileExists(atPath: directory))
            #expect(!canConnect(port: replica.status.port))
        }
    }

    /// After the node's tgt and instance manager restarted, the store still says the disk is
    /// ready, but the instance manager has not loaded its lvstore yet (NotFound): the replica
    /// waits, `starting`, never `error` (the volume controller would take that for a failed
    /// replica). So it does while the node reports the disk not checked yet; a disk the node found
    /// broken is a refusal; once the node's check has loaded the disk again, the replica runs.
    @Test func aV2ReplicaWaitsForItsDiskAfterARestartAndFailsOnlyOnABrokenOne() async throws {
        let node = try InstanceTestNode()
        let disk = try await node.readyBlockDisk()
        try await node.restartDataPlane()
        let replicaName = "vol4-r-0a1b2c3d"
        try await node.create(
            replicaResource(
                replicaName, volume: "vol4", size: Self.volumeSize, engine: .v2, diskID: disk.diskUUID,
                diskPath: disk.diskPath, dataDirectoryName: "vol4-0a1b2c3d"), replicaName)
        try await node.whileRunning {
            let waiting = try await node.waitFor(Replica.self, replicaName, "waiting for its lvstore") {
                $0.status.conditions.condition(ofType: InstanceCondition.instanceCreation)?.reason
                    == InstanceCondition.waiting
            }
            let message = waiting.status.conditions.condition(ofType: InstanceCondition.instanceCreation)?.message ?? ""
            #expect(message.contains("lvstore block-1"), "\(message)")
            try await Self.staysWaiting(node, replicaName, for: .seconds(3))

            try await Self.setReady(node, .isFalse, reason: "NoDiskInfo", "Disk block-1 is not ready: disk is not in ready state")
            _ = try await node.waitFor(Replica.self, replicaName, "waiting for the disk's check") {
                $0.status.conditions.condition(ofType: InstanceCondition.instanceCreation)?.message
                    .contains("disk is not in ready state") == true
            }
            try await Self.staysWaiting(node, replicaName, for: .seconds(2))

            try await Self.setReady(node, .isFalse, reason: "DiskNotReady", "Disk block-1 is not ready: it is gone")
            let refused = try await node.waitFor(Replica.self, replicaName, "failed on a broken disk") {
                $0.status.currentState == .error
            }
            let condition = try #require(refused.status.conditions.condition(ofType: InstanceCondition.instanceCreation))
            #expect(condition.reason == InstanceCondition.creationFailure && condition.message.contains("it is gone"))

            let reloaded = try await node.checkDisksUntilReady()
            #expect(reloaded.diskUUID == disk.diskUUID, "the lvstore on the file is loaded again, not made anew")
            let running = try await node.waitFor(Replica.self, replicaName, "running") {
                $0.status.currentState == .running
            }
            #expect(running.status.conditions.isTrue(InstanceCondition.instanceCreation))
            #expect(canConnect(port: running.status.port))
        }
    }

    /// `name` is `starting` and waiting throughout `duration` (it is tried again every second).
    private static func staysWaiting(_ node: InstanceTestNode, _ name: String, for duration: Duration) async throws {
        let clock = ContinuousClock()
        let end = clock.now + duration
        while clock.now < end {
            let replica = try #require(try await node.get(Replica.self, name))
            let condition = replica.status.conditions.condition(ofType: InstanceCondition.instanceCreation)
            #expect(replica.status.currentState == .starting && condition?.reason == InstanceCondition.waiting, "\(replica.status)")
            guard replica.status.currentState == .starting else { return }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Writes block-1's Ready condition as the node controller would.
    private static func setReady(
        _ node: InstanceTestNode, _ status: ConditionStatus, reason: String, _ message: String
    ) async throws {
        try await node.change(Node.self, "node-1") { value in
            guard var disk = value.status.diskStatus["block-1"] else { return }
            _ = disk.conditions.setCondition(DiskConditionType.ready, status: status, reason: reason, message: message, now: Date())
            value.status.diskStatus["block-1"] = disk
        }
    }

    @Test func anUnreachableInstanceManagerIsReportedAndTheInstanceRunsOnceItIsBack() async throws {
        let node = try InstanceTestNode(startingInstanceManager: false)
        let replicaName = "vol3-r-0a1b2c3d"
        try await node.create(
            replicaResource(
                replicaName, volume: "vol3", size: Self.volumeSize, engine: .v1, diskID: "disk-uuid",
                diskPath: "\(node.scratch.path)/v1-disk", dataDirectoryName: "vol3-0a1b2c3d"), replicaName)
        try await node.whileRunning {
            let unknown = try await node.waitFor(Replica.self, replicaName, "unknown") {
                $0.status.currentState == .unknown
            }
            let condition = try #require(unknown.status.conditions.condition(ofType: InstanceCondition.instanceCreation))
            #expect(condition.status == .isFalse && condition.reason == InstanceCondition.instanceManagerUnreachable)
            #expect(condition.message.contains("cannot be reached"), "\(condition.message)")

            try node.startInstanceManager()
            let running = try await node.waitFor(Replica.self, replicaName, "running") {
                $0.status.currentState == .running
            }
            #expect(running.status.conditions.isTrue(InstanceCondition.instanceCreation))
            #expect(running.status.port > 0 && canConnect(port: running.status.port))
        }
    }
}
