import ArgumentParser
import Foundation
import Glibc
import Hummingbird
import Logging
import ManagerControllers
import ManagerModel
import ManagerREST
import ManagerStore
import NIOCore

/// `hornbill manager`: the control plane of one node (Longhorn's longhorn-manager): the resource
/// store under --data-dir, the REST API, and the controllers that act on the store.
struct ManagerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manager",
        abstract: "Run the manager: the resource store, Longhorn's /v1 REST API and the controllers.")

    @Option(help: "Directory of the resource store (created if missing).")
    var dataDir: String

    @Option(help: "REST API listen address, host:port.")
    var listen = "0.0.0.0:9500"

    @Option(help: "This node's name (default: the host name).")
    var nodeName: String?

    @Option(help: "This node's address for storage traffic (default: the host's first non-loopback IPv4).")
    var address: String?

    @Option(help: "A file holding a bearer token every API request must carry.")
    var apiTokenFile: String?

    @Option(help: "This node's V1 instance manager, host:port (its first gRPC port).")
    var v1InstanceManager = "127.0.0.1:8500"

    @Option(help: "This node's V2 instance manager, host:port (its first gRPC port; it runs while v2-data-engine is true).")
    var v2InstanceManager = "127.0.0.1:8600"

    @Option(help: "Where the node's default disk is made: <dir>/disks/default (default: --data-dir).")
    var diskDir: String?

    @Option(help: "The directory of the node's *.log files, which support bundles include.")
    var logDir: String?

    func validate() throws {
        _ = try parsedListen()
        if let address, !InstanceManagerCommand.isIPAddress(address) {
            throw ValidationError("--address \(address) is not an IP address")
        }
        if let nodeName, nodeName.isEmpty { throw ValidationError("--node-name must not be empty") }
        _ = try Self.instanceManagerAddress(v1InstanceManager, option: "--v1-instance-manager")
        _ = try Self.instanceManagerAddress(v2InstanceManager, option: "--v2-instance-manager")
    }

    static func instanceManagerAddress(_ text: String, option: String) throws -> InstanceManagerAddress {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65531).contains(port)
        else {
            throw ValidationError("\(option) \(text): want host:port with a port of 1-65531")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard InstanceManagerCommand.isIPAddress(host) else {
            throw ValidationError("\(option) \(text): \(host) is not an IP address")
        }
        return InstanceManagerAddress(host: host, port: port)
    }

    func run() async throws {
        let (host, port) = try parsedListen()
        let token = try readToken()
        let identity = ManagerIdentity(
            nodeName: nodeName ?? ProcessInfo.processInfo.hostName,
            address: address ?? InstanceManagerCommand.defaultIP(listenHost: host))
        let store: SQLiteResourceStore
        do {
            store = try SQLiteResourceStore(directory: dataDir)
        } catch {
            Self.fail("\(error)")
        }
        defer { try? store.close() }

        let api = ManagerAPI(
            groups: [
                SettingRoutes(store: store, changeValidator: DataEngineSettingValidator(store: store)),
                NodeRoutes(store: store), InstanceManagerRoutes(store: store), TagRoutes(store: store),
                VolumeRoutes(store: store),
                EngineImageRoutes(store: store, configuration: .init(ownerID: identity.nodeName)),
                SupportBundleRoutes(
                    bundles: SupportBundles(
                        store: store,
                        configuration: .init(
                            directory: "\(dataDir)/support-bundles", nodeName: identity.nodeName, logDirectory: logDir
                        ))),
            ],
            configuration: .init(fallbackHost: "\(identity.address):\(port)", bearerToken: token))
        var logger = Logger(label: "hornbill-manager")
        logger.logLevel = .critical  // this command says what matters itself, one line each
        let application = Application(
            router: api.makeRouter(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "hornbill"),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                FileHandle.standardError.write(
                    Data(
                        "hornbill manager: listening on \(host):\(bound), node \(identity.nodeName) (\(identity.address))\n"
                            .utf8))
            },
            logger: logger)

        // The controllers run beside the API until it stops, each a task that runs until
        // cancelled: this node's Node resource with its disks and its InstanceManager resources, the
        // volumes with their attachments, and the instances (replicas, engines) scheduled on it.
        var controllerLogger = Logger(label: "hornbill-manager.controllers")
        controllerLogger.logLevel = .warning  // a reconcile that fails says why, once per failure
        let nodeControllers = NodeControllers(
            store: store, nodeName: identity.nodeName, address: identity.address,
            dataDirectory: diskDir ?? dataDir,
            instanceManagers: InstanceManagerAddresses(
                v1: try Self.instanceManagerAddress(v1InstanceManager, option: "--v1-instance-manager"),
                v2: try Self.instanceManagerAddress(v2InstanceManager, option: "--v2-instance-manager")),
            options: ReconcileOptions(resyncInterval: Self.resyncInterval), logger: controllerLogger)
        let volumeControllers = VolumeControllers(
            store: store, nodeName: identity.nodeName, options: ReconcileOptions(resyncInterval: Self.resyncInterval),
            logger: controllerLogger)
        let instanceControllers = InstanceControllers(
            store: store,
            configuration: InstanceHandlerConfiguration(
                nodeName: identity.nodeName, address: identity.address,
                instanceManagers: InstanceManagerAddresses(
                    v1: try Self.instanceManagerAddress(v1InstanceManager, option: "--v1-instance-manager"),
                    v2: try Self.instanceManagerAddress(v2InstanceManager, option: "--v2-instance-manager")),
                v1Launch: V1ProcessLaunch(executable: Self.executablePath(), runDirectory: try runDirectory())),
            options: ReconcileOptions(resyncInterval: Self.resyncInterval), logger: controllerLogger)
        let controllers: [@Sendable () async throws -> Void] = [
            { await nodeControllers.run() }, { await volumeControllers.run() }, { await instanceControllers.run() },
        ]

        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // SIGTERM and SIGINT stop the API gracefully; the controllers are then cancelled.
                group.addTask { try await application.runService() }
                for controller in controllers { group.addTask { try await controller() } }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            Self.fail("\(error)")
        }
        FileHandle.standardError.write(Data("hornbill manager: stopped\n".utf8))
    }

    /// This executable, which the V1 instance manager runs as `hornbill replica` and `hornbill controller`.
    static func executablePath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// `<data-dir>/run`, where V1 controllers make their status sockets (created if missing).
    private func runDirectory() throws -> String {
        let path = URL(fileURLWithPath: dataDir).appendingPathComponent("run").path
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("cannot make \(path): \(error)")
        }
        return path
    }

    /// How often every resource is reconciled even when nothing changed in the store (an instance
    /// manager that died is seen within this).
    static let resyncInterval: Duration = .seconds(5)

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("hornbill manager: \(message)\n".utf8))
        Glibc.exit(1)
    }

    private func readToken() throws -> String? {
        try apiTokenFile.map { try readAPIToken(path: $0) }
    }

    private func parsedListen() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":") else { throw ValidationError("--listen \(listen): want host:port") }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        guard InstanceManagerCommand.isIPAddress(host) else {
            throw ValidationError("--listen \(listen): \(host) is not an IP address")
        }
        guard let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen \(listen): the port must be 0-65535")
        }
        return (host, port)
    }
}

/// Who this manager is: the node it runs on and the address its node's storage traffic uses
/// (what the controllers write into the Node resource).
struct ManagerIdentity: Sendable {
    var nodeName: String
    var address: String
}
