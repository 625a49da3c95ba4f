// What the store tests share: a temporary store directory, small resource types of their own,
// and a collector that drains a watch on a task of its own.

import Foundation
import ManagerModel
import ManagerStore
import Synchronization
import Testing

/// A directory under the system's temporary directory, removed when released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("hornbill-store-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A small resource type: a gadget with a size.
struct Gadget: StoredResourceType, Equatable {
    static let kind = ResourceKind(rawValue: "gadgets")
    var size: Int
    var color: String
}

/// Another kind, to check that kinds are kept apart.
struct Widget: StoredResourceType, Equatable {
    static let kind = ResourceKind(rawValue: "widgets")
    var spec: [String: String]
}

/// A JSON object document.
func document(_ text: String) -> Data { Data(text.utf8) }

/// Drains a watch stream on a task of its own, keeping what it saw.
final class EventCollector: Sendable {
    private struct State {
        var events: [ResourceEvent] = []
        var ended = false
        var error: ResourceStoreError?
        var otherError: String?
    }

    private final class Shared: Sendable {
        let state = Mutex(State())
    }

    private let shared = Shared()
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(_ stream: AsyncThrowingStream<ResourceEvent, any Error>) {
        let handle = Task { [shared] in
            do {
                for try await event in stream {
                    shared.state.withLock { $0.events.append(event) }
                }
            } catch let error as ResourceStoreError {
                shared.state.withLock { $0.error = error }
            } catch {
                shared.state.withLock { $0.otherError = String(describing: error) }
            }
            shared.state.withLock { $0.ended = true }
        }
        task.withLock { $0 = handle }
    }

    var events: [ResourceEvent] { shared.state.withLock { $0.events } }
    var ended: Bool { shared.state.withLock { $0.ended } }
    var error: ResourceStoreError? { shared.state.withLock { $0.error } }

    /// Waits until `count` events arrived (or the deadline passed) and returns what arrived.
    func waitForEvents(_ count: Int, within timeout: Duration = .seconds(15)) async -> [ResourceEvent] {
        await waitUntil(within: timeout) { $0.events.count >= count || $0.ended }
        return events
    }

    /// Waits until the stream ended and returns its error, if any.
    func waitForEnd(within timeout: Duration = .seconds(15)) async -> ResourceStoreError? {
        await waitUntil(within: timeout) { $0.ended }
        #expect(ended, "the watch did not end")
        #expect(shared.state.withLock { $0.otherError } == nil)
        return error
    }

    /// Stops consuming: the consumer's task is cancelled.
    func cancel() async {
        let handle = task.withLock { $0 }
        handle?.cancel()
        await handle?.value
    }

    private func waitUntil(within timeout: Duration, _ done: (State) -> Bool) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if shared.state.withLock({ done($0) }) { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// Polls `condition` until it holds or the deadline passes.
func eventually(within timeout: Duration = .seconds(15), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
