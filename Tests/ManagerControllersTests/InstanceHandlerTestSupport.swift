// What the instance-handler tests share: a node with a store, a real `hornbill tgt` and a real
// `hornbill instance-manager` serving both data engines, the instance controllers running on it,
// and the resource edits the volume controllers make (write a Replica or an Engine, change its
// spec, ask for its deletion).

import Foundation
import Glibc
import JSONRPC
import ManagerControllers
import ManagerModel
import ManagerStore
import TestSupport

final class InstanceTestNode: @unchecked Sendable {
    let scratch: StoreScratch
    let tgt: TgtDaemon
    private(set) var portBase: Int
    private(set) var manager: InstanceManagerDaemon?
    var address: InstanceManagerAddress { InstanceManagerAddress(host: "127.0.0.1", port: portBase) }

    /// - Parameter startingInstanceManager: false to start it later (`startInstanceManager`).
    init(startingInstanceManager: Bool = true) throws {
        scratch = try StoreScratch()
        tgt = try TgtDaemon()
        portBase = instanceManagerPortBase()
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        guard startingInstanceManager else { return }
        // Another test process may take the same ports meanwhile: then the next block.
        for attempt in 1...5 {
            do {
                try startInstanceManager()
                return
            } catch where attempt < 5 {
                portBase = instanceManagerPortBase()
            }
        }
    }

    var runDirectory: String { "\(scratch.path)/run" }

    func startInstanceManager() throws {
        manager = try InstanceManagerDaemon(tgt: tgt, scratch: scratch, portBase: portBase)
    }

    /// The tgt and the instance manager killed and started again, as a node's restart leaves
    /// them: the tgt has forgotten every bdev, the instance manager every disk.
    func restartDataPlane() async throws {
        try await offThread { [self] in
            manager?.kill()
            manager = nil
            try tgt.restart()
            try startInstanceManager()
        }
    }

    var configuration: InstanceHandlerConfiguration {
        InstanceHandlerConfiguration(
            nodeName: "node-1", address: "127.0.0.1",
            instanceManagers: InstanceManagerAddresses(v1: address, v2: address),
            v1Launch: V1ProcessLaunch(executable: hornbillExecutable().path, runDirectory: runDirectory))
    }

    func controllers() -> InstanceControllers {
        InstanceControllers(store: scratch.store, configuration: configuration, options: fastLoop)
    }

    /// Runs the instance controllers while `body` runs.
    func whileRunning<Result: Sendable>(_ body: @Sendable () async throws -> Result) async throws -> Result {
        let controllers = controllers()
        let task = Task { await controllers.run() }
        defer { task.cancel() }
        let result = try await body()
        task.cancel()
        await task.value
        return result
    }

    /// A block disk on a sparse file, made ready by the node controller; its status.
    func readyBlockDisk(size: Int = 64 << 20) async throws -> DiskStatus {
        try await scratch.setSetting("v2-data-engine", "true")
        let path = try scratch.file("block.img", size: size)
        try await nodeController.reconcile("node-1")
        try await scratch.changeNode {
            $0.disks["block-1"] = DiskSpec(diskType: .block, path: path, diskDriver: .auto, allowScheduling: true)
        }
        return try await checkDisksUntilReady()
    }

    /// This node's node controller (not running: reconciled when a test asks).
    var nodeController: NodeController {
        NodeController(
            store: scratch.store,
            configuration: .init(
                nodeName: "node-1", dataDirectory: scratch.dataDirectory,
                instanceManagers: InstanceManagerAddresses(v1: address, v2: address)))
    }

    /// Has the node controller check the disks until block-1 is ready; its status.
    func checkDisksUntilReady() async throws -> DiskStatus {
        let node = nodeController
        return try await until("block disk ready") { () async throws -> DiskStatus? in
            do {
                try await node.reconcile("node-1")
            } catch is ReconcileRequeue {}
            guard let status = try await scratch.node().value.status.diskStatus["block-1"],
                status.conditions.isTrue("Ready")
            else { return nil }
            return status
        }
    }

    // MARK: Resources

