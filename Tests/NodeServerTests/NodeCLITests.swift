// `hornbill node list|get|disk …` against a running manager whose store holds a node of another
// host (written before the manager opens it, as that node's manager would have registered it:
// a status for each disk), besides the manager's own.

import Foundation
import ManagerClient
import ManagerModel
import ManagerStore
import Testing

@Suite(.serialized, .timeLimit(.minutes(2))) struct NodeCLITests {
    private func managerWithNode(_ scratch: ScratchDirectory) async throws -> ManagerDaemon {
        let store = try SQLiteResourceStore(directory: scratch.path + "/store")
        let node = Node(
            metadata: ResourceMetadata(name: "node-1"),
            spec: NodeSpec(
                name: "node-1",
                disks: [
                    "disk-a": DiskSpec(path: "/data/a", tags: ["ssd"]),
                    "disk-b": DiskSpec(path: "/data/b", allowScheduling: false),
                ],
                tags: ["rack-1"]))
        var registered = node
        registered.status.diskStatus = [
            "disk-a": DiskStatus(diskUUID: "uuid-a"), "disk-b": DiskStatus(diskUUID: "uuid-b"),
        ]
        _ = try await store.create(registered, name: "node-1")
        try store.close()
        return try await ManagerDaemon(directory: scratch.path)
    }

    @Test func listGetAndDiskAddUpdateRemove() async throws {
        let scratch = try ScratchDirectory()
        let manager = try await managerWithNode(scratch)
        let server = ["--server", "http://127.0.0.1:\(manager.port)"]

        let list = try hornbill(["node", "list"] + server)
        #expect(list.status == 0, "\(list.errors)")
        let lines = list.output.split(separator: "\n")
        #expect(lines.first?.split(separator: " ").first == "NAME")
        // node-1 and the manager's own node, which its node controller registers.
        #expect(lines.count == 3, "\(list.output)")
        let row = lines.first { $0.hasPrefix("node-1 ") }
        #expect(row.map { Array($0.split(separator: " ").suffix(2)) } == ["2", "rack-1"], "\(list.output)")

        let get = try hornbill(["node", "get", "node-1"] + server)
        #expect(get.status == 0, "\(get.errors)")
        #expect(get.output.contains("disk-a "))
        #expect(get.output.contains("/data/b"))

        // Removing a disk that still allows scheduling is refused with the API's message.
        let refused = try hornbill(["node", "disk", "remove", "node-1", "disk-a"] + server)
        #expect(refused.status != 0)
        #expect(refused.errors.split(separator: "\n").count == 1)
        #expect(refused.errors.contains("Please disable the disk"))

        let updated = try hornbill(
            ["node", "disk", "update", "node-1", "disk-a", "--allow-scheduling", "false"] + server)
        #expect(updated.status == 0, "\(updated.errors)")

        let added = try hornbill(
            [
                "node", "disk", "add", "node-1", "disk-c", "--path", "/data/c", "--storage-reserved", "1024", "--tags",
                "x,y",
            ]
                + server + ["--output", "json"])
        #expect(added.status == 0, "\(added.errors)")
        let node = try JSONDecoder().decode(NodeItem.self, from: Data(added.output.utf8))
        #expect(Set(node.disks.keys) == ["disk-a", "disk-b", "disk-c"])
        #expect(node.disks["disk-c"]?.spec.storageReserved == 1024)
        #expect(node.disks["disk-c"]?.spec.tags == ["x", "y"])
        #expect(node.disks["disk-a"]?.spec.tags == ["ssd"] && node.disks["disk-a"]?.spec.allowScheduling == false)

        // node-1's manager does not run here, so its status never gets disk-c: further updates are
        // refused until it does, with Longhorn's message.
        let unsynced = try hornbill(["node", "disk", "remove", "node-1", "disk-a"] + server)
        #expect(unsynced.status != 0)
        #expect(unsynced.errors.split(separator: "\n").count == 1)
        #expect(unsynced.errors.contains("spec and status of disks on node node-1 are being syncing"))

        // What the command line knows is wrong fails before any request changes anything.
        let duplicate = try hornbill(["node", "disk", "add", "node-1", "disk-b", "--path", "/data/z"] + server)
        #expect(duplicate.status != 0)
        #expect(duplicate.errors.contains("already has a disk disk-b"))
        let missing = try hornbill(["node", "get", "node-9"] + server)
        #expect(missing.status != 0)
        #expect(missing.errors.split(separator: "\n").count == 1)
        let final = try JSONDecoder().decode(NodeItem.self, from: try await manager.client.get("/v1/nodes/node-1"))
        #expect(Set(final.disks.keys) == ["disk-a", "disk-b", "disk-c"])
    }
}
