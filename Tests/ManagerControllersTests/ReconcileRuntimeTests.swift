import Foundation
import ManagerModel
import ManagerStore
import Synchronization
import Testing

@testable import ManagerControllers

/// The reconcile runtime alone, with a reconciler that records what it is asked.
@Suite(.timeLimit(.minutes(1))) struct ReconcileRuntimeTests {
    @Test func retryDelaysDoubleUpToTheCap() {
        let options = ReconcileOptions(
            resyncInterval: .seconds(1), retryDelayBase: .milliseconds(100), retryDelayMax: .milliseconds(700))
        #expect(options.retryDelay(afterFailures: 1) == .milliseconds(100))
        #expect(options.retryDelay(afterFailures: 2) == .milliseconds(200))
        #expect(options.retryDelay(afterFailures: 3) == .milliseconds(400))
        #expect(options.retryDelay(afterFailures: 4) == .milliseconds(700))
        #expect(options.retryDelay(afterFailures: 60) == .milliseconds(700))
    }

    @Test func aKeyAddedWhileItIsProcessedIsQueuedOnceAfterwards() async {
        let queue = WorkQueue()
        await queue.add("a")
        await queue.add("a")
        await queue.add("b")
        #expect(await queue.next() == "a")
        await queue.add("a")
        await queue.add("a")
        #expect(await queue.next() == "b")
        await queue.done("b")
        await queue.done("a")
        #expect(await queue.next() == "a")
        await queue.shutDown()
        #expect(await queue.next() == nil)
    }

    @Test func resyncKeysWaitBehindChangesAndMoveAheadWhenOneChanges() async {
        let queue = WorkQueue()
        for key in ["r1", "r2", "r3"] { await queue.add(key, inBackground: true) }
        await queue.add("changed")
        await queue.add("r2")
        await queue.add("r3", inBackground: true)
        var order: [String] = []
        for _ in 0..<4 {
            guard let key = await queue.next() else { break }
            order.append(key)
            await queue.done(key)
        }
        #expect(order == ["changed", "r2", "r1", "r3"])
        // A resync key that is being reconciled and changes meanwhile is queued again afterwards.
        await queue.add("r4", inBackground: true)
        #expect(await queue.next() == "r4")
        await queue.add("r4", inBackground: true)
        await queue.done("r4")
        #expect(await queue.next() == "r4")
        await queue.shutDown()
    }

    /// Fails its first `failures` reconciles of each key, then counts successes.
    private final class Flaky: Reconciler, @unchecked Sendable {
        let failures: Int
        let state = Mutex<(attempts: [String: Int], successes: [String: Int])>(([:], [:]))
        init(failures: Int) { self.failures = failures }

        func keys() async throws -> [String] { ["a"] }
        func keys(affectedBy event: ResourceEvent) -> [String] {
            event.resource.kind == .settings ? [event.resource.name] : []
        }
        func reconcile(_ key: String) async throws {
            let attempt = state.withLock { state in
                state.attempts[key, default: 0] += 1
                return state.attempts[key, default: 0]
            }
            guard attempt > failures else { throw ControllerTestError("attempt \(attempt) fails") }
            state.withLock { $0.successes[key, default: 0] += 1 }
        }
        func successes(_ key: String) -> Int { state.withLock { $0.successes[key] ?? 0 } }
    }

    @Test func keysComeFromTheListTheWatchAndRetries() async throws {
        let scratch = try StoreScratch()
        let reconciler = Flaky(failures: 2)
        let loop = ReconcileLoop(
            name: "test", store: scratch.store, reconciler: reconciler,
            options: ReconcileOptions(
                resyncInterval: .seconds(60), retryDelayBase: .milliseconds(10), retryDelayMax: .milliseconds(40)))
        let task = Task { await loop.run() }
        defer { task.cancel() }
        // "a" from the initial list, after two failures.
        _ = try await until("a reconciled") { reconciler.successes("a") > 0 ? true : nil }
        // A stored change names its key.
        try await scratch.setSetting("v2-data-engine", "true")
        _ = try await until("the changed setting reconciled") {
            reconciler.successes("v2-data-engine") > 0 ? true : nil
        }
        task.cancel()
        await task.value
    }
}
