// `hornbill tgt` against clients that abuse its JSON-RPC socket: pipelining without ever reading,
// sizes it cannot allocate, nesting past all reason, more connections than it serves, long-polls
// left behind. After each, the daemon is alive and serves others correctly.

import BlockDevices
import Foundation
import Glibc
import JSONRPC
import TestSupport
import Testing

/// One request, newline-terminated, as rpc.py and go-spdk-helper send them.
private func request(_ method: String, id: Int, params: String? = nil) -> String {
    "{\"jsonrpc\":\"2.0\",\"id\":\(id),\"method\":\"\(method)\"" + (params.map { ",\"params\":\($0)" } ?? "") + "}\n"
}

@Suite struct TgtBackpressureTests {
    @Test func aClientThatNeverReadsIsPausedWhileOthersAreServed() throws {
        let daemon = try Daemon()
        let pid = daemon.process.processIdentifier
        let setup = try daemon.client()
        let bdevs = 100
        for index in 0..<bdevs {
            let created = try setup.call("bdev_malloc_create", params: .object([
                ("num_blocks", .integer(8)), ("block_size", .integer(512)), ("name", .string("M\(index)")),
            ]))
            try #require(created == .success(.string("M\(index)")))
        }
        guard case .success(.array(let all)) = try setup.call("bdev_get_bdevs") else {
            Issue.record("bdev_get_bdevs failed")
            return
        }
        try #require(all.count == bdevs)
        let replyBytes = JSONValue.array(all).encoded().count
        let before = try #require(ProcessStats.residentBytes(pid))

        // Pipelines listings and never reads: without backpressure the daemon would read all of
        // them and queue `cap` replies (gigabytes); with it, writes stall after a few thousand.
        let flood = try RawRPCSocket(path: daemon.socket)
        let batch = 64
        let requests = Array(String(repeating: request("bdev_get_bdevs", id: 1), count: batch).utf8)
        let cap = 12_000
        var sent = 0
        while sent < cap, flood.write(requests, timeoutMilliseconds: 2000) == requests.count { sent += batch }
        #expect(sent < cap, "the daemon read all \(cap) requests of a client that reads no replies")

        // Meanwhile another client is answered, with the right data.
        let other = try RawRPCSocket(path: daemon.socket)
        let reply = try other.call(request("bdev_get_bdevs", id: 7, params: #"{"name":"M5"}"#))
        #expect(reply["id"] == .number("7") && reply["result"]?[0]?["name"] == .string("M5"))

        // Memory: the requests in flight and their replies (a few times each, while being built),
        // not what was sent; the peak, once the replies in flight have had time to be built.
        sleep(2)
        let during = try #require(ProcessStats.peakResidentBytes(pid))
        let bound = UInt64(JSONRPCLimits.maxRequestsInFlightPerConnection * replyBytes * 4 + (128 << 20))
        #expect(during < before + bound, "RSS grew from \(before >> 20) to \(during >> 20) MiB")
        #expect(daemon.process.isRunning)

        // Once read, the replies flow and the paused connection is read again: more replies come
        // than were ever in flight, each whole.
        let wanted = min(sent, JSONRPCLimits.maxRequestsInFlightPerConnection + 2 * batch)
        var received = 0
        while received < wanted, case .value(let value) = try flood.receive(timeoutSeconds: 60) {
            guard case .array(let list)? = value["result"], list.count == bdevs else {
                Issue.record("a reply that is not the whole listing: \(value["error"].map { "\($0)" } ?? "no result")")
                break
            }
            received += 1
        }
        #expect(received == wanted)
        #expect(try daemon.client().call("spdk_get_version").map { $0["fields"]?["major"] } == .success(.number("24")))
    }

    @Test func theSixtyFifthConnectionIsClosedAndAFreedSlotServesAgain() throws {
        let daemon = try Daemon()
        // Each served before the next connects (the daemon's own start-up probe may still hold a
        // slot for a moment: a refused one is tried again).
        var clients: [RawRPCSocket] = []
        for index in 0..<JSONRPCLimits.maxConnections {
            for _ in 0..<200 where clients.count == index {
                let client = try RawRPCSocket(path: daemon.socket)
                if (try? client.call(request("spdk_get_version", id: index), timeoutSeconds: 10))?["id"] == .number("\(index)") {
                    clients.append(client)
                } else {
                    usleep(50_000)
                }
            }
        }
        try #require(clients.count == JSONRPCLimits.maxConnections)
        // SPDK accepts the 65th and closes it at once; so does the daemon.
        let extra = try RawRPCSocket(path: daemon.socket)
        _ = extra.write(Array(request("spdk_get_version", id: 65).utf8), timeoutMilliseconds: 1000)
        guard case .closed = try extra.receive(timeoutSeconds: 30) else {
            Issue.record("the 65th connection was served or left open")
            return
        }
        #expect(daemon.process.isRunning)
        // A connection that goes frees its slot (the count drops when the daemon sees it close).
        clients.removeLast()
        var served = false
        for _ in 0..<200 where !served {
            let client = try RawRPCSocket(path: daemon.socket)
            if (try? client.call(request("spdk_get_version", id: 66), timeoutSeconds: 10))?["id"] == .number("66") {
                served = true
            } else {
                usleep(50_000)
            }
        }
        #expect(served)
        #expect(try clients[0].call(request("spdk_get_version", id: 1))["id"] == .number("1"))
    }

    @Test(arguments: [10, 100, 100_000])
    func deepNestingIsRefusedCleanly(depth: Int) throws {
        let daemon = try Daemon()
        let client = try RawRPCSocket(path: daemon.socket)
        let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let reply = try client.call(request("bdev_get_bdevs", id: 1, params: "{\"name\":\(nested)}"))
        // The request is an object (depth 1) whose params (2) hold the arrays.
        if depth + 2 <= JSONRPCLimits.maxDepth {
            // Parsed, and refused by the method: a name must be a string. The connection goes on.
            #expect(reply["error"] == .object([("code", .number("-32603")), ("message", .string("spdk_json_decode_object failed"))]))
            #expect(try client.call(request("spdk_get_version", id: 2))["id"] == .number("2"))
        } else {
            // Not parsed at all: a parse error, and the connection is closed.
            #expect(reply["error"]?["code"] == .number("-32700"))
            guard case .closed = try client.receive(timeoutSeconds: 30) else {
                Issue.record("the connection stayed open after a parse error")
                return
            }
        }
        #expect(try RawRPCSocket(path: daemon.socket).call(request("spdk_get_version", id: 3))["id"] == .number("3"))
        #expect(daemon.process.isRunning)
    }
}

@Suite struct TgtSizeTests {
    static let noMemory = JSONRPCError(code: -12, message: "Cannot allocate memory")

    @Test func mallocSizesTheProcessCannotAllocateAreRefusedWithENOMEM() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        let moreThanTheMachine = SystemMemory.availableBytes() / 4096 + 1
        let sizes: [(blocks: UInt64, blockSize: Int)] = [
            (1 << 41, 512),  // 2^50 bytes
            (moreThanTheMachine, 4096),
            (1 << 62, 4096),  // the product overflows 64 bits
            (UInt64.max, 512),
        ]
        for (index, size) in sizes.enumerated() {
            let result = try client.call("bdev_malloc_create", params: .object([
                ("num_blocks", .integer(size.blocks)), ("block_size", .integer(size.blockSize)), ("name", .string("huge\(index)")),
            ]))
            #expect(result == .failure(Self.noMemory), "\(size)")
        }
        #expect(daemon.process.isRunning)
        // Nothing was registered, and the next request is served.
        #expect(try client.call("bdev_get_bdevs") == .success(.array([])))
        #expect(try client.call("bdev_malloc_create", params: .object([
            ("num_blocks", .integer(64)), ("block_size", .integer(512)), ("name", .string("huge0")),
        ])) == .success(.string("huge0")))
    }

    @Test func anAIOBlockSizePastItsTypeIsADecodeFailure() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        let file = try TemporaryFile(size: 1 << 20)
        for size in [UInt64(1) << 40, UInt64.max] {
            #expect(try client.call("bdev_aio_create", params: .object([
                ("name", .string("aio0")), ("filename", .string(file.path)), ("block_size", .integer(size)),
            ])) == .failure(JSONRPCError(code: -32603, message: "spdk_json_decode_object failed")))
        }
        #expect(daemon.process.isRunning)
        #expect(try client.call("bdev_aio_create", params: .object([
            ("name", .string("aio0")), ("filename", .string(file.path)), ("block_size", .integer(4096)),
        ])) == .success(.string("aio0")))
    }

    @Test func lvolSizesBeyondTheStoreOrTheMemoryGetSPDKsErrors() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        _ = try client.call("bdev_malloc_create", params: .object([
            ("num_blocks", .integer(65536)), ("block_size", .integer(512)), ("name", .string("base")),
        ]))
        guard case .success = try client.call("bdev_lvol_create_lvstore", params: .object([
            ("bdev_name", .string("base")), ("lvs_name", .string("lvs")), ("cluster_sz", .integer(1 << 20)),
        ])) else {
            Issue.record("lvstore not created")
            return
        }
        func create(_ name: String, mebibytes: UInt64, thin: Bool) throws -> Result<JSONValue, JSONRPCError> {
            try client.call("bdev_lvol_create", params: .object([
                ("lvol_name", .string(name)), ("size_in_mib", .integer(mebibytes)), ("thin_provision", .bool(thin)),
                ("lvs_name", .string("lvs")),
            ]))
        }
        func resize(_ name: String, mebibytes: UInt64) throws -> Result<JSONValue, JSONRPCError> {
            try client.call("bdev_lvol_resize", params: .object([("name", .string(name)), ("size_in_mib", .integer(mebibytes))]))
        }
        let noMemory = JSONRPCError(code: -32602, message: "Cannot allocate memory")
        let noSpace = JSONRPCError(code: -32602, message: "No space left on device")
        // A thin lvol's cluster map the process cannot hold (2^40 clusters): SPDK's blob resize
        // fails its allocation the same way.
        #expect(try create("huge", mebibytes: 1 << 40, thin: true) == .failure(noMemory))
        // A thick lvol beyond the store's free clusters.
        #expect(try create("thick", mebibytes: 1024, thin: false) == .failure(noSpace))
        guard case .success = try create("v", mebibytes: 4, thin: false) else {
            Issue.record("lvol not created")
            return
        }
        #expect(try resize("lvs/v", mebibytes: 1 << 40) == .failure(noMemory))
        #expect(try resize("lvs/v", mebibytes: 1024) == .failure(noSpace))
        #expect(try resize("lvs/v", mebibytes: 8) == .success(.bool(true)))
        #expect(daemon.process.isRunning)
    }

    @Test func spdkRpcGetsENOMEMForAHugeMallocBdevAndTheDaemonGoesOn() throws {
        let daemon = try Daemon()
        // rpc.py's size is in MiB: 2^30 MiB is 2^50 bytes. It prints the error reply and exits 1.
        let huge = try rpcPy(daemon.socket, ["bdev_malloc_create", "1073741824", "512", "-b", "huge"], includingErrors: true)
        try #require(!huge.output.contains("No module named"), "spdk-rpc is missing; scripts/test.sh installs it (pip install spdk)")
        #expect(huge.status == 1)
        #expect(huge.output.contains("\"code\": -12") && huge.output.contains("\"message\": \"Cannot allocate memory\""), "\(huge.output)")
        #expect(try rpcPy(daemon.socket, ["bdev_malloc_create", "1", "512", "-b", "small"], includingErrors: true) == (0, "small\n"))
        #expect(try rpcPy(daemon.socket, ["bdev_get_bdevs", "-b", "huge"], includingErrors: true).status == 1)
    }

    @Test func anIOMemorySizePastAnyAddressIsRefused() throws {
        let result = try runHornbill(["tgt", "-r", "/tmp/hornbill-never-\(getpid()).sock", "-s", "\(Int.max)", "--no-huge"])
        #expect(result.status != 0 && result.status != SIGTRAP && result.status != SIGILL)
        #expect(result.error.contains("cannot be mapped"), "\(result.error)")
    }
}

