// `hornbill tgt` as rpc.py and go-spdk-helper meet it: a real daemon process on a Unix socket.

import BlockDevices
import Foundation
import JSONRPC
import LogicalVolumes
import TestSupport
import Testing

/// A running `hornbill tgt`, stopped when released.
final class Daemon {
    let socket: String
    let process = Process()

    /// Starts a daemon with `arguments` added to its command line; its log goes to `log`, or nowhere.
    init(_ arguments: [String] = [], log: Pipe? = nil) throws {
        socket = "/tmp/hornbill-test-\(getpid())-\(UUID().uuidString.prefix(8)).sock"
        process.executableURL = builtProduct("hornbill")
        process.arguments = ["tgt", "-r", socket, "-m", "0x1", "--wait-for-rpc-ignored"] + arguments
        process.standardError = log ?? FileHandle.nullDevice
        try process.run()
        for _ in 0..<500 {
            if (try? JSONRPCClient(path: socket)) != nil { return }
            usleep(10_000)
        }
        throw JSONRPCClient.ClientError(description: "the daemon did not start listening on \(socket)")
    }

    func client() throws -> JSONRPCClient { try JSONRPCClient(path: socket) }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

private func text(_ value: JSONValue?) -> String { value.map { String(decoding: $0.encoded(), as: UTF8.self) } ?? "nil" }

@Suite struct TgtTransportTests {
    @Test func pipelinedAndSplitRequestsAreAnsweredById() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        // Three requests in one write, with a notification between them.
        try client.send(Array("""
            {"jsonrpc":"2.0","method":"spdk_get_version","id":1}
            {"jsonrpc":"2.0","method":"framework_wait_init"}{"jsonrpc":"2.0","method":"rpc_get_methods","id":"two","params":null}
            """.utf8))
        var ids: [String] = []
        for _ in 0..<2 { ids.append(text(try client.receive()?["id"])) }
        #expect(Set(ids) == ["1", "\"two\""])
        // One request dripped byte by byte.
        for byte in Array(#"{"jsonrpc":"2.0","method":"spdk_get_version","id":3.0}"#.utf8) { try client.send([byte]) }
        let reply = try #require(try client.receive())
        #expect(text(reply["id"]) == "3.0")  // echoed as sent
        #expect(reply["result"]?["fields"]?["major"] == .number("24"))
    }

    @Test func badRequestsGetSPDKCodesAndGarbageClosesOnlyThatConnection() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        #expect(try client.call("no_such_method") == .failure(.methodNotFound))
        if case .failure(let error) = try client.call("spdk_get_version", params: .object([("x", .integer(1))])) {
            #expect(error.code == -32602)
        } else {
            Issue.record("params accepted")
        }
        try client.send(Array(#"{"method":5,"id":9}"#.utf8))
        #expect(try client.receive()?["error"]?["code"] == .number("-32600"))
        // Garbage: a parse error, then the connection is closed.
        try client.send(Array("{\"id\":1,]]".utf8))
        #expect(try client.receive()?["error"]?["code"] == .number("-32700"))
        #expect(try client.receive() == nil)
        // The daemon serves others as before.
        #expect(try daemon.client().call("framework_wait_init") == .success(.bool(true)))
    }

    @Test func sixtyFourClientsAtOnce() async throws {
        let daemon = try Daemon()
        let clients = try (0..<64).map { _ in try daemon.client() }
        for (index, client) in clients.enumerated() {
            let result = try client.call("bdev_malloc_create", params: .object([
                ("num_blocks", .integer(256)), ("block_size", .integer(512)), ("name", .string("M\(index)")),
            ]))
            #expect(result == .success(.string("M\(index)")))
        }
        guard case .success(.array(let all)) = try clients[0].call("bdev_get_bdevs") else {
            Issue.record("bdev_get_bdevs failed")
            return
        }
        #expect(all.count == 64)
    }

    @Test func logFlagsOnTheCommandLine() throws {
        let bad = try runHornbill(["tgt", "-r", "/tmp/hornbill-never-\(getpid()).sock", "--log-level", "LOUD"])
        #expect(bad.status != 0)
        #expect(bad.error.contains("invalid log level"))
        let unknown = try runHornbill(["tgt", "-r", "/tmp/hornbill-never-\(getpid()).sock", "-L", "nonsense"])
        #expect(unknown.status != 0)
        #expect(unknown.error.contains("invalid log flag nonsense"))
        let poll = try runHornbill(["tgt", "-r", "/tmp/hornbill-never-\(getpid()).sock", "--poll-us=-5"])
        #expect(poll.status != 0)
        #expect(poll.error.contains("--poll-us must be 0...1000000"))
    }

    @Test(arguments: [
        ([String](), "reactor_0 polls \(DeviceLimits.defaultPollMicroseconds) µs before it sleeps"),
        (["--poll-us", "250"], "reactor_0 polls 250 µs before it sleeps"),
        (["--interrupt-mode"], "reactor_0 in interrupt mode (never polls)"),
        (["--poll-us", "0"], "reactor_0 in interrupt mode (never polls)"),
    ])
    func pollingIsSetOnTheCommandLineAndSaidAtStart(arguments: [String], said: String) throws {
        let log = Pipe()
        let daemon = try Daemon(arguments, log: log)
        // Only the daemon writes to the pipe now, so reading ends when the daemon does.
        try log.fileHandleForWriting.close()
        daemon.process.terminate()
        daemon.process.waitUntilExit()
        let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains(said), "\(text)")
        // SIGTERM the instant the socket answered still found the handler in place: a clean stop.
        #expect(daemon.process.terminationReason == .exit && daemon.process.terminationStatus == 0, "\(text)")
    }

