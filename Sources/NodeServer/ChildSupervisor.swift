// The server's children: each wanted child is kept running, restarted with capped exponential
// backoff whenever it exits, until it is stopped. Stopping is SIGTERM to the child's process
// group, then SIGKILL once the grace period is over. The running children are recorded on disk
// after every start and exit ("<pid> <start time> <name>", the instance manager's record format),
// so that a server killed with SIGKILL leaves nothing behind: the next one stops each recorded
// process that is still the same process, and each process marked with the record's path (a
// child started just before the kill, not recorded yet; ProcessSupervisor.stopLeftovers).
//
// A pid is only signalled while the child has not been reaped (the exit thread reports, the
// actor reaps), so a pid reused by another process is never signalled.

import Foundation
public import Glibc
import InstanceManager

/// A child of the server: its name (also its log's name) and its arguments to the executable.
public struct ChildSpec: Sendable, Equatable {
    public var name: String
    public var arguments: [String]
    public init(name: String, arguments: [String]) {
        self.name = name
        self.arguments = arguments
    }
}

public actor ChildSupervisor {
    public struct Options: Sendable {
        public var executable: String
        public var logDirectory: String
        public var recordPath: String
        /// How long a stopped child may take to exit after SIGTERM.
        public var stopGracePeriod: Duration
        /// The first restart's delay, doubled after each quick exit up to `maximumBackoff`.
        public var initialBackoff: Duration
        public var maximumBackoff: Duration
        /// A child that ran this long before it exited is restarted after `initialBackoff` again.
        public var stableRuntime: Duration

        public init(
            executable: String, logDirectory: String, recordPath: String, stopGracePeriod: Duration = .seconds(30),
            initialBackoff: Duration = .milliseconds(500), maximumBackoff: Duration = .seconds(30),
            stableRuntime: Duration = .seconds(60)
        ) {
            self.executable = executable
            self.logDirectory = logDirectory
            self.recordPath = recordPath
            self.stopGracePeriod = stopGracePeriod
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.stableRuntime = stableRuntime
        }
    }

    private struct Child {
        var spec: ChildSpec
        /// Running and not reaped yet.
        var pid: pid_t?
        var startedAt: ContinuousClock.Instant
        var backoff: Duration
        /// Counts launches, so that a restart scheduled for an earlier one is dropped.
        var launch: Int
    }

    public nonisolated let options: Options
    /// The wanted children, by name.
    private var children: [String: Child] = [:]
    /// Children being stopped: no longer wanted, pid until reaped.
    private var stopping: [String: pid_t] = [:]
    private let log: @Sendable (String) -> Void

    public init(options: Options, log: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.log = log
    }

    /// Whether `name` is wanted (running or waiting to restart).
    public func isWanted(_ name: String) -> Bool { children[name] != nil }

    /// The pid of `name` while it runs.
    public func pid(of name: String) -> pid_t? { children[name]?.pid }

    /// Wants `spec` running: starts it now (a failed launch is retried like an exit).
    public func start(_ spec: ChildSpec) {
        guard children[spec.name] == nil else { return }
        children[spec.name] = Child(
            spec: spec, pid: nil, startedAt: .now, backoff: options.initialBackoff, launch: 0)
        launch(spec.name)
    }

    /// Stops `name` (SIGTERM to its group, SIGKILL after the grace period) and waits for its exit.
    public func stop(_ name: String) async {
        guard let child = children.removeValue(forKey: name) else { return }
        guard let pid = child.pid else { return }
        stopping[name] = pid
        writeRecord()
        log("stopping \(name) (pid \(pid))")
        signalGroup(pid, SIGTERM)
        let deadline = ContinuousClock.now + options.stopGracePeriod
        while stopping[name] == pid, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if stopping[name] == pid {
            log("\(name) (pid \(pid)) did not stop within \(options.stopGracePeriod): SIGKILL")
            signalGroup(pid, SIGKILL)
            while stopping[name] == pid { try? await Task.sleep(for: .milliseconds(50)) }
        }
    }

    /// Stops `first` in order, then every other child at once.
    public func stopAll(first: [String]) async {
        for name in first { await stop(name) }
        await withTaskGroup(of: Void.self) { group in
            for name in children.keys { group.addTask { await self.stop(name) } }
        }
    }

    private func launch(_ name: String) {
        guard var child = children[name], child.pid == nil else { return }
        child.launch += 1
        child.startedAt = .now
        let logPath = options.logDirectory + "/\(name).log"
        do {
            let pid = try spawnChild(
                executable: options.executable, arguments: child.spec.arguments, logPath: logPath,
                mark: options.recordPath)
            child.pid = pid
            children[name] = child
            log("started \(name) (pid \(pid))")
            watchForExit(of: pid, name: name) { Task { await self.exited(name: name, pid: pid) } }
            writeRecord()
        } catch {
            children[name] = child
            log("\(error)")
            scheduleRestart(name)
        }
    }

    private func exited(name: String, pid: pid_t) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        if stopping[name] == pid {
            stopping[name] = nil
            log("\(name) (pid \(pid)) stopped: \(exitDescription(waitStatus: status))")
            writeRecord()
            return
        }
        guard var child = children[name], child.pid == pid else { return }
        child.pid = nil
        if ContinuousClock.now - child.startedAt >= options.stableRuntime { child.backoff = options.initialBackoff }
        children[name] = child
        writeRecord()
        log("\(name) (pid \(pid)) exited: \(exitDescription(waitStatus: status)); restarting in \(child.backoff)")
        scheduleRestart(name)
    }

    private func scheduleRestart(_ name: String) {
        guard var child = children[name] else { return }
        let delay = child.backoff
        let launch = child.launch
        child.backoff = min(child.backoff * 2, options.maximumBackoff)
        children[name] = child
        Task {
            try? await Task.sleep(for: delay)
            self.restart(name, after: launch)
        }
    }

    private func restart(_ name: String, after launch: Int) {
        // Dropped when the child was stopped (or stopped and wanted again) meanwhile.
        guard let child = children[name], child.launch == launch, child.pid == nil else { return }
        self.launch(name)
    }

    private func signalGroup(_ pid: pid_t, _ signal: Int32) {
        if kill(-pid, signal) != 0 { _ = kill(pid, signal) }
    }

    /// Writes every unreaped child to the record (a temporary file renamed over it).
    private func writeRecord() {
        var running: [(String, pid_t)] = children.compactMap { name, child in child.pid.map { (name, $0) } }
        running += stopping.map { ($0.key, $0.value) }
        let lines = running.compactMap { name, pid -> String? in
            guard let start = processStartTime(pid) else { return nil }
            return "\(pid) \(start) \(name)\n"
        }
        let temporary = options.recordPath + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(lines.sorted().joined().utf8)) else {
            log("cannot write \(temporary)")
            return
        }
        _ = rename(temporary, options.recordPath)
    }
}
