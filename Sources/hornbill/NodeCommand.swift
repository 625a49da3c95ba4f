import ArgumentParser
import Foundation
import ManagerClient

/// `hornbill node list|get|disk …`: the manager's nodes and their disks over its REST API.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "List and show nodes; add, remove and change their disks.",
        subcommands: [List.self, Get.self, NodeDiskCommand.self])

    static func table(_ nodes: [NodeItem]) -> TextTable {
        TextTable(
            headers: ["NAME", "ADDRESS", "READY", "SCHEDULABLE", "ALLOW-SCHEDULING", "DISKS", "TAGS"],
            rows: nodes.map {
                [
                    $0.name, $0.address, $0.conditionStatus("Ready"), $0.conditionStatus("Schedulable"),
                    $0.allowScheduling ? "true" : "false", String($0.disks.count), $0.tags.joined(separator: ","),
                ]
            })
    }

    static func diskTable(_ node: NodeItem) -> TextTable {
        TextTable(
            headers: [
                "DISK", "TYPE", "PATH", "DRIVER", "READY", "SCHEDULABLE", "ALLOW-SCHEDULING", "RESERVED", "MAXIMUM",
                "AVAILABLE", "SCHEDULED", "TAGS",
            ],
            rows: node.disks.keys.sorted().compactMap { name in
                guard let disk = node.disks[name] else { return nil }
                return [
                    name, disk.spec.diskType, disk.spec.path, disk.spec.diskDriver,
                    disk.conditions["Ready"]?.status ?? "Unknown", disk.conditions["Schedulable"]?.status ?? "Unknown",
                    disk.spec.allowScheduling ? "true" : "false", String(disk.spec.storageReserved),
                    String(disk.storageMaximum), String(disk.storageAvailable), String(disk.storageScheduled),
                    disk.spec.tags.joined(separator: ","),
                ]
            })
    }

    /// The node, and its answer as sent.
    static func fetch(_ client: ManagerClient, _ name: String) async throws -> (node: NodeItem, data: Data) {
        let data = try await client.get("/v1/nodes/\(pathSegment(name))")
        return (try decodeAnswer(NodeItem.self, data, what: "node"), data)
    }

    /// Prints a node as the chosen output: its row and its disks, or the API's JSON.
    static func show(_ node: NodeItem, _ data: Data, _ options: ClientOptions) throws {
        if options.output == .json { return try printJSON(data) }
        print(table([node]).rendered)
        print(diskTable(node).rendered, terminator: "")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the nodes.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                let data = try await client.get("/v1/nodes")
                if options.output == .json { return try printJSON(data) }
                let nodes = try decodeAnswer(APICollection<NodeItem>.self, data, what: "nodes collection")
                print(NodeCommand.table(nodes.data).rendered, terminator: "")
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one node and its disks.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The node's name.") var name: String

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                let (node, data) = try await NodeCommand.fetch(client, name)
                try NodeCommand.show(node, data, options)
            }
        }
    }
}

/// `hornbill node disk add|remove|update`: read the node, change its disk map, send the whole map
/// back with `diskUpdate` (as Longhorn's UI does).
struct NodeDiskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disk", abstract: "Add, remove and change a node's disks.",
        subcommands: [Add.self, Remove.self, Update.self])

    static func send(
        _ client: ManagerClient, node: String, _ body: DiskUpdateBody, _ options: ClientOptions
    ) async throws {
        let encoded = try JSONEncoder().encode(body)
        let data = try await client.post("/v1/nodes/\(pathSegment(node))?action=diskUpdate", body: encoded)
        try NodeCommand.show(try decodeAnswer(NodeItem.self, data, what: "node"), data, options)
    }

    enum DiskType: String, ExpressibleByArgument, CaseIterable { case filesystem, block }
    enum DiskDriver: String, ExpressibleByArgument, CaseIterable { case auto, aio, nvme }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a disk to a node.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The node's name.") var node: String
        @Argument(help: "The new disk's name.") var disk: String
        @Option(help: "A directory (filesystem) or a block device or file (block).") var path: String
        @Option(help: "filesystem or block (block needs v2-data-engine).") var type: DiskType = .filesystem
        @Option(help: "auto, aio or nvme (block disks only).") var driver: DiskDriver?
        @Option(help: "Bytes not to schedule replicas on.") var storageReserved: Int64 = 0
        @Option(help: "Disk tags, comma-separated.") var tags: String?
        @Flag(help: "Add the disk with scheduling disabled.") var disableScheduling = false

        func validate() throws {
            guard storageReserved >= 0 else { throw ValidationError("--storage-reserved must be at least 0") }
            guard driver == nil || type == .block else { throw ValidationError("--driver is for block disks only") }
            guard !path.isEmpty else { throw ValidationError("--path must not be empty") }
        }

        func run() async throws {
            let client = try options.client()
            let spec = DiskSpecBody(
                diskType: type.rawValue, path: path, diskDriver: driver?.rawValue ?? "",
                allowScheduling: !disableScheduling, storageReserved: storageReserved, tags: splitTags(tags))
            try await runClientCall {
                let (current, _) = try await NodeCommand.fetch(client, node)
                try await NodeDiskCommand.send(client, node: node, try current.addingDisk(disk, spec), options)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a disk from a node (disable its scheduling first).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The node's name.") var node: String
        @Argument(help: "The disk's name.") var disk: String

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                let (current, _) = try await NodeCommand.fetch(client, node)
                try await NodeDiskCommand.send(client, node: node, try current.removingDisk(disk), options)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a disk of a node.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The node's name.") var node: String
        @Argument(help: "The disk's name.") var disk: String
        @Option(help: "true or false.") var allowScheduling: Bool?
        @Option(help: "true or false (needs scheduling disabled).") var evictionRequested: Bool?
        @Option(help: "Bytes not to schedule replicas on.") var storageReserved: Int64?
        @Option(help: "Disk tags, comma-separated (an empty string clears them).") var tags: String?

        var change: DiskChange {
            DiskChange(
                allowScheduling: allowScheduling, evictionRequested: evictionRequested,
                storageReserved: storageReserved, tags: tags.map { splitTags($0) })
        }

        func validate() throws {
            if let storageReserved, storageReserved < 0 {
                throw ValidationError("--storage-reserved must be at least 0")
            }
            guard !change.isEmpty else { throw ValidationError("nothing to change: give at least one option") }
        }

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                let (current, _) = try await NodeCommand.fetch(client, node)
                try await NodeDiskCommand.send(client, node: node, try current.changingDisk(disk, change), options)
            }
        }
    }
}

/// "a, b,,c" → ["a", "b", "c"].
func splitTags(_ text: String?) -> [String] {
    guard let text else { return [] }
    return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}
