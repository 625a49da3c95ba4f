// The process supervisor with real child processes: exits reported with their status, output
// captured, ports given back on delete, stops escalated, watches notified, bad requests refused
// without effect, and nothing left running after shutdown.

import Foundation
import Glibc
import InstanceManager
import TestSupport
import Testing

/// Listens on the port of its second argument (`127.0.0.1:PORT`) for a minute.
private let listenerScript = """
    exec perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0], Listen => 5, ReuseAddr => 1) or die "listen: $!"; sleep 60' "${1##*:}"
    """

/// Requires `body` to fail with Longhorn's NotFound for the name "nope".
private func expectNotFound(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("an unknown name was found", sourceLocation: sourceLocation)
    } catch {
        let error = error as? InstanceManagerError
        #expect(
            error == .notFound("process nope") && error?.message == "cannot find process nope",
            sourceLocation: sourceLocation)
    }
}

@Suite(.timeLimit(.minutes(2))) struct ProcessSupervisorTests {
    @Test func aProcessExitingOnItsOwnIsAnErrorWithItsStatusAndItsOutputIsKept() async throws {
        let supervisor = ProcessSupervisor(options: .init(portRange: testPortRange()))
        let created = try await supervisor.create(shell("fails", "echo hello; echo oops >&2; exit 3"))
        #expect(created.status.state == .starting && created.status.portStart == 0 && created.status.portEnd == 0)
        #expect(created.status.uuid.count == 36)
        let failed = try await waitFor(supervisor, "fails") { $0.status.state == .error }
        #expect(failed.status.errorMessage == "exit status 3")
        #expect(!processExists(failed.pid), "the child was reaped")
        #expect(await collect(try await supervisor.log(name: "fails")) == ["hello", "oops"])

        _ = try await supervisor.create(shell("killed", "kill -9 $$"))
        let killed = try await waitFor(supervisor, "killed") { $0.status.state == .error }
        #expect(killed.status.errorMessage == "signal: killed")

        // Status 0 on its own is `stopped`, as Longhorn reports it.
        _ = try await supervisor.create(shell("done", "exit 0"))
        let done = try await waitFor(supervisor, "done") { $0.status.state == .stopped }
        #expect(done.status.errorMessage.isEmpty)

        // A failed process stays listed until deleted; deleting it removes it at once.
        let deleted = try await supervisor.delete(name: "fails")
        #expect(deleted.deleted && deleted.status.state == .error)
        #expect(await supervisor.list().keys.sorted() == ["done", "killed"])
        await supervisor.shutdown()
    }

    @Test func portArgumentsAreAppendedAndTheFirstPortIsProbed() async throws {
        let supervisor = ProcessSupervisor(options: .init(portRange: testPortRange()))
        // Longhorn's form: each port arg gets its port appended, then is split on ",".
        let spec = shell("listener", listenerScript, portCount: 3, portArgs: ["--listen,127.0.0.1:", "--other,"])
        let created = try await supervisor.create(spec)
        let start = created.status.portStart
        #expect(created.status.portEnd == start + 2)
        #expect(created.spec.args == ["-c", spec.args[1], "--listen", "127.0.0.1:\(start)", "--other", "\(start + 1)"])
        #expect(created.spec.portArgs == spec.portArgs && created.spec.portCount == 3)
        let running = try await waitFor(supervisor, "listener") { $0.status.state == .running }
        #expect(running.status.uuid == created.status.uuid)
        await supervisor.shutdown()
        #expect(!processExists(running.pid))
    }

    @Test func replaceSwapsOnlyOnceTheNewProcessRuns() async throws {
        let scratch = try ScratchDirectory()
        let otherShell = "\(scratch.path)/sh"  // another binary path, as an upgraded engine image has
        try FileManager.default.createSymbolicLink(atPath: otherShell, withDestinationPath: "/bin/sh")
        let supervisor = ProcessSupervisor(options: .init(portRange: testPortRange(), startTimeout: .seconds(5)))
        let old = try await supervisor.create(
            shell("engine", listenerScript, portCount: 1, portArgs: ["--listen,127.0.0.1:"]))
        try await waitFor(supervisor, "engine") { $0.status.state == .running }

        // A replacement that fails: it is dropped with its ports, the old process keeps running.
        var failing = shell("engine", "exit 1", portCount: 1)
        failing.binary = otherShell
        do {
            _ = try await supervisor.replace(failing, terminateSignal: "SIGHUP")
            Issue.record("a replacement that failed was accepted")
        } catch {
            #expect(error.code == .internalError && error.message.contains("exit status 1"), "\(error)")
        }
        let kept = try await supervisor.get(name: "engine")
        #expect(kept.status.uuid == old.status.uuid && kept.status.state == .running && processExists(old.pid))
        #expect(await supervisor.allocatedPortCount == 1)

        // The binary it already runs: answered unchanged, as Longhorn does.
        let same = try await supervisor.replace(shell("engine", "exit 1", portCount: 1), terminateSignal: "SIGHUP")
        #expect(same.status.uuid == old.status.uuid)

        // A replacement that runs takes the name; the old process is stopped with SIGHUP.
        var upgrade = shell("engine", listenerScript, portCount: 1, portArgs: ["--listen,127.0.0.1:"])
        upgrade.binary = otherShell
        let replaced = try await supervisor.replace(upgrade, terminateSignal: "SIGHUP")
        #expect(replaced.status.state == .running && replaced.spec.binary == otherShell)
        #expect(replaced.status.uuid != old.status.uuid && replaced.status.portStart != old.status.portStart)
        #expect(try await supervisor.get(name: "engine").status.uuid == replaced.status.uuid)
        let deadline = ContinuousClock.now + .seconds(10)
        while processExists(old.pid), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!processExists(old.pid))
        #expect(await supervisor.allocatedPortCount == 1)
        #expect(await supervisor.list().count == 1)

        // A process being deleted is not brought back by a replace.
        let stopping = try await supervisor.delete(name: "engine")
        var late = upgrade
        late.binary = "/bin/sh"
        do {
            _ = try await supervisor.replace(late, terminateSignal: "SIGHUP")
            Issue.record("a deleted process was replaced")
        } catch {
            #expect(error.code == .failedPrecondition || error.code == .notFound, "\(error)")
        }
        try await waitUntilGone(supervisor, "engine")
        #expect(!processExists(stopping.pid))
        await supervisor.shutdown()
    }

    @Test func aProcessThatNeverListensIsStoppedAsFailed() async throws {
        let supervisor = ProcessSupervisor(options: .init(portRange: testPortRange(), startTimeout: .milliseconds(600)))
        _ = try await supervisor.create(shell("silent", "exec sleep 60", portCount: 1))
        let failed = try await waitFor(supervisor, "silent") { $0.status.state == .error }
        #expect(
            failed.status.errorMessage.contains("did not listen on 127.0.0.1:\(failed.status.portStart)"),
            "\(failed.status.errorMessage)")
        #expect(!processExists(failed.pid))
        // It keeps its ports until deleted.
        #expect(await supervisor.allocatedPortCount == 1)
        _ = try await supervisor.delete(name: "silent")
        #expect(await supervisor.allocatedPortCount == 0)
        await supervisor.shutdown()
    }

    @Test func deleteStopsTheProcessAndGivesItsPortsBack() async throws {
        let base = testPortRange().lowerBound
        let range = base...(base + 3)
        let supervisor = ProcessSupervisor(options: .init(portRange: range))
        let first = try await supervisor.create(shell("first", "exec sleep 60", portCount: 4))
        #expect(first.status.portStart == range.lowerBound && first.status.portEnd == range.upperBound)
        do {
            _ = try await supervisor.create(shell("second", "exec sleep 60", portCount: 1))
            Issue.record("a port was handed out twice")
        } catch {
            #expect(
                error.code == .resourceExhausted
                    && error.message.contains("cannot allocate 1 ports for process second"), "\(error)")
        }

        let deleted = try await supervisor.delete(name: "first")
        #expect(deleted.deleted && [.stopping, .stopped].contains(deleted.status.state))
        #expect(deleted.status.uuid == first.status.uuid)
        try await waitUntilGone(supervisor, "first")
        #expect(!processExists(first.pid))
        #expect(await supervisor.allocatedPortCount == 0)
        let again = try await supervisor.create(shell("first", "exec sleep 60", portCount: 4))
        #expect(again.status.portStart == range.lowerBound && again.status.uuid != first.status.uuid)
        await supervisor.shutdown()
    }

    @Test func aProcessIgnoringTheTerminateSignalIsKilledAfterTheGracePeriod() async throws {
        let supervisor = ProcessSupervisor(
            options: .init(portRange: testPortRange(), stopGracePeriod: .seconds(2)))
        _ = try await supervisor.create(shell("stubborn", "trap '' TERM; echo ready; while :; do sleep 0.1; done"))
        let running = try await waitFor(supervisor, "stubborn") { $0.status.state == .running }
        // The shell installs its trap before printing; only then is SIGTERM ignored.
        for await line in try await supervisor.log(name: "stubborn") where line == "ready" { break }
        let deleted = try await supervisor.delete(name: "stubborn")
        #expect(deleted.status.state == .stopping)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await supervisor.get(name: "stubborn").status.state == .stopping)
        try await waitUntilGone(supervisor, "stubborn")
        #expect(!processExists(running.pid))
        await supervisor.shutdown()
    }

    @Test func theLogFollowsNewLinesUntilTheOutputEndsAndKeepsTheLastLines() async throws {
        let logs = try ScratchDirectory()
        let supervisor = ProcessSupervisor(options: .init(portRange: testPortRange(), logDirectory: logs.path))
        _ = try await supervisor.create(shell("talker", "for i in 1 2 3; do echo line$i; sleep 0.2; done"))
        let stream = try await supervisor.log(name: "talker")  // follows from the first line
        #expect(await collect(stream) == ["line1", "line2", "line3"])
        #expect(try String(contentsOfFile: "\(logs.path)/talker.log", encoding: .utf8) == "line1\nline2\nline3\n")

        // More lines than the ring keeps: the oldest fall off, the file has them all.
        _ = try await supervisor.create(shell("chatty", "i=0; while [ $i -lt 1500 ]; do echo n$i; i=$((i+1)); done"))
        try await waitFor(supervisor, "chatty") { $0.status.state == .stopped }
        let kept = await collect(try await supervisor.log(name: "chatty"))
        #expect(kept.count == InstanceManagerLimits.processLogLines)
        #expect(kept.first == "n500" && kept.last == "n1499")
        let file = try String(contentsOfFile: "\(logs.path)/chatty.log", encoding: .utf8)
        #expect(file.split(separator: "\n").count == 1500)
        await supervisor.shutdown()
    }

    @Test func aWatchIsNotifiedOfEveryStep() async throws {
        let scratch = try ScratchDirectory()
        let go = "\(scratch.path)/go"
        let supervisor = ProcessSupervisor(options: .init(portRange: testPortRange()))
        let changes = supervisor.changes.subscribe()
        // The process ends only once the watcher has seen it run.
        _ = try await supervisor.create(shell("brief", "while [ ! -e \(go) ]; do sleep 0.05; done"))
        var seen: [ProcessState] = []
        for await _ in changes {
            guard let state = await supervisor.list()["brief"]?.status.state else { break }
            if seen.last != state { seen.append(state) }
            if state == .running { _ = FileManager.default.createFile(atPath: go, contents: nil) }
            if state == .stopped { _ = try await supervisor.delete(name: "brief") }
        }
        // Notifications may coalesce, but a watcher that lists on each one sees the process come,
        // run, stop and go.
        #expect(seen.contains(.running) && seen.last == .stopped, "\(seen)")
        #expect(await supervisor.list().isEmpty)
        await supervisor.shutdown()
    }

    @Test func badRequestsAreRefusedAndChangeNothing() async throws {
        let scratch = try ScratchDirectory()
        let notExecutable = "\(scratch.path)/data"
        #expect(FileManager.default.createFile(atPath: notExecutable, contents: Data("#!/bin/sh\n".utf8)))
        let supervisor = ProcessSupervisor(options: .init(portRange: testPortRange()))
        _ = try await supervisor.create(shell("taken", "exec sleep 60", portCount: 1))
        let before = await supervisor.list()

        let invalid: [ProcessSpec] = [
            ProcessSpec(name: "", binary: "/bin/sh"),
            ProcessSpec(name: "a", binary: ""),
            ProcessSpec(name: "a", binary: "/nonexistent/hornbill"),
            ProcessSpec(name: "a", binary: notExecutable),
            ProcessSpec(name: "a", binary: scratch.path),
            ProcessSpec(name: "a", binary: "sh"),
            ProcessSpec(name: "a/b", binary: "/bin/sh"),
            ProcessSpec(name: "..", binary: "/bin/sh"),
            ProcessSpec(name: String(repeating: "n", count: 254), binary: "/bin/sh"),
            ProcessSpec(name: "a", binary: "/bin/sh", portCount: -1),
            ProcessSpec(name: "a", binary: "/bin/sh", portCount: InstanceManagerLimits.maxPortsPerInstance + 1),
            ProcessSpec(name: "a", binary: "/bin/sh", portCount: 1, portArgs: ["--a,", "--b,"]),
            ProcessSpec(name: "a", binary: "/bin/sh", args: ["x\u{0}y"]),
            ProcessSpec(
                name: "a", binary: "/bin/sh",
                args: Array(repeating: "x", count: InstanceManagerLimits.maxProcessArguments + 1)),
            ProcessSpec(
                name: "a", binary: "/bin/sh",
                args: [String(repeating: "x", count: InstanceManagerLimits.maxProcessArgumentBytes)]),
        ]
        for spec in invalid {
            do {
                _ = try await supervisor.create(spec)
                Issue.record("accepted: \(spec)")
            } catch {
                #expect(error.code == .invalidArgument, "\(spec): \(error)")
            }
        }
        do {
            _ = try await supervisor.create(shell("taken", "exit 0"))
            Issue.record("a taken name was accepted")
        } catch {
            #expect(error == InstanceManagerError(.alreadyExists, "process taken already exists"))
        }
        await expectNotFound { _ = try await supervisor.get(name: "nope") }
        await expectNotFound { _ = try await supervisor.delete(name: "nope") }
        await expectNotFound { _ = try await supervisor.log(name: "nope") }
        await expectNotFound { _ = try await supervisor.replace(shell("nope", "exit 0"), terminateSignal: "SIGHUP") }
        let current = try await supervisor.get(name: "taken")
        do {
            _ = try await supervisor.delete(name: "taken", uuid: "not-its-uuid")
            Issue.record("a delete with another uuid was accepted")
        } catch {
            #expect(error.code == .notFound)
        }
        do {
            _ = try await supervisor.replace(shell("taken", "exit 0"), terminateSignal: "SIGUSR1")
            Issue.record("an unsupported signal was accepted")
        } catch {
            #expect(error.code == .invalidArgument)
        }

        let after = await supervisor.list()
        #expect(after.keys.sorted() == before.keys.sorted() && after["taken"]?.status.uuid == current.status.uuid)
        #expect(await supervisor.allocatedPortCount == 1)
        await supervisor.shutdown()
        do {
            _ = try await supervisor.create(shell("late", "exit 0"))
            Issue.record("a process was created after shutdown")
        } catch {
            #expect(error.code == .failedPrecondition)
        }
    }

    @Test func shutdownLeavesNoChild() async throws {
        let supervisor = ProcessSupervisor(
            options: .init(portRange: testPortRange(), stopGracePeriod: .milliseconds(500)))
        var pids: [Int32] = []
        pids.append(try await supervisor.create(shell("a", "exec sleep 60")).pid)
        pids.append(try await supervisor.create(shell("b", "exec sleep 60", portCount: 2)).pid)
        pids.append(try await supervisor.create(shell("c", "trap '' TERM INT; while :; do sleep 0.1; done")).pid)
        pids.append(try await supervisor.create(shell("d", "exit 5")).pid)
        try await waitFor(supervisor, "c") { $0.status.state == .running }
        try await waitFor(supervisor, "d") { $0.status.state == .error }
        await supervisor.shutdown()
        for pid in pids { #expect(!processExists(pid), "pid \(pid) is left") }
        #expect(await supervisor.list().isEmpty)
        #expect(await supervisor.allocatedPortCount == 0)
    }
}
