// Leftovers of a supervisor killed with SIGKILL: the next one stops the children it recorded, and
// those it started but had not recorded yet, found by the mark in their environment.

import Foundation
import Glibc
import InstanceManager
import TestSupport
import Testing

@Suite(.timeLimit(.minutes(2))) struct ProcessLeftoverTests {
    @Test func aChildNotRecordedYetIsFoundByItsMarkAndStopped() async throws {
        let scratch = try ScratchDirectory()
        let record = scratch.path + "/processes"
        let marked = ProcessSupervisor(options: .init(portRange: testPortRange(), mark: record))
        let other = ProcessSupervisor(options: .init(portRange: testPortRange(), mark: record + "-other"))
        let unmarked = ProcessSupervisor(options: .init(portRange: testPortRange()))
        _ = try await marked.create(shell("sleeper", "sleep 60 & wait"))
        _ = try await other.create(shell("bystander", "sleep 60"))
        _ = try await unmarked.create(shell("unmarked", "sleep 60"))
        let sleeper = try await waitFor(marked, "sleeper") { $0.status.state == .running }
        let bystander = try await waitFor(other, "bystander") { $0.status.state == .running }
        let plain = try await waitFor(unmarked, "unmarked") { $0.status.state == .running }
        #expect(!FileManager.default.fileExists(atPath: record), "nothing was recorded")

        let stopped = ProcessSupervisor.stopLeftovers(recordedIn: record)
        #expect(stopped.map(\.pid) == [sleeper.pid])
        let ended = try await waitFor(marked, "sleeper") { $0.status.state == .error }
        #expect(ended.status.errorMessage == "signal: killed")
        // Another mark, and no mark, are left alone.
        #expect(processExists(bystander.pid) && processExists(plain.pid))
        #expect(try await other.get(name: "bystander").status.state == .running)
        await marked.shutdown()
        await other.shutdown()
        await unmarked.shutdown()
    }

    @Test func aChildCarriesItsSupervisorsMarkOnce() async throws {
        let scratch = try ScratchDirectory()
        let record = scratch.path + "/processes"
        let supervisor = ProcessSupervisor(options: .init(portRange: testPortRange(), mark: record))
        _ = try await supervisor.create(shell("env", "env | grep '^HORNBILL_SUPERVISOR='"))
        _ = try await waitFor(supervisor, "env") { $0.status.state == .stopped }
        #expect(await collect(try await supervisor.log(name: "env")) == ["HORNBILL_SUPERVISOR=\(record)"])
        await supervisor.shutdown()
    }
}
