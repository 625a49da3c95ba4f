// What the V2 instance-manager tests share: a real `hornbill tgt` process (restartable on the
// same socket), a V2Instances actor on it, tools run as processes (fio, `hornbill nvme`), waits.

import Foundation
import Glibc
import InstanceManager
import JSONRPC
import Synchronization
import TestSupport
import Testing

/// The `hornbill` executable the test command built, beside the test bundle.
func hornbillExecutable() -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    if directory.lastPathComponent == "MacOS" {
        directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    return directory.appendingPathComponent("hornbill")
}

/// A running `hornbill tgt`; `restart()` kills it and starts a new one on the same socket.
final class TgtDaemon: @unchecked Sendable {
    let socket = "/tmp/hornbill-im-\(getpid())-\(UUID().uuidString.prefix(8)).sock"
    private var process: Process

    init() throws {
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
    func restart() throws {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        process = try Self.launch(socket)
    }

    func call(_ method: String, _ members: [(String, JSONValue)] = []) throws -> Result<JSONValue, JSONRPCError> {
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

private let nextPortSlot = Mutex<Int>(0)

/// A run of 16 ports for one V2Instances, below the kernel's ephemeral range (so no outgoing
/// connection holds one) and distinct from every other range this process hands out.
func testPortRange() -> ClosedRange<Int> {
    let slot = nextPortSlot.withLock { next in
        defer { next += 1 }
        return next
    }
    let slots = 11000 / 16
    let base = 21000 + ((Int(getpid()) + slot) % slots) * 16
    return base...(base + 15)
}

/// A V2Instances actor on `daemon` listening on loopback.
func makeInstances(_ daemon: TgtDaemon, ports: ClosedRange<Int>) -> V2Instances {
    V2Instances(
        configuration: V2InstancesConfiguration(
            tgtSocketPath: daemon.socket, ip: "127.0.0.1", portRange: ports, rpcTimeout: .seconds(10),
            reconcileInterval: .seconds(3),
            replicaControllerTimeouts: ControllerTimeouts(
                controllerLossTimeout: 2, reconnectDelay: 1, fastIOFailTimeout: 1)))
}

/// Polls `body` until it returns a value (up to `seconds`).
func eventually<T>(_ seconds: Double = 10, _ body: () async throws -> T?) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if let value = try await body() { return value }
        guard Date() < deadline else {
            throw InstanceManagerError(.unavailable, "condition not met within \(seconds) s")
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// A disk on a sparse file, created and waited for until ready.
func readyDisk(_ instances: V2Instances, name: String, file: TemporaryFile, uuid: String = "") async throws -> DiskInfo
{
    let created = try await instances.diskCreate(name: name, uuid: uuid, path: file.path, blockSize: 512)
    #expect(created.state == .creating || created.state == .ready)
    return try await eventually {
        let disk = try await instances.diskGet(name: name)
        return disk.state == .creating ? nil : disk
    }
}

/// Runs a program; its exit status and output.
func runTool(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// fio over NBD writing 2 MiB with crc32c verify headers, or (verifyOnly) checking them.
func fio(_ endpoint: String, verifyOnly: Bool = false) throws -> (status: Int32, output: String) {
    try runTool(
        [
            "fio", "--name=im", "--ioengine=nbd", "--uri=\(endpoint)", "--rw=write", "--bs=4k", "--iodepth=8",
            "--size=2M",
            "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0",
        ] + (verifyOnly ? ["--verify_only=1"] : []))
}
