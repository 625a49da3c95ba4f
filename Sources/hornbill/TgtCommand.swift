import ArgumentParser
import BlockCore
import BlockDevices
import EngineRPC
import Foundation
import JSONRPC
import NIOCore
import NIOPosix

/// `hornbill tgt`: the V2 data-plane daemon, driven over SPDK's JSON-RPC (like spdk_tgt).
struct TgtCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tgt",
        abstract: "Run the V2 data plane, serving SPDK's JSON-RPC on a Unix socket (like spdk_tgt).")

    @Option(name: [.customShort("r"), .long], help: "The RPC socket.")
    var rpcSocket = "/var/tmp/spdk.sock"

    @Option(name: [.customShort("m"), .long], help: "CPU mask (accepted; one reactor is used).")
    var cpumask: String?

    @Option(name: [.customShort("s"), .long], help: "Memory for I/O buffers in MiB (2 MiB hugepages when reserved).")
    var memSize = 256

    @Flag(help: "Use ordinary pages for I/O buffers, not hugepages.")
    var noHuge = false

    @Option(
        help: ArgumentHelp(
            "Microseconds an idle reactor polls before it sleeps (default: \(DeviceLimits.defaultPollMicroseconds)).",
            discussion: """
                Polling saves a wake-up when the next command or completion comes soon; on a machine \
                whose cores are shared with its disk's emulation, the spinning costs the disk time.
                """))
    var pollUs = DeviceLimits.defaultPollMicroseconds

    @Flag(help: "Never poll: sleep until there is work (SPDK's interrupt mode; the same as --poll-us 0).")
    var interruptMode = false

    @Option(name: [.customShort("L"), .customLong("logflag")], help: "Enable a log flag (repeatable), e.g. -L lvol.")
    var logFlags: [String] = []

    @Option(help: "Print level: ERROR, WARNING, NOTICE, INFO or DEBUG.")
    var logLevel = "NOTICE"

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var ignored: [String] = []

    func validate() throws { try validatePollMicroseconds(pollUs) }

    func run() async throws {
        let memory = try IOMemoryArena(megabytes: memSize, hugePages: !noHuge)
        let poll = interruptMode ? 0 : pollUs
        let reactor = try Reactor(name: "reactor_0", options: .init(pollMicroseconds: poll))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let (stops, stop) = AsyncStream<Void>.makeStream()
        let target = SPDKTarget(registry: BlockDeviceRegistry(), reactor: reactor) {
            // spdk_kill_instance: let its reply go out before the daemon stops.
            Task {
                try? await Task.sleep(for: .milliseconds(100))
                stop.yield()
            }
        }
        try configureLogging(target)
        // Said before the socket listens, so whoever sees the socket can find the line.
        target.logSettings.log(
            .notice,
            "hornbill tgt: \(reactor.name) " + (poll == 0 ? "in interrupt mode (never polls)" : "polls \(poll) µs before it sleeps"))
        try handleStopSignals(stop)
        let server = try await JSONRPCServer.start(path: rpcSocket, handler: target, group: group)
        target.logSettings.log(.notice, "hornbill tgt: \(memory.summary)")
        target.logSettings.log(.notice, "hornbill tgt: serving SPDK JSON-RPC on \(rpcSocket)")
        for await _ in stops { break }
        target.logSettings.log(.notice, "hornbill tgt: stopping")
        await server.stop()
        await target.closeAll()
        reactor.shutdown()
        try await group.shutdownGracefully()
        withExtendedLifetime(memory) {}
    }
}

/// Refuses a `--poll-us` (of `tgt` or `perf`) outside the window a reactor accepts.
func validatePollMicroseconds(_ value: Int) throws {
    guard (0...DeviceLimits.maxPollMicroseconds).contains(value) else {
        throw ValidationError("--poll-us must be 0...\(DeviceLimits.maxPollMicroseconds)")
    }
}

extension TgtCommand {
    /// Applies --log-level and -L through the same methods an RPC client would use.
    func configureLogging(_ target: SPDKTarget) throws {
        // Each with the value it sets, named in the error (SPDK's messages do not name it).
        var requests: [(method: String, params: JSONValue, value: String)] = [
            ("log_set_print_level", .object([("level", .string(logLevel))]), logLevel),
            ("log_set_level", .object([("level", .string(logLevel))]), logLevel),
        ]
        requests += logFlags.map { ("log_set_flag", .object([("flag", .string($0))]), $0) }
        for request in requests {
            if case .failure(let error) = target.handleNow(request.method, request.params) {
                throw ValidationError("\(request.method): \(error.message) \(request.value)")
            }
        }
    }
}

/// `hornbill rpc`: call one method, print the result as rpc.py does.
struct RPCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc", abstract: "Call one SPDK JSON-RPC method of a running `hornbill tgt`.")

    @Option(name: [.customShort("s"), .long], help: "The RPC socket.")
    var server = "/var/tmp/spdk.sock"

    @Argument(help: "The method, e.g. bdev_get_bdevs.")
    var method: String

    @Argument(help: "Params as a JSON object, e.g. '{\"name\": \"Malloc0\"}'.")
    var params: String?

    func run() throws {
        var parsed: JSONValue?
        if let params {
            do {
                parsed = try JSONParser.parse(Array(params.utf8))
            } catch {
                throw ValidationError("params are not valid JSON: \(error)")
            }
        }
        let client = try JSONRPCClient(path: server)
        switch try client.call(method, params: parsed) {
        case .success(.string(let text)):
            print(text)
        case .success(let value):
            print(value.prettyPrinted())
        case .failure(let error):
            FileHandle.standardError.write(Data("request failed: \(method): code \(error.code): \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