@Suite struct TgtLongPollTests {
    @Test func aLongPollIsAnsweredWhenItsBdevAppears() throws {
        let daemon = try Daemon()
        let waiter = try RawRPCSocket(path: daemon.socket)
        try waiter.send(request("bdev_get_bdevs", id: 1, params: #"{"name":"late","timeout":600000}"#))
        try waiter.send(request("bdev_get_bdevs", id: 2, params: #"{"name":"lvs/v","timeout":600000}"#))
        // A later request on the same connection is answered first: both long-polls are waiting.
        #expect(try waiter.call(request("spdk_get_version", id: 3))["id"] == .number("3"))
        let start = ContinuousClock.now
        let creator = try daemon.client()
        #expect(try creator.call("bdev_malloc_create", params: .object([
            ("num_blocks", .integer(65536)), ("block_size", .integer(512)), ("name", .string("late")),
        ])) == .success(.string("late")))
        guard case .value(let first) = try waiter.receive(timeoutSeconds: 60) else {
            Issue.record("no reply when the bdev appeared")
            return
        }
        #expect(first["id"] == .number("1") && first["result"]?[0]?["name"] == .string("late"))
        // An lvol is found by its alias as it is registered.
        _ = try creator.call("bdev_lvol_create_lvstore", params: .object([
            ("bdev_name", .string("late")), ("lvs_name", .string("lvs")), ("cluster_sz", .integer(1 << 20)),
        ]))
        guard case .success(.string(let uuid)) = try creator.call("bdev_lvol_create", params: .object([
            ("lvol_name", .string("v")), ("size_in_mib", .integer(4)), ("lvs_name", .string("lvs")),
        ])) else {
            Issue.record("lvol not created")
            return
        }
        guard case .value(let second) = try waiter.receive(timeoutSeconds: 60) else {
            Issue.record("no reply when the lvol appeared")
            return
        }
        #expect(second["id"] == .number("2") && second["result"]?[0]?["name"] == .string(uuid))
        // Both long before their 600 s timeouts: woken by the registrations, not a deadline.
        #expect(ContinuousClock.now - start < .seconds(120))
    }

