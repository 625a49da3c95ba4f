// What the CLI tests share: JSON-RPC params built from members, a call that must succeed, and a
// `hornbill` process run in the background.

import Foundation
import Glibc
import JSONRPC
import TestSupport
import Testing

/// A params object with `members` in order.
func params(_ members: [(String, JSONValue)]) -> JSONValue { .object(members.map { (key: $0.0, value: $0.1) }) }

/// A JSON string.
func text(_ value: String) -> JSONValue { .string(value) }

/// Calls a method (no params when `members` is empty) and requires it to succeed.
@discardableResult
func rpc(
    _ client: JSONRPCClient, _ method: String, _ members: [(String, JSONValue)] = [], sourceLocation: SourceLocation = #_sourceLocation
) throws -> JSONValue {
    switch try client.call(method, params: members.isEmpty ? nil : params(members)) {
    case .success(let value): return value
    case .failure(let error):
        Issue.record("\(method) failed: \(error.code) \(error.message)", sourceLocation: sourceLocation)
        throw error
    }
}

/// A background `hornbill` process with its output discarded, killed when released.
final class HornbillProcess: @unchecked Sendable {
    let process = Process()

    init(_ arguments: [String]) throws {
        process.executableURL = builtProduct("hornbill")
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Sends `signal` and waits for the process to end.
    func kill(_ signal: Int32 = SIGKILL) {
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill() } }
}