    func create<Resource: StoredResourceType>(_ resource: Resource, _ name: String) async throws {
        _ = try await scratch.store.create(resource, name: name)
    }

    func get<Resource: StoredResourceType>(_ type: Resource.Type, _ name: String) async throws -> Resource? {
        try await scratch.store.get(type, name)?.value
    }

    /// Changes a stored resource with compare-and-swap, as another controller would.
    func change<Resource: StoredResourceType>(
        _ type: Resource.Type, _ name: String, _ edit: @Sendable (inout Resource) -> Void
    ) async throws {
        for _ in 0..<50 {
            guard let stored = try await scratch.store.get(type, name) else { throw ControllerTestError("no \(name)") }
            var value = stored.value
            edit(&value)
            do {
                _ = try await scratch.store.update(value, name: name, expectedVersion: stored.resourceVersion)
                return
            } catch .conflict {
                continue
            }
        }
        throw ControllerTestError("\(name) kept changing")
    }

    /// Waits until `name`'s status satisfies `condition`; says what it was otherwise.
    func waitFor<Resource: StoredResourceType>(
        _ type: Resource.Type, _ name: String, _ what: String, within seconds: Double = 60,
        _ condition: @Sendable (Resource) -> Bool
    ) async throws -> Resource {
        let deadline = Date().addingTimeInterval(seconds)
        var last: Resource?
        while Date() < deadline {
            last = try await get(type, name)
            if let last, condition(last) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ControllerTestError(
            "\(name) \(what): not within \(seconds) s; last \(String(describing: last)); instance manager log: \(manager?.log.suffix(2000) ?? "")")
    }

    func waitForDeletion<Resource: StoredResourceType>(_ type: Resource.Type, _ name: String) async throws {
        _ = try await until("\(name) deleted from the store", within: 60) {
            try await get(type, name) == nil ? true : nil
        }
    }

    // MARK: The tgt

    /// The lvol aliases ("lvstore/name") the tgt holds.
    func lvolAliases() throws -> [String] {
        guard case .success(let value) = try tgt.call("bdev_get_bdevs"), case .array(let bdevs) = value else {
            throw ControllerTestError("bdev_get_bdevs failed")
        }
        return bdevs.compactMap { bdev -> String? in
            guard case .object(let members) = bdev else { return nil }
            for (key, value) in members where key == "aliases" {
                if case .array(let aliases) = value, case .string(let alias)? = aliases.first { return alias }
            }
            return nil
        }
    }
}

func replicaResource(
    _ name: String, volume: String, size: Int64, engine: DataEngine, diskID: String, diskPath: String,
    dataDirectoryName: String
) -> Replica {
    var spec = ReplicaSpec(
        instance: InstanceSpec(
            volumeName: volume, volumeSize: StringInt64(size), nodeID: "node-1", desireState: .running,
            dataEngine: engine))
    spec.diskID = diskID
    spec.diskPath = diskPath
    spec.dataDirectoryName = dataDirectoryName
    spec.active = true
    return Replica(metadata: ResourceMetadata(name: name), spec: spec)
}

func engineResource(
    _ name: String, volume: String, size: Int64, engine: DataEngine, frontend: VolumeFrontend,
    replicas: [String: String]
) -> Engine {
    var spec = EngineSpec(
        instance: InstanceSpec(
            volumeName: volume, volumeSize: StringInt64(size), nodeID: "node-1", desireState: .running,
            dataEngine: engine))
    spec.frontend = frontend
    spec.replicaAddressMap = replicas
    spec.active = true
    return Engine(metadata: ResourceMetadata(name: name), spec: spec)
}

/// The size `nbdinfo` reports of the export at `uri`.
func nbdSize(_ uri: String) async throws -> Int64 {
    let result = try await offThread { try runCommand(["nbdinfo", "--size", uri]) }
    guard result.status == 0, let size = Int64(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
        throw ControllerTestError("nbdinfo --size \(uri) failed (\(result.status)): \(result.output)")
    }
    return size
}

/// Deletion as the volume controller asks for it.
func askDeletion(_ metadata: inout ResourceMetadata) {
    metadata.deletionTimestamp = KubernetesTime.format(Date())
}
