import Foundation
import Glibc
import InstanceManagerAPI
import JSONRPC
import ManagerControllers
import ManagerModel
import ManagerStore
import SwiftProtobuf
import TestSupport
import Testing

/// Block disks and instance managers against a real `hornbill tgt` and `hornbill instance-manager`.
@Suite(.serialized, .timeLimit(.minutes(3))) struct BlockDiskControllerTests {
    private static let diskSize = 64 << 20

    /// A store, a tgt, an instance manager serving both data engines, a 64 MiB disk file.
    private final class Node: @unchecked Sendable {
        let scratch: StoreScratch
        let tgt: TgtDaemon
        let manager: InstanceManagerDaemon
        let diskPath: String

        init() throws {
            scratch = try StoreScratch()
            tgt = try TgtDaemon()
            manager = try InstanceManagerDaemon(tgt: tgt, scratch: scratch)
            diskPath = try scratch.file("block.img", size: BlockDiskControllerTests.diskSize)
        }

        var addresses: InstanceManagerAddresses { InstanceManagerAddresses(v1: manager.address, v2: manager.address) }

        func controller() -> NodeController {
            NodeController(
                store: scratch.store,
                configuration: .init(
                    nodeName: "node-1", dataDirectory: scratch.dataDirectory, instanceManagers: addresses))
        }

        func controllers() -> NodeControllers {
            NodeControllers(
                store: scratch.store, nodeName: "node-1", address: "127.0.0.1", dataDirectory: scratch.dataDirectory,
                instanceManagers: addresses, options: fastLoop)
        }

        func blockStatus() async throws -> DiskStatus? {
            try await scratch.node().value.status.diskStatus["block-1"]
        }

        /// The lvstores the tgt holds: (uuid, name).
        func lvstores() throws -> [(uuid: String, name: String)] {
            guard case .success(let value) = try tgt.call("bdev_lvol_get_lvstores"), case .array(let items) = value
            else {
                throw ControllerTestError("bdev_lvol_get_lvstores failed")
            }
            return items.compactMap { item in
                guard case .object(let members) = item else { return nil }
                var uuid = ""
                var name = ""
                for (key, value) in members {
                    if key == "uuid", case .string(let text) = value { uuid = text }
                    if key == "name", case .string(let text) = value { name = text }
                }
                return (uuid, name)
            }
        }
    }

    /// Reconciles until the block disk is ready (a reconcile requeues while it is being created).
    private func reconcileUntilReady(_ controller: NodeController, _ node: Node) async throws -> DiskStatus {
        try await until("block disk ready") { () async throws -> DiskStatus? in
            do {
                try await controller.reconcile("node-1")
            } catch is ReconcileRequeue {}
            guard let status = try await node.blockStatus(), status.conditions.isTrue("Ready") else { return nil }
            return status
        }
    }

    @Test func aBlockDiskBecomesReadyAndIsDeletedWhenRemoved() async throws {
        let node = try Node()
        let controller = node.controller()
        try await controller.reconcile("node-1")
        try await node.scratch.changeNode {
            $0.disks["block-1"] = DiskSpec(
                diskType: .block, path: node.diskPath, diskDriver: .auto, allowScheduling: true)
        }
        // The V2 data engine is off: not ready, saying why, and the disk service is not asked.
        try await controller.reconcile("node-1")
        let off = try #require(try await node.blockStatus()?.conditions.condition(ofType: "Ready"))
        #expect(off.status == .isFalse && off.message.contains("v2-data-engine is false"), "\(off)")
        #expect(try await diskServiceDisk(node.manager.address, "block-1") == nil)

        try await node.scratch.setSetting("v2-data-engine", "true")
        let ready = try await reconcileUntilReady(controller, node)
        let disk = try #require(try await diskServiceDisk(node.manager.address, "block-1"))
        let lvstores = try node.lvstores()
        #expect(lvstores.count == 1 && lvstores.first?.uuid == ready.diskUUID)
        #expect(ready.diskUUID == disk.uuid && ready.diskName == disk.name && ready.diskType == .block)
        #expect(ready.storageMaximum == disk.totalSize && ready.storageAvailable == disk.freeSize)
        #expect(ready.storageMaximum > 0 && ready.storageMaximum <= Int64(Self.diskSize))
        #expect(ready.diskDriver == .aio && ready.diskPath == node.diskPath)
        #expect(ready.instanceManagerName == InstanceManager.name(nodeName: "node-1", dataEngine: .v2))
        #expect(ready.conditions.isTrue("Schedulable"), "\(ready.conditions)")

        // Removed from the spec: DiskDelete, and the status entry goes.
        try await node.scratch.changeNode { $0.disks["block-1"] = nil }
        try await controller.reconcile("node-1")
        #expect(try await node.blockStatus() == nil)
        #expect(try await diskServiceDisk(node.manager.address, "block-1") == nil)
    }

    /// What the disk service answers shows in the disk's Ready condition: a disk it cannot create
    /// (no such file) is DiskNotReady with its message, and an instance manager that does not
    /// answer is DiskServiceUnreachable; neither is schedulable.
    @Test func diskServiceFailuresAreTheDisksConditions() async throws {
        let node = try Node()
        let controller = node.controller()
        try await controller.reconcile("node-1")
        try await node.scratch.setSetting("v2-data-engine", "true")
        let missing = node.scratch.path + "/no-such-block.img"
        try await node.scratch.changeNode {
            $0.disks["block-1"] = DiskSpec(diskType: .block, path: missing, diskDriver: .auto, allowScheduling: true)
        }
        let failed = try await until("the create's failure in the Ready condition") { () async throws -> Condition? in
            do {
                try await controller.reconcile("node-1")
            } catch is ReconcileRequeue {}
            let ready = try await node.blockStatus()?.conditions.condition(ofType: "Ready")
            return ready?.reason == "DiskNotReady" ? ready : nil
        }
        #expect(failed.status == .isFalse && failed.message.contains("block-1"), "\(failed)")
        #expect(try await node.blockStatus()?.conditions.isTrue("Schedulable") == false)

        node.manager.kill()
        try await node.scratch.changeNode {
            $0.disks["block-1"] = DiskSpec(diskType: .block, path: node.diskPath, diskDriver: .auto, allowScheduling: true)
        }
        let unreachable = try await until("the unreachable disk service in the Ready condition") {
            () async throws -> Condition? in
            do {
                try await controller.reconcile("node-1")
            } catch is ReconcileRequeue {}
            let ready = try await node.blockStatus()?.conditions.condition(ofType: "Ready")
            return ready?.reason == "DiskServiceUnreachable" ? ready : nil
        }
        #expect(unreachable.status == .isFalse, "\(unreachable)")
        #expect(try await node.blockStatus()?.conditions.isTrue("Schedulable") == false)
    }

    @Test func aReconcileCutShortAfterDiskCreateConvergesOnRestart() async throws {
        let node = try Node()
        try await node.scratch.setSetting("v2-data-engine", "true")
        try await node.controller().reconcile("node-1")
        try await node.scratch.changeNode {
            $0.disks["block-1"] = DiskSpec(
                diskType: .block, path: node.diskPath, diskDriver: .auto, allowScheduling: true)
        }
        // A controller that was killed right after its DiskCreate: the disk service has the disk,
        // the node has no record of it.
        let created = try await withDiskService(node.manager.address) { disks in
            try await disks.diskCreate(
                .with {
                    $0.diskType = .block
                    $0.diskName = "block-1"
                    $0.diskPath = node.diskPath
                    $0.diskDriver = "auto"
                    $0.blockSize = 512
                })
        }
        #expect(try await node.blockStatus() == nil)

        // A new controller finds the disk with DiskGet and records it once.
        let ready = try await reconcileUntilReady(node.controller(), node)
        let disk = try #require(try await diskServiceDisk(node.manager.address, "block-1"))
        #expect(ready.diskUUID == disk.uuid && (created.uuid.isEmpty || created.uuid == disk.uuid))
        #expect(try node.lvstores().map(\.uuid) == [disk.uuid])

        // A controller on its loop, stopped at any point, and a new one: still the one disk.
        let first = Task { await node.controllers().run() }
        try await Task.sleep(for: .milliseconds(300))
        first.cancel()
        await first.value
        let again = try await reconcileUntilReady(node.controller(), node)
        let lvstoresAfter = try node.lvstores().map(\.uuid)
        #expect(again.diskUUID == disk.uuid && lvstoresAfter == [disk.uuid])
    }

    @Test func instanceManagersAreRunningThenStoppedWhenKilled() async throws {
        let node = try Node()
        let controllers = node.controllers()
        let v1 = InstanceManager.name(nodeName: "node-1", dataEngine: .v1)
        let v2 = InstanceManager.name(nodeName: "node-1", dataEngine: .v2)
        #expect(v1.count == "instance-manager-".count + 32 && v1 != v2)
        try await whileRunning(controllers) {
            let running = try await until("V1 instance manager running") { () async throws -> InstanceManager? in
                let manager = try await node.scratch.store.get(InstanceManager.self, v1)?.value
                return manager?.status.currentState == .running ? manager : nil
            }
            #expect(running.spec.nodeID == "node-1" && running.spec.dataEngine == .v1 && running.spec.type == .aio)
            #expect(
                running.status.apiVersion >= 1 && running.status.apiMinVersion >= 1 && running.status.ip == "127.0.0.1")
            #expect(
                try await node.scratch.store.get(InstanceManager.self, v2) == nil,
                "no V2 one while v2-data-engine is false")

            try await node.scratch.setSetting("v2-data-engine", "true")
            _ = try await until("V2 instance manager running") {
                try await node.scratch.store.get(InstanceManager.self, v2)?.value.status.currentState == .running
                    ? true : nil
            }
            // The node registered meanwhile, its address the instance managers'.
            #expect(try await node.scratch.node().value.spec.disks["default-disk"] != nil)

            node.manager.kill()
            _ = try await until("V1 instance manager stopped") {
                try await node.scratch.store.get(InstanceManager.self, v1)?.value.status.currentState == .stopped
                    ? true : nil
            }

            try await node.scratch.setSetting("v2-data-engine", "false")
            _ = try await until("V2 instance manager deleted") {
                try await node.scratch.store.get(InstanceManager.self, v2) == nil ? true : nil
            }
        }
    }
}
