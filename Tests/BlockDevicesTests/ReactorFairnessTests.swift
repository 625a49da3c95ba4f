@testable import BlockDevices
import BlockCore
import Foundation
import Synchronization
import TestSupport
import Testing

/// A reactor runs each ready job once per loop round, so a task that keeps yielding cannot keep
/// completions or other threads' jobs from being taken.
@Suite struct ReactorFairnessTests {
    @Test func aYieldingTaskDoesNotStarveIOCompletions() async throws {
        let file = try TemporaryFile(size: 1 << 20)
        let device = try AIODevice(name: "aio0", path: file.path)
        let reactor = try Reactor(name: "fair-io")
        defer { reactor.shutdown() }
        let done = Flag()
        let spins = try await reactor.run {
            try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    var spins = 0
                    while !done.isSet {
                        spins += 1
                        await Task.yield()
                    }
                    return spins
                }
                group.addTask {
                    let channel = try device.makeChannel()
                    let buffer = IOBuffer(byteCount: 4096)
                    for block in 0..<16 { try await channel.read(buffer.vector(), offsetBlocks: UInt64(block * 8)) }
                    done.set()
                    return 0
                }
                return try await group.reduce(0, +)
            }
        }
        #expect(spins > 0)
    }

    @Test(arguments: [true, false])
    func aYieldingTaskDoesNotStarveOtherThreadsJobs(useIOUring: Bool) async throws {
        let reactor = try Reactor(name: "fair-remote", options: .init(useIOUring: useIOUring))
        defer { reactor.shutdown() }
        let done = Flag()
        async let spinner: Void = reactor.run {
            while !done.isSet { await Task.yield() }
        }
        try await Task.sleep(for: .milliseconds(5))  // the spinner is running
        // This job is enqueued from another thread while the reactor is never idle.
        let ranThere = await reactor.run {
            done.set()
            return reactor.isCurrent
        }
        await spinner
        #expect(ranThere)
    }

    @Test func shutdownRunsQueuedJobsAndWaitsForInFlightIO() async throws {
        let file = try TemporaryFile(size: 1 << 20)
        let device = try AIODevice(name: "aio0", path: file.path)
        let reactor = try Reactor(name: "drain")
        let finished = Counter()
        await reactor.run {
            for index in 0..<8 {
                // Unstructured tasks that outlive this closure but prefer the reactor.
                Task(executorPreference: reactor) {
                    let channel = try device.makeChannel()
                    let buffer = IOBuffer(byteCount: 4096)
                    try await channel.read(buffer.vector(), offsetBlocks: UInt64(index))
                    finished.increment()
                }
            }
        }
        reactor.shutdown()
        #expect(finished.value == 8)
        reactor.shutdown()
        #expect(Reactor.current == nil)
    }
}

final class Flag: Sendable {
    private let state = Atomic<Bool>(false)
    var isSet: Bool { state.load(ordering: .acquiring) }
    func set() { state.store(true, ordering: .releasing) }
}

final class Counter: Sendable {
    private let state = Atomic<Int>(0)
    var value: Int { state.load(ordering: .acquiring) }
    func increment() { state.add(1, ordering: .acquiringAndReleasing) }
}
