import ArgumentParser
import BlockCore
import BlockDevices
import DataEngineV1
import Foundation
import JSONRPC
import NBD
import NIOCore
import NIOPosix

/// `hornbill controller`: the V1 engine — a volume replicated over replica processes, presented
/// through a frontend.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Run a V1 volume controller over replica processes, presented through a frontend (nbd).",
        discussion: """
            Example:
              hornbill replica /data/replicas/vol-0a1b2c3d --size 1073741824 --listen 127.0.0.1:9502 &
              hornbill controller vol --size 1073741824 --replica tcp://127.0.0.1:9502 \\
                  --frontend nbd --listen 127.0.0.1:10810 --status-socket /tmp/vol.sock
              hornbill rpc -s /tmp/vol.sock controller_status
            """)

    @Argument(help: "The volume's name (also its NBD export name).")
    var volume: String

    @Option(help: "Volume size in bytes (a multiple of 4096).")
    var size: Int64

    @Option(name: .customLong("replica"), help: "A replica, tcp://HOST:PORT (repeat for each).")
    var replicas: [String] = []

    @Option(help: "The frontend: nbd.")
    var frontend = "nbd"

    @Option(help: "Where the frontend listens, HOST:PORT.")
    var listen: String

    @Option(help: "Seconds a replica may take to answer before it is marked ERR.")
    var replicaTimeout: Double = 8

    @Option(help: "A Unix socket answering controller_status and controller_replica_remove (JSON-RPC).")
    var statusSocket: String?

    @Option(help: "Microseconds an idle reactor polls before it sleeps (default: \(V1ProcessLimits.defaultPollMicroseconds), sleep at once).")
    var pollUs = V1ProcessLimits.defaultPollMicroseconds

    func validate() throws { try validatePollMicroseconds(pollUs) }

    func run() async throws {
        guard frontend == "nbd" else { throw ValidationError("frontend \(frontend) is not available; use nbd") }
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen must be HOST:PORT, not \(listen)")
        }
        guard replicaTimeout > 0 else { throw ValidationError("--replica-timeout must be positive") }
        let reactor = try Reactor(name: "controller", options: .init(pollMicroseconds: pollUs))
        let controller: V1Controller
        do {
            controller = try await V1Controller.start(
                volume: volume, size: size, replicas: replicas, reactor: reactor,
                timeout: .milliseconds(Int64(replicaTimeout * 1000)))
        } catch {
            throw ValidationError("\(error)")
        }
        let (stops, stop) = AsyncStream<Void>.makeStream()
        try handleStopSignals(stop)
        let nbd = NBDServer(reactor: reactor)
        let address = NBDAddress(host: String(listen[..<colon]), port: port)
        do {
            try nbd.createExport(name: volume, device: controller, address: address, readOnly: false)
        } catch {
            throw ValidationError("cannot listen on \(listen): \(error)")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let endpoint = "nbd://\(address.host):\(nbd.boundPort(address) ?? port)/\(volume)"
        var statusServer: JSONRPCServer?
        if let statusSocket {
            statusServer = try await JSONRPCServer.start(
                path: statusSocket,
                handler: ControllerSocketMethods(controller: controller, frontend: frontend, endpoint: endpoint),
                group: group)
        }
        for status in controller.status {
            FileHandle.standardError.write(Data("hornbill controller: replica \(status.address) \(status.mode.rawValue)\(status.reason.map { " (\($0))" } ?? "")\n".utf8))
        }
        FileHandle.standardError.write(Data("hornbill controller: \(volume) serving \(endpoint)\n".utf8))
        for await _ in stops { break }
        await nbd.stop()
        await statusServer?.stop()
        await controller.stop()
        reactor.shutdown()
        try await group.shutdownGracefully()
    }
}
