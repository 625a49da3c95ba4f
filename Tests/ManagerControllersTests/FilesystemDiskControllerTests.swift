import Foundation
import ManagerControllers
import ManagerModel
import ManagerStore
import Testing

/// The node controller with filesystem disks only: reconciles called one by one.
@Suite struct FilesystemDiskControllerTests {
    private func controller(_ scratch: StoreScratch) -> NodeController {
        NodeController(
            store: scratch.store,
            configuration: .init(
                nodeName: "node-1", dataDirectory: scratch.dataDirectory,
                instanceManagers: InstanceManagerAddresses(v1: nil, v2: nil)))
    }

    private func config(_ directory: String) throws -> [String: String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/longhorn-disk.cfg"))
        return try JSONDecoder().decode([String: String].self, from: data)
    }

    @Test func theNodeIsRegisteredWithADefaultDiskWhoseConfigIsReused() async throws {
        let scratch = try StoreScratch()
        let controller = controller(scratch)
        try await controller.reconcile("node-1")

        let node = try await scratch.node().value
        #expect(node.spec.name == "node-1" && node.spec.allowScheduling)
        #expect(node.status.conditions.isTrue("Ready") && node.status.conditions.isTrue("Schedulable"))
        let path = "\(scratch.dataDirectory)/disks/default"
        let spec = try #require(node.spec.disks[NodeController.defaultDiskName])
        #expect(spec.path == path && spec.diskType == .filesystem && spec.allowScheduling)
        let status = try #require(node.status.diskStatus[NodeController.defaultDiskName])
        #expect(status.conditions.isTrue("Ready"), "\(status.conditions)")
        #expect(status.conditions.isTrue("Schedulable"), "\(status.conditions)")
        #expect(status.storageMaximum > 0 && status.storageAvailable <= status.storageMaximum)
        #expect(status.storageAvailable % (100 << 20) == 0)
        // The default reserve: 30 % of the disk's size.
        #expect(spec.storageReserved == status.storageMaximum / 100 * 30)
        #expect(status.diskPath == path && status.diskType == .filesystem && !status.filesystemType.isEmpty)
        let file = try config(path)
        #expect(file == ["diskName": "default-disk", "diskUUID": status.diskUUID, "diskDriver": ""])

        // Again: the same UUID, read back from the file, and no write when nothing changed.
        let version = try await scratch.node().resourceVersion
        try await controller.reconcile("node-1")
        let again = try await scratch.node()
        #expect(again.value.status.diskStatus["default-disk"]?.diskUUID == status.diskUUID)
        #expect(
            again.resourceVersion == version
                || again.value.status.diskStatus["default-disk"]?.storageAvailable != status.storageAvailable)
    }

    @Test func aReplacedConfigMarksTheDiskChangedAndAMissingOneIsNotRemade() async throws {
        let scratch = try StoreScratch()
        let controller = controller(scratch)
        try await controller.reconcile("node-1")
        let path = "\(scratch.dataDirectory)/extra"
        try await scratch.changeNode { $0.disks["extra"] = DiskSpec(path: path, allowScheduling: true) }
        try await controller.reconcile("node-1")
        let recorded = try #require(try await scratch.node().value.status.diskStatus["extra"])
        #expect(recorded.conditions.isTrue("Ready") && recorded.diskName == "extra")
        #expect(try config(path)["diskUUID"] == recorded.diskUUID)

        let other = #"{"diskName":"extra","diskUUID":"another-uuid","diskDriver":""}"#
        try other.write(toFile: "\(path)/longhorn-disk.cfg", atomically: true, encoding: .utf8)
        try await controller.reconcile("node-1")
        var status = try #require(try await scratch.node().value.status.diskStatus["extra"])
        let ready = try #require(status.conditions.condition(ofType: "Ready"))
        #expect(ready.status == .isFalse && ready.reason == "DiskFilesystemChanged", "\(ready)")
        #expect(status.diskUUID == recorded.diskUUID, "the recorded UUID is kept")
        #expect(status.conditions.condition(ofType: "Schedulable")?.reason == "DiskNotReady")

        try FileManager.default.removeItem(atPath: "\(path)/longhorn-disk.cfg")
        try await controller.reconcile("node-1")
        status = try #require(try await scratch.node().value.status.diskStatus["extra"])
        #expect(status.conditions.condition(ofType: "Ready")?.reason == "DiskFilesystemChanged")
        #expect(!FileManager.default.fileExists(atPath: "\(path)/longhorn-disk.cfg"))

        // The right file back: ready again.
        let original = #"{"diskName":"extra","diskUUID":"\#(recorded.diskUUID)","diskDriver":""}"#
        try original.write(toFile: "\(path)/longhorn-disk.cfg", atomically: true, encoding: .utf8)
        try await controller.reconcile("node-1")
        #expect(try await scratch.node().value.status.diskStatus["extra"]?.conditions.isTrue("Ready") == true)
    }

    @Test func scheduledReplicasAndSchedulability() async throws {
        let scratch = try StoreScratch()
        let controller = controller(scratch)
        try await controller.reconcile("node-1")
        let uuid = try #require(try await scratch.node().value.status.diskStatus["default-disk"]?.diskUUID)
        for (name, disk) in [("vol-r-00000001", uuid), ("vol-r-00000002", uuid), ("vol-r-00000003", "elsewhere")] {
            var spec = ReplicaSpec(instance: InstanceSpec(volumeName: "vol", volumeSize: StringInt64(8 << 20)))
            spec.diskID = disk
            _ = try await scratch.store.create(Replica(metadata: ResourceMetadata(name: name), spec: spec), name: name)
        }
        try await controller.reconcile("node-1")
        var status = try #require(try await scratch.node().value.status.diskStatus["default-disk"])
        #expect(status.scheduledReplica == ["vol-r-00000001": 8 << 20, "vol-r-00000002": 8 << 20])
        #expect(status.storageScheduled == 16 << 20)

        try await scratch.setSetting("storage-minimal-available-percentage", "100")
        try await controller.reconcile("node-1")
        status = try #require(try await scratch.node().value.status.diskStatus["default-disk"])
        #expect(status.conditions.condition(ofType: "Schedulable")?.reason == "DiskPressure")
        #expect(status.conditions.condition(ofType: "Schedulable")?.message.contains("minimal 100%") == true)

        try await scratch.setSetting("storage-minimal-available-percentage", "0")
        try await scratch.changeNode { $0.disks["default-disk"]?.allowScheduling = false }
        try await controller.reconcile("node-1")
        status = try #require(try await scratch.node().value.status.diskStatus["default-disk"])
        #expect(status.conditions.condition(ofType: "Schedulable")?.status == .isFalse)
        #expect(status.conditions.isTrue("Ready"))

        // A disk removed from the spec leaves the status.
        try await scratch.changeNode { $0.disks = [:] }
        try await controller.reconcile("node-1")
        #expect(try await scratch.node().value.status.diskStatus.isEmpty)
    }

    @Test func aDiskThatCannotBeMadeIsNotReady() async throws {
        let scratch = try StoreScratch()
        let controller = controller(scratch)
        try await controller.reconcile("node-1")
        let blocker = try scratch.file("a-file", size: 0)
        try await scratch.changeNode { $0.disks["bad"] = DiskSpec(path: "\(blocker)/below", allowScheduling: false) }
        try await controller.reconcile("node-1")
        let status = try #require(try await scratch.node().value.status.diskStatus["bad"])
        let ready = try #require(status.conditions.condition(ofType: "Ready"))
        #expect(ready.status == .isFalse && ready.reason == "NoDiskInfo" && ready.message.contains("cannot create"))
        #expect(try await scratch.node().value.status.diskStatus["default-disk"]?.conditions.isTrue("Ready") == true)
    }
}
