// What the controller tests share: a store in a scratch directory, a real `hornbill tgt` with a
// real `hornbill instance-manager --spdk-enabled` on it, gRPC clients of its disk service, and
// polling.

import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Glibc
import InstanceManagerAPI
import ManagerControllers
import ManagerModel
import ManagerStore
import TestSupport

struct ControllerTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A scratch directory with a store in it, removed when released.
final class StoreScratch: @unchecked Sendable {
    let path = "/tmp/hornbill-ctl-\(getpid())-\(UUID().uuidString.prefix(8))"
    let store: SQLiteResourceStore

    init() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        store = try SQLiteResourceStore(directory: "\(path)/store")
    }

    var dataDirectory: String { "\(path)/data" }

    /// A sparse file of `size` bytes.
    func file(_ name: String, size: Int) throws -> String {
        let file = "\(path)/\(name)"
        guard FileManager.default.createFile(atPath: file, contents: nil), truncate(file, off_t(size)) == 0 else {
            throw ControllerTestError("cannot make \(file)")
        }
        return file
    }

    func setSetting(_ name: String, _ value: String) async throws {
        let setting = Setting(
            metadata: ResourceMetadata(name: name), value: value, status: SettingStatus(applied: true))
        if let stored = try await store.get(Setting.self, name) {
            _ = try await store.update(setting, name: name, expectedVersion: stored.resourceVersion)
        } else {
            _ = try await store.create(setting, name: name)
        }
    }

    func node(_ name: String = "node-1") async throws -> StoredObject<Node> {
        guard let node = try await store.get(Node.self, name) else { throw ControllerTestError("no node \(name)") }
        return node
    }

    /// Changes the stored node's spec with compare-and-swap.
    func changeNode(_ name: String = "node-1", _ change: (inout NodeSpec) -> Void) async throws {
        for _ in 0..<10 {
            let stored = try await node(name)
            var value = stored.value
            change(&value.spec)
            do {
                _ = try await store.update(value, name: name, expectedVersion: stored.resourceVersion)
                return
            } catch .conflict {
                continue
            }
        }
        throw ControllerTestError("node \(name) kept changing")
    }

    deinit {
        try? store.close()
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// 64 ports of their own for one instance manager: its servers at +0…+7, V1 processes +8…+35,
/// V2 instances +36…+63; below the kernel's ephemeral range and apart from other suites' ranges.
/// A block another test process's instance manager already serves is passed over (its servers
/// would answer for ours).
func instanceManagerPortBase() -> Int {
    var base = 0
    for _ in 0..<30 {
        base = firstOfFreeTCPPorts(64)
        if !(0..<8).contains(where: { canConnect(port: base + $0) }) { return base }
    }
    return base
}

/// A `hornbill instance-manager --spdk-enabled` on `tgt`, killed when released.
final class InstanceManagerDaemon: @unchecked Sendable {
    let address: InstanceManagerAddress
    let logPath: String
    private let process: Process

    /// - Parameter portBase: the first port; by default a block of its own.
    init(tgt: TgtDaemon, scratch: StoreScratch, portBase: Int? = nil) throws {
        let base = portBase ?? instanceManagerPortBase()
        address = InstanceManagerAddress(host: "127.0.0.1", port: base)
        logPath = "\(scratch.path)/im.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        process.executableURL = hornbillExecutable()
        process.arguments = [
            "instance-manager", "--listen", "127.0.0.1:\(base)", "--spdk-enabled", "--spdk-socket", tgt.socket,
            "--port-range", "\(base + 8)-\(base + 35)", "--spdk-port-range", "\(base + 36)-\(base + 63)",
            "--data-dir", "\(scratch.path)/im-data",
        ]
        let logFile = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = logFile
        process.standardOutput = logFile
        try process.run()
        for _ in 0..<1000 {
            // Its own line, not a connection: another test process's instance manager may hold the ports.
            if log.contains("listening on 127.0.0.1:\(base)-") { return }
            guard process.isRunning else { break }
            usleep(10_000)
        }
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw ControllerTestError("the instance manager did not listen on \(base): \(output)")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGKILL, and the exit reaped here (Foundation would also wait for the processes it started).
    func kill() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// SIGTERM, so that it stops the V1 processes it runs (they would outlive a SIGKILL and hold
    /// their ports); SIGKILL if it has not exited within 10 s.
    func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        Glibc.kill(pid, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<1000 {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped < 0 && errno != EINTR) { return }
            usleep(10_000)
        }
        kill()
    }

    deinit { stop() }
}

/// Runs `body` with a client of the disk service at `address`.
func withDiskService<Result: Sendable>(
    _ address: InstanceManagerAddress,
    _ body: @Sendable (Imrpc_DiskService.Client<HTTP2ClientTransport.Posix>) async throws -> Result
) async throws -> Result {
    let transport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: address.host, port: address.diskServicePort), transportSecurity: .plaintext)
    return try await withGRPCClient(transport: transport) { client in
        try await body(Imrpc_DiskService.Client(wrapping: client))
    }
}

/// The disk service's view of disk `name`, nil when it does not know it.
func diskServiceDisk(_ address: InstanceManagerAddress, _ name: String) async throws -> Imrpc_Disk? {
    try await withDiskService(address) { disks in
        var request = Imrpc_DiskGetRequest()
        request.diskType = .block
        request.diskName = name
        do {
            return try await disks.diskGet(request)
        } catch let error as RPCError where error.code == .notFound {
            return nil
        }
    }
}

/// Polls `body` until it returns a value, up to `seconds` (generous: a machine running every suite
/// at once starts processes slowly).
func until<T>(_ what: String, within seconds: Double = 60, _ body: () async throws -> T?) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if let value = try await body() { return value }
        guard Date() < deadline else { throw ControllerTestError("\(what): not within \(seconds) s") }
        try await Task.sleep(for: .milliseconds(50))
    }
}

/// Options that make a loop react within a test's patience.
let fastLoop = ReconcileOptions(
    resyncInterval: .milliseconds(200), retryDelayBase: .milliseconds(50), retryDelayMax: .milliseconds(500))

/// Runs `controllers` while `body` runs.
func whileRunning<Result: Sendable>(
    _ controllers: NodeControllers, _ body: @Sendable () async throws -> Result
) async throws -> Result {
    let task = Task { await controllers.run() }
    defer { task.cancel() }
    let result = try await body()
    task.cancel()
    await task.value
    return result
}