    @Test func stopSignalsTheInstantTheSocketAppearsStopCleanly() throws {
        for signal in [SIGTERM, SIGINT, SIGTERM, SIGINT, SIGTERM, SIGINT] {
            let daemon = try Daemon()
            kill(daemon.process.processIdentifier, signal)
            daemon.process.waitUntilExit()
            #expect(daemon.process.terminationReason == .exit && daemon.process.terminationStatus == 0)
            #expect(!FileManager.default.fileExists(atPath: daemon.socket))
        }
    }

    @Test func oneDaemonPerSocketAndCleanStop() throws {
        let daemon = try Daemon()
        let second = try runHornbill(["tgt", "-r", daemon.socket])
        #expect(second.status != 0)
        #expect(second.error.contains("another process is serving"))
        // rpc.py accepts either the reply or the connection closing under it.
        let killer = try daemon.client()
        if let reply = try? killer.call("spdk_kill_instance", params: .object([("sig_name", .string("SIGTERM"))])) {
            #expect(reply == .success(.bool(true)))
        }
        daemon.process.waitUntilExit()
        #expect(daemon.process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socket))
        #expect(!FileManager.default.fileExists(atPath: daemon.socket + ".lock"))
    }
}

@Suite struct TgtMethodTests {
    @Test func mallocLifecycleAndErrors() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        let uuid = "4e5a7a2c-1111-4222-8333-944455556666"
        #expect(try client.call("bdev_malloc_create", params: .object([
            ("num_blocks", .integer(2048)), ("block_size", .integer(4096)), ("uuid", .string(uuid)),
        ])) == .success(.string("Malloc0")))
        guard case .success(.array(let list)) = try client.call("bdev_get_bdevs", params: .object([("name", .string("Malloc0"))])),
            let bdev = list.first
        else {
            Issue.record("bdev_get_bdevs failed")
            return
        }
        #expect(bdev["product_name"] == .string("Malloc disk"))
        #expect(bdev["num_blocks"] == .number("2048") && bdev["block_size"] == .number("4096"))
        #expect(bdev["uuid"] == .string(uuid))
        #expect(bdev["claimed"] == .bool(false))
        #expect(bdev["supported_io_types"]?["write_zeroes"] == .bool(true))
        #expect(bdev["driver_specific"] == .object([]))
        let missing = try client.call("bdev_get_bdevs", params: .object([("name", .string("nope"))]))
        #expect(missing == .failure(JSONRPCError(code: -19, message: "No such device")))
        let strict = try client.call("bdev_malloc_delete", params: .object([("name", .string("Malloc0")), ("extra", .bool(true))]))
        #expect(strict == .failure(JSONRPCError(code: -32603, message: "spdk_json_decode_object failed")))
        let duplicate = try client.call("bdev_malloc_create", params: .object([
            ("num_blocks", .integer(8)), ("block_size", .integer(512)), ("name", .string("Malloc0")),
        ]))
        #expect(duplicate == .failure(JSONRPCError(code: -17, message: "File exists")))
        #expect(try client.call("bdev_malloc_delete", params: .object([("name", .string("Malloc0"))])) == .success(.bool(true)))
        #expect(try client.call("bdev_malloc_delete", params: .object([("name", .string("Malloc0"))])) == .failure(JSONRPCError(code: -19, message: "No such device")))
    }

    @Test func aioCreateBringsBackTheLvolsOfAnLvstore() async throws {
        let file = try TemporaryFile(size: 64 << 20)
        // An lvstore written by an earlier process.
        let reactor = try Reactor(name: "setup")
        let uuid = try await reactor.run {
            let device = try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
            let store = try await LogicalVolumeStore.create(on: device, name: "disk1", options: .init(clusterSize: 1 << 20), executor: reactor)
            let head = try await store.createVolume(name: "r1", sizeBytes: 8 << 20, thinProvisioned: true)
            _ = try await store.snapshot(head, name: "r1-snap")
            try await store.close()
            return head.uuid.uuidString.lowercased()
        }
        reactor.shutdown()

        let daemon = try Daemon()
        let client = try daemon.client()
        let params = JSONValue.object([("name", .string("aio0")), ("filename", .string(file.path)), ("block_size", .integer(4096))])
        #expect(try client.call("bdev_aio_create", params: params) == .success(.string("aio0")))
        #expect(try client.call("bdev_aio_create", params: params) == .failure(JSONRPCError(code: -17, message: "File exists")))
        guard case .success(.array(let list)) = try client.call("bdev_get_bdevs", params: .object([("name", .string("disk1/r1"))])),
            let lvol = list.first
        else {
            Issue.record("the lvol did not come back")
            return
        }
        #expect(lvol["name"] == .string(uuid))
        #expect(lvol["product_name"] == .string("Logical Volume"))
        #expect(lvol["driver_specific"]?["lvol"]?["base_snapshot"] == .string("r1-snap"))
        #expect(lvol["driver_specific"]?["lvol"]?["thin_provision"] == .bool(true))
        guard case .success(.array(let aio)) = try client.call("bdev_get_bdevs", params: .object([("name", .string("aio0"))])) else { return }
        #expect(aio.first?["claimed"] == .bool(true))
        #expect(aio.first?["driver_specific"]?["aio"]?["filename"] == .string(file.path))
        #expect(try client.call("bdev_aio_delete", params: .object([("name", .string("aio0"))])) == .success(.bool(true)))
        #expect(try client.call("bdev_get_bdevs", params: .object([("name", .string("disk1/r1"))])) == .failure(JSONRPCError(code: -19, message: "No such device")))
    }
}
