import ArgumentParser
import Foundation
import Glibc
import InstanceManager
import NodeServer

/// `hornbill server`: everything one node runs, as supervised children of one process: the
/// manager, the V1 instance manager, and while `v2-data-engine` is true the tgt and the V2
/// instance manager. Each child is restarted when it exits; SIGTERM or SIGINT stops them all.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run a whole node: the manager, the instance managers and the tgt, supervised.",
        discussion: """
            Children log to <data-dir>/logs/<child>.log. The manager serves the REST API on --port; \
            the V1 instance manager listens on 8500-8503, the V2 one (with the tgt, while setting \
            v2-data-engine is true) on 8600-8604.
            """)

    @Option(help: "Directory for the store, the children's data and logs (created if missing).")
    var dataDir: String

    @Option(help: "This node's name (default: the host name).")
    var nodeName: String?

    @Option(help: "This node's address for storage traffic.")
    var address: String?

    @Option(help: "The manager's REST API port.")
    var port = 9500

    @Option(help: "The V1 instance manager's first gRPC port (four ports).")
    var v1InstanceManagerPort = 8500

    @Option(help: "The V2 instance manager's first gRPC port (five ports).")
    var v2InstanceManagerPort = 8600

    @Option(help: "Ports for V1 processes, first-last.")
    var v1ProcessPorts = "10000-20000"

    @Option(help: "Ports for V2 replicas and engine targets, first-last (the 20 ports above are held back too).")
    var v2InstancePorts = "20001-30000"

    @Option(help: "A file holding a bearer token every request to the manager's API must carry.")
    var apiTokenFile: String?

    func validate() throws {
        _ = try layout()
        _ = try apiTokenFile.map { try readAPIToken(path: $0) }
        if let address, !InstanceManagerCommand.isIPAddress(address) {
            throw ValidationError("--address \(address) is not an IP address")
        }
        if let nodeName, nodeName.isEmpty { throw ValidationError("--node-name must not be empty") }
    }

    private func layout() throws -> ServerLayout {
        let directory = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        let layout = ServerLayout(
            dataDirectory: directory, managerPort: port, nodeName: nodeName, address: address,
            v1InstanceManagerPort: v1InstanceManagerPort,
            v1ProcessPorts: try InstanceManagerCommand.parseRange(v1ProcessPorts, option: "--v1-process-ports"),
            v2InstanceManagerPort: v2InstanceManagerPort,
            v2InstancePorts: try InstanceManagerCommand.parseRange(v2InstancePorts, option: "--v2-instance-ports"),
            apiTokenFile: apiTokenFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        do {
            try layout.validate()
        } catch {
            throw ValidationError(error.description)
        }
        return layout
    }

    func run() async throws {
        let layout = try layout()
        let log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data("hornbill server: \($0)\n".utf8)) }
        let supervisor: ChildSupervisor
        do {
            for directory in [layout.dataDirectory, layout.logDirectory, layout.tgtDirectory] {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            // Children a killed server left running go first: they hold the ports and the store.
            for leftover in ProcessSupervisor.stopLeftovers(recordedIn: layout.childRecordPath) {
                log("stopped \(leftover.name) (pid \(leftover.pid)) left by an earlier server")
            }
            supervisor = ChildSupervisor(
                options: .init(
                    executable: try ownExecutable(), logDirectory: layout.logDirectory,
                    recordPath: layout.childRecordPath),
                log: log)
        } catch {
            log("\(error)")
            throw ExitCode.failure
        }
        let (stops, stop) = AsyncStream<Void>.makeStream()
        try handleStopSignals(stop)

        await supervisor.start(layout.manager)
        await supervisor.start(layout.v1InstanceManager)
        let token = try apiTokenFile.map { try readAPIToken(path: $0) }
        let follower = try DataEngineFollower(layout: layout, token: token, supervisor: supervisor, log: log)
        let following = Task { await follower.run() }
        log("running in \(layout.dataDirectory); the API on port \(layout.managerPort)")

        // The first signal stops the children in order; a second one while they stop ends the
        // server at once, and the record under --data-dir lets the next server stop what is left.
        let (firstStop, firstStopSeen) = AsyncStream<Void>.makeStream()
        Task {
            var signals = 0
            for await _ in stops {
                signals += 1
                guard signals == 1 else {
                    log("stopping at once: a second stop signal")
                    Glibc.exit(1)
                }
                firstStopSeen.yield()
                firstStopSeen.finish()
            }
        }
        for await _ in firstStop { break }
        log("stopping")
        following.cancel()
        await following.value
        // The manager first: the node's own stop is no failure for it to act on.
        await supervisor.stopAll(
            first: [ServerLayout.managerName, ServerLayout.v2InstanceManagerName, ServerLayout.tgtName])
        log("stopped")
    }
}
