@testable import BlockDevices
import Foundation
import Glibc
import Testing

@Suite struct ReactorTests {
    @Test func tasksStayOnTheReactorThreadAcrossSuspensions() async throws {
        let reactor = try Reactor(name: "t1")
        defer { reactor.shutdown() }
        let moved = await reactor.run {
            #expect(reactor.isCurrent)
            #expect(Reactor.current === reactor)
            var moved = 0
            for _ in 0..<1000 {
                await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in continuation.resume() }
                await Task.yield()
                if !reactor.isCurrent { moved += 1 }
            }
            return moved
        }
        #expect(moved == 0)
        #expect(!reactor.isCurrent)
        #expect(Reactor.current == nil)
    }

    @Test func theThreadCarriesTheReactorsName() async throws {
        let reactor = try Reactor(name: "reactor_7-with-a-long-name")
        defer { reactor.shutdown() }
        let name = await reactor.run { () -> String in
            (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
        }
        #expect(name == "reactor_7-with-\n")
    }

    @Test func anIdleReactorWakesForWorkFromOtherThreads() async throws {
        for useIOUring in [true, false] {
            let reactor = try Reactor(name: "t2", options: .init(useIOUring: useIOUring))
            for round in 0..<20 {
                try await Task.sleep(for: .milliseconds(1))  // let it go idle
                let value = await reactor.run { reactor.isCurrent ? round : -1 }
                #expect(value == round)
            }
            reactor.shutdown()
            reactor.shutdown()  // idempotent
        }
    }

    @Test func childTasksInheritTheReactor() async throws {
        let reactor = try Reactor(name: "t3")
        defer { reactor.shutdown() }
        let onReactor = await reactor.run {
            await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<16 { group.addTask { await Task.yield(); return reactor.isCurrent } }
                var all = true
                for await value in group { all = all && value }
                return all
            }
        }
        #expect(onReactor)
    }

    @Test func fallbackReasonIsReported() throws {
        let reactor = try Reactor(name: "t4", options: .init(useIOUring: false))
        defer { reactor.shutdown() }
        #expect(!reactor.usesIOUring)
        #expect(reactor.ioUringUnavailableReason == "disabled by options")
    }
}
