// A real `hornbill tgt` for the instance-manager tests (restartable on the same socket), a
// V2Instances actor on it, the port ranges tests hand out, and polling.

public import Foundation
import Glibc
public import InstanceManager
public import JSONRPC

/// The `hornbill` executable the test command built, beside the test bundle.
public func hornbillExecutable() -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    if directory.lastPathComponent == "MacOS" {
        directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    return directory.appendingPathComponent("hornbill")
}

/// A running `hornbill tgt`; `restart()` kills it and starts a new one on the same socket.
public final class TgtDaemon: @unchecked Sendable {
    public let socket = "/tmp/hornbill-im-\(getpid())-\(UUID().uuidString.prefix(8)).sock"
    private var process: Process

    public init() throws {
        process = try Self.launch(socket)
    }

    private static func launch(_ socket: String) throws -> Process {
        unlink(socket)
        let process = Process()
        process.executableURL = hornbillExecutable()
        process.arguments = ["tgt", "-r", socket, "-m", "0x1"]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        for _ in 0..<500 {
            if (try? JSONRPCClient(path: socket)) != nil { return process }
            usleep(10_000)
        }
        throw JSONRPCClient.ClientError(description: "the tgt did not start listening on \(socket)")
    }

    /// SIGKILL, then a new daemon on the same socket (it has forgotten every bdev).
    public func restart() throws {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        process = try Self.launch(socket)
    }

    public func call(_ method: String, _ members: [(String, JSONValue)] = []) throws -> Result<JSONValue, JSONRPCError> {
        try JSONRPCClient(path: socket).call(
            method, params: members.isEmpty ? nil : .object(members.map { (key: $0.0, value: $0.1) }))
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        unlink(socket)
    }
}

/// A run of 16 ports for one V2Instances, below the kernel's ephemeral range (so no outgoing
/// connection holds one) and distinct from every other range this process hands out.
public func testPortRange() -> ClosedRange<Int> {
    let base = firstOfFreeTCPPorts(16)
    return base...(base + 15)
}

/// A V2Instances actor on `daemon` listening on loopback.
public func makeInstances(
    _ daemon: TgtDaemon, ports: ClosedRange<Int>, reconcileInterval: Duration = .seconds(3)
) -> V2Instances {
    V2Instances(
        configuration: V2InstancesConfiguration(
            tgtSocketPath: daemon.socket, ip: "127.0.0.1", portRange: ports, rpcTimeout: .seconds(10),
            reconcileInterval: reconcileInterval,
            replicaControllerTimeouts: ControllerTimeouts(
                controllerLossTimeout: 2, reconnectDelay: 1, fastIOFailTimeout: 1)))
}

/// Polls `body` until it returns a value (up to `seconds`).
public func eventually<T>(_ seconds: Double = 10, _ body: () async throws -> T?) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if let value = try await body() { return value }
        guard Date() < deadline else {
            throw InstanceManagerError(.unavailable, "condition not met within \(seconds) s")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
