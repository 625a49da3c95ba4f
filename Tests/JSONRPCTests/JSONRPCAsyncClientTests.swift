// JSONRPCAsyncClient against the JSON-RPC server: pipelined calls answered out of order reach
// their callers, server errors keep code and message, waits are bounded, a missing server is
// `.unavailable`.

import Foundation
import JSONRPC
import NIOPosix
import Testing

/// Methods: `echo` (its params), `sleep` ({"ms": N}, then its params), `fail` (-19).
private struct TestMethods: JSONRPCMethodHandler {
    func handle(_ request: JSONRPCRequest) async -> Result<JSONValue, JSONRPCError> {
        switch request.method {
        case "echo":
            return .success(request.params ?? .null)
        case "sleep":
            if case .number(let text)? = request.params?["ms"], let milliseconds = Int(text) {
                try? await Task.sleep(for: .milliseconds(milliseconds))
            }
            return .success(request.params ?? .null)
        case "fail":
            return .failure(JSONRPCError(code: -19, message: "No such device"))
        default:
            return .failure(.methodNotFound)
        }
    }
}

@Suite struct JSONRPCAsyncClientTests {
    /// The bound on a call that should be answered. The server's handler runs on the tasks' pool,
    /// which the other data-plane tests' blocking waits can hold for tens of seconds on two
    /// cores: a bound that is never reached unless the answer is truly lost.
    private static let answered: Duration = .seconds(180)

    private func server() async throws -> JSONRPCServer {
        let path = "/tmp/hornbill-async-\(getpid())-\(UUID().uuidString.prefix(8)).sock"
        return try await JSONRPCServer.start(
            path: path, handler: TestMethods(), group: MultiThreadedEventLoopGroup.singleton)
    }

    @Test func pipelinedCallsGetTheirOwnReplies() async throws {
        let server = try await server()
        let client = JSONRPCAsyncClient(path: server.path, defaultTimeout: Self.answered)
        // Later requests finish first: replies come back out of order on one connection.
        try await withThrowingTaskGroup(of: (Int, JSONValue).self) { group in
            for index in 0..<40 {
                group.addTask {
                    let params = JSONValue.object([("ms", .integer((40 - index) * 2)), ("index", .integer(index))])
                    return (index, try await client.call("sleep", params: params))
                }
            }
            var seen = 0
            for try await (index, reply) in group {
                #expect(reply["index"] == .integer(index))
                seen += 1
            }
            #expect(seen == 40)
        }
        await client.close()
        await server.stop()
    }

    @Test func errorsTimeoutsAndAMissingServer() async throws {
        let server = try await server()
        let client = JSONRPCAsyncClient(path: server.path, defaultTimeout: Self.answered)
        await #expect(throws: JSONRPCCallError.server(JSONRPCError(code: -19, message: "No such device"))) {
            try await client.call("fail")
        }
        // Ended by its own timeout: the reply, 5 s later, would have made the call return.
        do {
            _ = try await client.call("sleep", params: .object([("ms", .integer(5000))]), timeout: .milliseconds(100))
            Issue.record("a call outlived its timeout")
        } catch {
            guard case .timedOut = error else { throw error }
        }
        // The connection still serves after a timed-out call.
        #expect(try await client.call("echo", params: .array([.bool(true)])) == .array([.bool(true)]))
        await client.close()
        await server.stop()

        let nowhere = JSONRPCAsyncClient(path: server.path, defaultTimeout: .seconds(2))
        do {
            _ = try await nowhere.call("echo")
            Issue.record("a call without a server succeeded")
        } catch {
            guard case .unavailable = error else { throw error }
        }
    }
}
