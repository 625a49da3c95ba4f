import Foundation
import JSONRPC
import StorageKit
import TestSupport
import Testing

@Suite struct TgtProtocolTests {
    @Test func repliesComeInCompletionOrder() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        // The first request waits for a bdev that the third creates; the second is answered while
        // it waits.
        try client.send(Array("""
            {"jsonrpc":"2.0","id":1,"method":"bdev_get_bdevs","params":{"name":"late","timeout":60000}}
            {"jsonrpc":"2.0","id":2,"method":"spdk_get_version"}
            """.utf8))
        let first = try #require(try client.receive())
        #expect(first["id"] == .number("2") && first["result"]?["fields"]?["major"] == .number("24"))
        try client.send(Array("""
            {"jsonrpc":"2.0","id":3,"method":"bdev_malloc_create","params":{"name":"late","num_blocks":64,"block_size":512}}
            """.utf8))
        // The registration wakes the first as the third completes: either may be written first.
        var replies: [String: JSONValue] = [:]
        for _ in 0..<2 {
            let reply = try #require(try client.receive())
            replies[String(decoding: (reply["id"] ?? .null).encoded(), as: UTF8.self)] = reply
        }
        #expect(replies["3"]?["result"] == .string("late"))
        #expect(replies["1"]?["result"]?[0]?["name"] == .string("late"))
        #expect(replies["1"]?["result"]?.encoded().count ?? 0 > 100)
        // A timeout that expires: -110.
        let expired = try client.call("bdev_get_bdevs", params: .object([("name", .string("never")), ("timeout", .number("50"))]))
        #expect(expired == .failure(JSONRPCError(code: -110, message: "Connection timed out")))
    }

    @Test func anOversizeRequestIsAParseErrorAndTheDaemonGoesOn() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        let big = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"bdev_get_bdevs\",\"params\":{\"name\":\"" + String(repeating: "x", count: 300 * 1024) + "\"}}"
        try? client.send(Array(big.utf8))
        #expect(try client.receive()?["error"]?["code"] == .number("-32700"))
        #expect(try daemon.client().call("spdk_get_version").map { _ in true } == .success(true))
    }

    @Test func fuzzedRequestStreamsNeverStopTheDaemon() throws {
        let daemon = try Daemon()
        var random = SeededRandom(seed: 2026)
        let samples = [
            #"{"jsonrpc":"2.0","method":"bdev_malloc_create","params":{"num_blocks":64,"block_size":512},"id":1}"#,
            #"{"jsonrpc":"2.0","method":"bdev_lvol_create","params":{"lvol_name":"a","size_in_mib":1,"lvs_name":"x"},"id":"s"}"#,
            #"{"jsonrpc":"2.0","method":"log_set_flag","params":{"flag":"rpc"}}"#,
        ].map { Array($0.utf8) }
        for round in 0..<200 {
            guard let client = try? daemon.client() else {
                Issue.record("the daemon stopped accepting connections at round \(round)")
                return
            }
            var bytes = samples[round % samples.count]
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if round % 7 == 0 { bytes = (0..<Int.random(in: 1...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) } }
            try? client.send(bytes + Array("\n".utf8))
        }
        // Still serving, and still correct.
        let client = try daemon.client()
        #expect(try client.call("spdk_get_version").map { $0["fields"]?["major"] } == .success(.number("24")))
        #expect(daemon.process.isRunning)
    }

    @Test func logMethods() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        #expect(try client.call("log_get_level") == .success(.string("NOTICE")))
        #expect(try client.call("log_set_level", params: .object([("level", .string("debug"))])) == .success(.bool(true)))
        #expect(try client.call("log_get_level") == .success(.string("DEBUG")))
        #expect(try client.call("log_set_print_level", params: .object([("level", .string("ERROR"))])) == .success(.bool(true)))
        #expect(try client.call("log_get_print_level") == .success(.string("ERROR")))
        if case .failure(let error) = try client.call("log_set_level", params: .object([("level", .string("LOUD"))])) {
            #expect(error.code == -32602)
        } else {
            Issue.record("an invalid level was accepted")
        }
        #expect(try client.call("log_set_flag", params: .object([("flag", .string("lvol"))])) == .success(.bool(true)))
        guard case .success(let flags) = try client.call("log_get_flags") else { return }
        #expect(flags["lvol"] == .bool(true) && flags["bdev"] == .bool(false))
        #expect(try client.call("log_clear_flag", params: .object([("flag", .string("lvol"))])) == .success(.bool(true)))
        guard case .success(let cleared) = try client.call("log_get_flags") else { return }
        #expect(cleared["lvol"] == .bool(false))
        if case .failure(let error) = try client.call("log_get_flags", params: .object([("x", .number("1"))])) {
            #expect(error.code == -32602)
        }
    }

    @Test func aioRescanSeesAGrownFile() throws {
        let file = try TemporaryFile(size: 1 << 20)
        let daemon = try Daemon()
        let client = try daemon.client()
        _ = try client.call("bdev_aio_create", params: .object([("name", .string("a")), ("filename", .string(file.path)), ("block_size", .number("4096"))]))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file.path))
        try handle.truncate(atOffset: 2 << 20)
        try handle.close()
        #expect(try client.call("bdev_aio_rescan", params: .object([("name", .string("a"))])) == .success(.bool(true)))
        guard case .success(.array(let bdevs)) = try client.call("bdev_get_bdevs", params: .object([("name", .string("a"))])) else { return }
        #expect(bdevs.first?["num_blocks"] == .number("512"))
        #expect(try client.call("bdev_aio_rescan", params: .object([("name", .string("b"))])) == .failure(JSONRPCError(code: -19, message: "No such device")))
    }
}

