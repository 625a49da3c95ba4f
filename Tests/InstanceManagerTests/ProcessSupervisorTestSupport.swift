// What the process supervisor tests share: waiting for a state, a scratch directory, liveness of a
// pid. Port ranges come from `testPortRange()` (TgtHarness.swift), distinct from every other test's.

import Foundation
import Glibc
import InstanceManager
import TestSupport
import Testing

/// Polls `get` until `done` holds for the process, or fails after `seconds`.
@discardableResult
func waitFor(
    _ supervisor: ProcessSupervisor, _ name: String, seconds: Double = 30,
    sourceLocation: SourceLocation = #_sourceLocation,
    until done: (ProcessResponse) -> Bool
) async throws -> ProcessResponse {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while true {
        let response = try await supervisor.get(name: name)
        if done(response) { return response }
        if ContinuousClock.now >= deadline {
            Issue.record(
                "process \(name) is \(response.status.state) \(response.status.errorMessage)",
                sourceLocation: sourceLocation)
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Waits until the name is no longer listed.
func waitUntilGone(_ supervisor: ProcessSupervisor, _ name: String, seconds: Double = 30) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while await supervisor.list()[name] != nil {
        guard ContinuousClock.now < deadline else {
            Issue.record("process \(name) is still listed")
            throw CancellationError()
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// Whether a process with this pid exists, zombie included (kill(pid, 0) succeeds for a zombie).
func processExists(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0 || errno != ESRCH
}

/// A directory under the temporary directory, removed when released.
final class ScratchDirectory: @unchecked Sendable {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "hornbill-im-\(UUID().uuidString.prefix(8))"
    ).path

    init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A shell command as a process spec.
func shell(_ name: String, _ script: String, portCount: Int = 0, portArgs: [String] = []) -> ProcessSpec {
    ProcessSpec(name: name, binary: "/bin/sh", args: ["-c", script], portCount: portCount, portArgs: portArgs)
}

/// Collects a log stream to its end.
func collect(_ stream: AsyncStream<String>) async -> [String] {
    var lines: [String] = []
    for await line in stream { lines.append(line) }
    return lines
}
