import ArgumentParser
import BlockDevices
import DataEngineV1
import Foundation

/// `hornbill replica`: a V1 replica process serving a replica directory over the replica protocol.
struct ReplicaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replica",
        abstract: "Serve a V1 replica directory (sparse head file, volume.meta, revision.counter) over the replica protocol.")

    @Argument(help: "The replica directory, e.g. /var/lib/longhorn/replicas/vol-1a2b3c4d (created when empty).")
    var directory: String

    @Option(help: "Volume size in bytes (a multiple of 4096; must match an existing replica).")
    var size: Int64

    @Option(help: "Address to serve on, HOST:PORT.")
    var listen: String

    @Option(help: "Microseconds an idle reactor polls before it sleeps (default: \(V1ProcessLimits.defaultPollMicroseconds), sleep at once).")
    var pollUs = V1ProcessLimits.defaultPollMicroseconds

    func validate() throws { try validatePollMicroseconds(pollUs) }

    func run() async throws {
        guard let colon = listen.lastIndex(of: ":"), let port = UInt16(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen must be HOST:PORT, not \(listen)")
        }
        let host = String(listen[..<colon])
        let replica: ReplicaDirectory
        do {
            replica = try ReplicaDirectory.openOrCreate(path: directory, size: size)
        } catch {
            throw ValidationError("\(error)")
        }
        let reactor = try Reactor(name: "replica", options: .init(pollMicroseconds: pollUs))
        let server = try ReplicaServer(directory: replica, reactor: reactor)
        let (stops, stop) = AsyncStream<Void>.makeStream()
        try handleStopSignals(stop)
        let bound: UInt16
        do {
            bound = try server.listen(host: host, port: port)
        } catch {
            throw ValidationError("cannot listen on \(listen): \(error)")
        }
        FileHandle.standardError.write(Data("hornbill replica: serving \(directory) (\(size) bytes, revision \(replica.loadRevision())) on \(host):\(bound)\n".utf8))
        for await _ in stops { break }
        await server.stop()
        reactor.shutdown()
    }
}