@Suite struct TgtStatTests {
    @Test func iostatAndQoSThroughTheDaemon() async throws {
        let file = try TemporaryFile(size: 64 << 20)
        let daemon = try Daemon()
        let client = try daemon.client()
        _ = try client.call("bdev_aio_create", params: .object([("name", .string("aio0")), ("filename", .string(file.path)), ("block_size", .number("4096"))]))
        _ = try client.call("bdev_lvol_create_lvstore", params: .object([("bdev_name", .string("aio0")), ("lvs_name", .string("lvs")), ("cluster_sz", .number("1048576"))]))
        guard case .success(let stat) = try client.call("bdev_get_iostat", params: .object([("name", .string("aio0"))])),
            case .array(let bdevs)? = stat["bdevs"], let aio = bdevs.first
        else {
            Issue.record("bdev_get_iostat failed")
            return
        }
        #expect(stat["tick_rate"] == .number("1000000000"))
        #expect(aio["name"] == .string("aio0"))
        // Creating the lvstore wrote its checkpoint and superblock through the aio bdev.
        if case .number(let written)? = aio["num_write_ops"] { #expect(Int(written)! >= 2) } else { Issue.record("no num_write_ops") }
        #expect(try client.call("bdev_get_iostat", params: .object([("name", .string("nope"))])) == .failure(JSONRPCError(code: -19, message: "No such device")))

        // go-spdk-helper sends all four keys.
        let limits = JSONValue.object([
            ("name", .string("aio0")), ("rw_ios_per_sec", .number("2000")), ("rw_mbytes_per_sec", .number("0")),
            ("r_mbytes_per_sec", .number("0")), ("w_mbytes_per_sec", .number("100")),
        ])
        #expect(try client.call("bdev_set_qos_limit", params: limits) == .success(.bool(true)))
        guard case .success(.array(let list)) = try client.call("bdev_get_bdevs", params: .object([("name", .string("aio0"))])) else { return }
        #expect(list.first?["assigned_rate_limits"]?["rw_ios_per_sec"] == .number("2000"))
        #expect(list.first?["assigned_rate_limits"]?["w_mbytes_per_sec"] == .number("100"))
        // An IOPS limit between SPDK's steps of 1000 is rounded up, as SPDK does.
        #expect(try client.call("bdev_set_qos_limit", params: .object([("name", .string("aio0")), ("rw_ios_per_sec", .number("1500"))])) == .success(.bool(true)))
        guard case .success(.array(let rounded)) = try client.call("bdev_get_bdevs", params: .object([("name", .string("aio0"))])) else { return }
        #expect(rounded.first?["assigned_rate_limits"]?["rw_ios_per_sec"] == .number("2000"))
    }
}
