// What the instance-manager process tests share: real `hornbill tgt` and `hornbill
// instance-manager` processes, gRPC clients of their services, tools run as processes.

import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Glibc
import InstanceManagerAPI
import JSONRPC
import Synchronization
import TestSupport
import Testing

/// The `hornbill` executable the test command built, beside the test bundle.
func hornbillPath() -> String {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("hornbill").path
}

/// A fresh directory under /tmp, removed when released.
final class ScratchSpace: @unchecked Sendable {
    let path = "/tmp/hornbill-imsvc-\(getpid())-\(UUID().uuidString.prefix(8))"
    init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }

    /// A sparse file of `size` bytes in the directory.
    func file(_ name: String, size: Int) throws -> String {
        let file = "\(path)/\(name)"
        guard FileManager.default.createFile(atPath: file, contents: nil), truncate(file, off_t(size)) == 0 else {
            throw InstanceManagerTestError("cannot make \(file)")
        }
        return file
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

struct InstanceManagerTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A `hornbill` daemon process (killed when released) whose stderr goes to a file.
final class DaemonProcess: @unchecked Sendable {
    let arguments: [String]
    let logPath: String
    private(set) var process: Process

    init(_ arguments: [String], logPath: String) throws {
        self.arguments = arguments
        self.logPath = logPath
        process = try Self.launch(arguments, logPath: logPath)
    }

    private static func launch(_ arguments: [String], logPath: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: hornbillPath())
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        try process.run()
        return process
    }

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits for the exit; the exit status (the signal's number if it was killed).
    ///
    /// Reaps the pid itself rather than calling `Process.waitUntilExit()`: Foundation learns of the
    /// exit when a socket the child inherited is closed, and the processes an instance manager
    /// started (left running when it is killed) inherit that socket too, so Foundation would wait
    /// for them as well, for ever.
    @discardableResult
    func stop(_ signal: Int32) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        let pid = process.processIdentifier
        kill(pid, signal)
        var status: Int32 = 0
        var reaped: pid_t
        repeat { reaped = waitpid(pid, &status, 0) } while reaped < 0 && errno == EINTR
        guard reaped == pid else {  // Foundation reaped it first
            process.waitUntilExit()
            return process.terminationStatus
        }
        let killedBy = status & 0x7f
        return killedBy == 0 ? (status >> 8) & 0xff : killedBy
    }

    /// Kills the process (SIGKILL) and starts it again with the same arguments.
    func restart() throws {
        stop(SIGKILL)
        process = try Self.launch(arguments, logPath: logPath)
    }

    deinit { stop(SIGKILL) }
}

/// A slot of 64 ports distinct from every other this test process hands out: ports 0-7 for the
/// instance manager's servers, 8-35 for V1 processes, 36-63 for V2 instances.
func portSlot() -> Int {
    firstOfFreeTCPPorts(64)
}

/// A `hornbill tgt` on its own socket.
final class Tgt: @unchecked Sendable {
    let socket: String
    let daemon: DaemonProcess

    init(_ scratch: ScratchSpace, name: String) throws {
        socket = "\(scratch.path)/\(name).sock"
        daemon = try DaemonProcess(["tgt", "-r", socket, "-m", "0x1"], logPath: "\(scratch.path)/\(name).log")
        try waitForSocket()
    }

    private func waitForSocket() throws {
        for _ in 0..<500 {
            if (try? JSONRPCClient(path: socket)) != nil { return }
            usleep(10_000)
        }
        throw InstanceManagerTestError("the tgt did not listen on \(socket): \(daemon.log)")
    }

    /// SIGKILL and a new tgt on the same socket (it has forgotten every bdev).
    func restart() throws {
        daemon.stop(SIGKILL)
        unlink(socket)
        try daemon.restart()
        try waitForSocket()
    }
}

/// A `hornbill instance-manager` process with the SPDK data engine on `tgt`, listening on loopback.
final class ManagerProcess: @unchecked Sendable {
    let basePort: Int
    let daemon: DaemonProcess
    let dataDir: String

    init(_ scratch: ScratchSpace, name: String, tgt: Tgt, extraArguments: [String] = []) throws {
        basePort = portSlot()
        dataDir = "\(scratch.path)/\(name)-data"
        daemon = try DaemonProcess(
            [
                "instance-manager", "--listen", "127.0.0.1:\(basePort)", "--spdk-enabled", "--spdk-socket", tgt.socket,
                "--port-range", "\(basePort + 8)-\(basePort + 35)", "--spdk-port-range",
                "\(basePort + 36)-\(basePort + 63)", "--data-dir", dataDir,
            ] + extraArguments, logPath: "\(scratch.path)/\(name).log")
        try waitUntilListening()
    }

    var instancePort: Int { basePort + 3 }
    var diskPort: Int { basePort + 2 }

    func waitUntilListening() throws {
        for _ in 0..<1000 {
            if canConnect(port: basePort + 4) && canConnect(port: instancePort) { return }
            guard daemon.process.isRunning else { break }
            usleep(10_000)
        }
        throw InstanceManagerTestError("the instance manager did not listen on \(basePort): \(daemon.log)")
    }

    /// SIGKILL and the same command again.
    func restart() throws {
        try daemon.restart()
        try waitUntilListening()
    }
}

/// Runs `body` with clients of the instance and disk services of `manager`.
func withServices<Result: Sendable>(
    _ manager: ManagerProcess,
    _ body: @Sendable (Imrpc_InstanceService.Client<HTTP2ClientTransport.Posix>, Imrpc_DiskService.Client<HTTP2ClientTransport.Posix>)
        async throws -> Result
) async throws -> Result {
    try await withClient(port: manager.instancePort) { instance in
        try await withClient(port: manager.diskPort) { disk in
            try await body(Imrpc_InstanceService.Client(wrapping: instance), Imrpc_DiskService.Client(wrapping: disk))
        }
    }
}

/// The RPC error `body` throws, or nil if it succeeds.
func rpcError(_ body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(code: .unknown, message: "not an RPCError: \(error)")
    }
}

/// Polls `body` until it returns a value (up to `seconds`).
func eventually<T>(_ what: String, within seconds: Double = 15, _ body: () async throws -> T?) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if let value = try? await body() { return value }
        guard Date() < deadline else { throw InstanceManagerTestError("\(what): not within \(seconds) s") }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// Runs a program off the cooperative pool; its exit status and output.
func runTool(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await offThread { try runCommand(arguments) }
}

/// fio over NBD writing 2 MiB with crc32c verify headers, or (verifyOnly) checking them.
func fio(_ endpoint: String, verifyOnly: Bool = false) async throws -> (status: Int32, output: String) {
    try await runTool(
        [
            "fio", "--name=im", "--ioengine=nbd", "--uri=\(endpoint)", "--rw=write", "--bs=4k", "--iodepth=8",
            "--size=2M", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0",
        ] + (verifyOnly ? ["--verify_only=1"] : []))
}

/// A count shared between a watching task and the test.
final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}
