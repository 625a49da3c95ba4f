// A SQLite store of its own for the volume routes' tests, with the writes the controllers would
// make (nodes, a volume's state), removed when released.

import Foundation
import ManagerModel
import ManagerREST
import ManagerStore
import Testing

final class VolumeRoutesFixture: @unchecked Sendable {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("hornbill-volume-routes-\(UUID().uuidString)").path
    let store: SQLiteResourceStore

    init() throws { store = try SQLiteResourceStore(directory: directory) }

    deinit {
        try? store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }

    func api() -> ManagerAPI { ManagerAPI(groups: [VolumeRoutes(store: store), SettingRoutes(store: store)]) }

    /// A node tagged `fast` with one disk tagged `ssd`.
    func addNode(_ name: String, ready: Bool = true) async throws {
        var node = Node(
            metadata: ResourceMetadata(name: name),
            spec: NodeSpec(
                name: name, disks: ["disk-1": DiskSpec(path: "/disks/\(name)", tags: ["ssd"])], tags: ["fast"]))
        node.status.conditions = [Condition(type: "Ready", status: ready ? .isTrue : .isFalse)]
        _ = try await store.create(node, name: name)
    }

    /// Sets the volume's state (and robustness), as the volume controller would.
    func set(_ name: String, _ state: VolumeState, _ robustness: VolumeRobustness? = nil) async throws {
        let stored = try #require(try await store.get(Volume.self, name))
        var volume = stored.value
        volume.status.state = state
        if let robustness { volume.status.robustness = robustness }
        _ = try await store.update(volume, name: name, expectedVersion: stored.resourceVersion)
    }

    /// The store's revision: it moves with every write.
    func revision() async throws -> Int64 {
        try await store.list(.volumes, selector: .everything).revision
    }
}
