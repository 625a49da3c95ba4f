// What the manager, server and command-line tests share: the built `hornbill`, programs run to
// their end, background processes with their stderr kept, and waiting for a condition.

import Foundation
import Glibc
import ManagerClient
import TestSupport
import Testing

/// Path of a product built next to the test bundle.
func builtProduct(_ name: String) -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    if directory.lastPathComponent == "MacOS" {  // inside an .xctest bundle
        directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    return directory.appendingPathComponent(name)
}

/// Runs `hornbill arguments…` to its end (TestSupport's `runToExit`: output through files).
func hornbill(
    _ arguments: [String], environment: [String: String] = [:]
) throws -> (status: Int32, output: String, errors: String) {
    var merged = ProcessInfo.processInfo.environment
    merged["HORNBILL_SERVER"] = nil
    for (key, value) in environment { merged[key] = value }
    return try runToExit(builtProduct("hornbill"), arguments, environment: merged, errorsWithOutput: false)
}

/// A background `hornbill` process, its stderr in a file; killed (with its group) when released.
final class Daemon: @unchecked Sendable {
    let process = Process()
    let errorPath: String

    init(_ arguments: [String], errorPath: String) throws {
        self.errorPath = errorPath
        FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.executableURL = builtProduct("hornbill")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var errors: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { Glibc.kill(process.processIdentifier, number) }

    /// Sends `signal` and waits for the process to end.
    func stop(_ signal: Int32 = SIGKILL) {
        Glibc.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { stop() } }
}

/// A directory of its own under the temporary directory, removed when released.
final class ScratchDirectory: @unchecked Sendable {
    let path: String
    init() throws {
        path =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "hbs-\(getpid())-\(UUID().uuidString.prefix(8))"
            ).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Waits until `body` answers a value (polling), or fails the test after `seconds`.
func eventually<Value>(
    _ what: String, seconds: Double = 60, sourceLocation: SourceLocation = #_sourceLocation,
    explain: () -> String = { "" }, _ body: () async throws -> Value?
) async throws -> Value {
    let deadline = Date().addingTimeInterval(seconds)
    var lastError: (any Error)?
    while Date() < deadline {
        do {
            if let value = try await body() { return value }
        } catch {
            lastError = error
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record(
        "\(what) did not happen within \(seconds) s\(lastError.map { ": \($0)" } ?? "")\n\(explain())",
        sourceLocation: sourceLocation)
    throw CancellationError()
}

/// A setting's value as the API answers it.
func settingValue(_ client: ManagerClient, _ name: String) async throws -> String {
    try JSONDecoder().decode(SettingItem.self, from: try await client.get("/v1/settings/\(name)")).value
}

/// Sets a setting through the API.
@discardableResult
func setSetting(_ client: ManagerClient, _ name: String, _ value: String) async throws -> SettingItem {
    let body = try JSONEncoder().encode(["value": value])
    return try JSONDecoder().decode(SettingItem.self, from: try await client.put("/v1/settings/\(name)", body: body))
}

/// Whether process `pid` exists (and is not a zombie).
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    return !stat[stat.index(after: close)...].hasPrefix(" Z")
}

/// The last `lines` lines of each log under `directory`, for a failure's record.
func logTails(_ directory: String, lines: Int = 15) -> String {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.sorted().filter { $0.hasSuffix(".log") }.map { name in
        let text = (try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? ""
        return "== \(name)\n" + text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }.joined(separator: "\n")
}