    @Test func waitingLongPollsCostNoCPUAndEndWithTheirClients() throws {
        let log = LogCollector()
        let daemon = try Daemon(["--log-level", "INFO"], log: log.pipe)
        let pid = daemon.process.processIdentifier
        let count = JSONRPCLimits.maxConnections - 4
        var waiters = try (0..<count).map { _ in try RawRPCSocket(path: daemon.socket) }
        for (index, waiter) in waiters.enumerated() {
            try waiter.send(request("bdev_get_bdevs", id: 1, params: "{\"name\":\"never\(index)\",\"timeout\":600000}"))
            // Answered while the long-poll waits: the long-poll was taken and is waiting.
            #expect(try waiter.call(request("spdk_get_version", id: 2))["id"] == .number("2"))
        }
        // Waiting on the event: nothing runs. (A 10 ms poll per waiter would wake 30,000 times in
        // these 5 s.) Ten ticks is 100 ms of CPU.
        let idleBefore = try #require(ProcessStats.cpuTicks(pid))
        sleep(5)
        let idleAfter = try #require(ProcessStats.cpuTicks(pid))
        #expect(idleAfter - idleBefore <= 10, "\(idleAfter - idleBefore) ticks of CPU while \(count) long-polls waited")

        // The clients disconnect: every long-poll ends with its connection.
        waiters.removeAll()
        let ended = "bdev_get_bdevs: stopped waiting for never"
        #expect(log.waitFor(ended, count: count, seconds: 60), "\(log.contents)")
        // The bdevs they waited for come now: no waiter is left to wake, nothing fails.
        let client = try daemon.client()
        for index in 0..<count {
            #expect(try client.call("bdev_malloc_create", params: .object([
                ("num_blocks", .integer(8)), ("block_size", .integer(512)), ("name", .string("never\(index)")),
            ])) == .success(.string("never\(index)")))
        }
        #expect(try client.call("spdk_get_version").map { _ in true } == .success(true))
        #expect(log.count(ended) == count)
        #expect(log.count("[ERROR]") == 0, "\(log.contents)")
        #expect(daemon.process.isRunning)
    }
}
