import ArgumentParser
import Foundation
import ManagerClient

/// `hornbill volume create|list|get|attach|detach|delete`: volumes over the manager's REST API.
/// `--wait` polls until the volume reaches the state the command asks for (or the timeout).
struct VolumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume",
        abstract: "Create, list, show, attach, detach and delete volumes.",
        subcommands: [Create.self, List.self, Get.self, Attach.self, Detach.self, Delete.self])

    static func table(_ volumes: [VolumeItem]) -> TextTable {
        TextTable(
            headers: ["NAME", "SIZE", "REPLICAS", "ENGINE", "FRONTEND", "STATE", "ROBUSTNESS", "NODE", "ENDPOINT"],
            rows: volumes.map {
                [
                    $0.name, String($0.size), String($0.numberOfReplicas), $0.dataEngine, $0.frontend, $0.state,
                    $0.robustness, $0.currentNodeID, $0.endpoint,
                ]
            })
    }

    static func replicaTable(_ volume: VolumeItem) -> TextTable {
        TextTable(
            headers: ["REPLICA", "NODE", "DISK", "MODE", "RUNNING", "FAILED-AT"],
            rows: volume.replicas.map {
                [$0.name, $0.hostId, $0.diskID, $0.mode, $0.running ? "true" : "false", $0.failedAt]
            })
    }

    static func fetch(_ client: ManagerClient, _ name: String) async throws -> (volume: VolumeItem, data: Data) {
        let data = try await client.get("/v1/volumes/\(pathSegment(name))")
        return (try decodeAnswer(VolumeItem.self, data, what: "volume"), data)
    }

    static func show(_ volume: VolumeItem, _ data: Data, _ options: ClientOptions) throws {
        if options.output == .json { return try printJSON(data) }
        print(table([volume]).rendered)
        if let scheduled = volume.conditions["Scheduled"], scheduled.status == "False" {
            print("Scheduled: False (\(scheduled.reason)): \(scheduled.message)\n")
        }
        print(replicaTable(volume).rendered, terminator: "")
    }

    /// Polls the volume until `done` holds; fails after `timeout` seconds saying what it was.
    /// Every 50 ms for the first 5 s (an attach takes about half a second: the answer should not
    /// wait on the poll), every 200 ms after.
    static func wait(
        _ client: ManagerClient, _ name: String, timeout: Double, for what: String,
        until done: (VolumeItem) -> Bool
    ) async throws -> (volume: VolumeItem, data: Data) {
        let deadline = Date().addingTimeInterval(timeout)
        let quickUntil = Date().addingTimeInterval(5)
        while true {
            let fetched = try await fetch(client, name)
            if done(fetched.volume) { return fetched }
            guard Date() < deadline else {
                let volume = fetched.volume
                let why = volume.notReadyMessage.isEmpty ? "" : ": \(volume.notReadyMessage)"
                throw ManagerClientError(
                    "volume \(name) is not \(what) after \(Int(timeout)) s (state \(volume.state), robustness \(volume.robustness))\(why)")
            }
            try await Task.sleep(for: .milliseconds(Date() < quickUntil ? 50 : 200))
        }
    }

    /// Options shared by the commands that can wait.
    struct WaitOptions: ParsableArguments {
        @Flag(help: "Wait until the volume reaches the state the command asks for.") var wait = false
        @Option(help: "Seconds to wait with --wait.") var timeout: Double = 120
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a volume.")
        @OptionGroup var options: ClientOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The volume's name.") var name: String
        @Option(help: "Size: bytes or a quantity such as 10Gi (rounded up to 2 MiB).") var size: String
        @Option(name: .customLong("replicas"), help: "Number of replicas (default: the default-replica-count setting).")
        var numberOfReplicas: Int?
        @Option(help: "Data engine: v1 or v2.") var dataEngine: String?
        @Option(help: "Frontend: blockdev, nvmf (v2) or nbd.") var frontend: String?
        @Option(help: "Disk tags every replica's disk must have (repeatable).") var diskSelector: [String] = []
        @Option(help: "Node tags every replica's node must have (repeatable).") var nodeSelector: [String] = []

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                var body: [String: Any] = ["name": name, "size": size]
                if let numberOfReplicas { body["numberOfReplicas"] = numberOfReplicas }
                if let dataEngine { body["dataEngine"] = dataEngine }
                if let frontend { body["frontend"] = frontend }
                if !diskSelector.isEmpty { body["diskSelector"] = diskSelector }
                if !nodeSelector.isEmpty { body["nodeSelector"] = nodeSelector }
                var data = try await client.post("/v1/volumes", body: try JSONSerialization.data(withJSONObject: body))
                var volume = try decodeAnswer(VolumeItem.self, data, what: "volume")
                if waiting.wait {
                    (volume, data) = try await VolumeCommand.wait(
                        client, name, timeout: waiting.timeout, for: "detached") { $0.state == "detached" }
                }
                try VolumeCommand.show(volume, data, options)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the volumes.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                let data = try await client.get("/v1/volumes")
                if options.output == .json { return try printJSON(data) }
                let volumes = try decodeAnswer(APICollection<VolumeItem>.self, data, what: "volumes collection")
                print(VolumeCommand.table(volumes.data).rendered, terminator: "")
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one volume and its replicas.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The volume's name.") var name: String

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                let (volume, data) = try await VolumeCommand.fetch(client, name)
                try VolumeCommand.show(volume, data, options)
            }
        }
    }

    struct Attach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Attach a volume to a node.")
        @OptionGroup var options: ClientOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The volume's name.") var name: String
        @Option(name: .customLong("node"), help: "The node to attach it on.") var hostId: String
        @Option(help: "The attachment ticket's ID (default: longhorn-api-<node>).") var attachmentID: String?
        @Flag(help: "Attach without a frontend (no endpoint).") var disableFrontend = false

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                var body: [String: Any] = ["hostId": hostId, "disableFrontend": disableFrontend]
                if let attachmentID { body["attachmentID"] = attachmentID }
                var data = try await client.post(
                    "/v1/volumes/\(pathSegment(name))?action=attach", body: try JSONSerialization.data(withJSONObject: body))
                var volume = try decodeAnswer(VolumeItem.self, data, what: "volume")
                if waiting.wait {
                    (volume, data) = try await VolumeCommand.wait(
                        client, name, timeout: waiting.timeout, for: "attached on \(hostId)") {
                        $0.state == "attached" && $0.currentNodeID == hostId
                    }
                }
                try VolumeCommand.show(volume, data, options)
            }
        }
    }

    struct Detach: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Detach a volume (remove attachment tickets).")
        @OptionGroup var options: ClientOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The volume's name.") var name: String
        @Option(help: "The attachment ticket to remove (default: the API's tickets).") var attachmentID: String?
        @Option(name: .customLong("node"), help: "Only the API's tickets for this node.") var hostId: String?
        @Flag(help: "Remove every ticket.") var force = false

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                var body: [String: Any] = ["forceDetach": force]
                if let attachmentID { body["attachmentID"] = attachmentID }
                if let hostId { body["hostId"] = hostId }
                var data = try await client.post(
                    "/v1/volumes/\(pathSegment(name))?action=detach", body: try JSONSerialization.data(withJSONObject: body))
                var volume = try decodeAnswer(VolumeItem.self, data, what: "volume")
                if waiting.wait {
                    (volume, data) = try await VolumeCommand.wait(
                        client, name, timeout: waiting.timeout, for: "detached") { $0.state == "detached" }
                }
                try VolumeCommand.show(volume, data, options)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a volume and its data.")
        @OptionGroup var options: ClientOptions
        @OptionGroup var waiting: WaitOptions
        @Argument(help: "The volume's name.") var name: String

        func run() async throws {
            let client = try options.client()
            try await runClientCall {
                _ = try await client.delete("/v1/volumes/\(pathSegment(name))")
                if waiting.wait {
                    let deadline = Date().addingTimeInterval(waiting.timeout)
                    while true {
                        do {
                            _ = try await client.get("/v1/volumes/\(pathSegment(name))")
                        } catch let error as ManagerClientError where error.status == 404 {
                            break
                        }
                        guard Date() < deadline else {
                            throw ManagerClientError("volume \(name) is still there after \(Int(waiting.timeout)) s")
                        }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                }
                if options.output == .table { print("volume \(name) deleted") }
            }
        }
    }
}
