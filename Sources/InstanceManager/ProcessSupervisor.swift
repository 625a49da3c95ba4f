// The V1 half of the instance manager: Longhorn's ProcessManagerService without the wire format.
// It runs `hornbill replica` and `hornbill controller` (any executable) as child processes, each
// with a run of ports from the V1 range appended to its arguments, its output captured.
//
// Model. Every launch is an *incarnation* with its own uuid, ports, pid and log. A name maps to
// one current incarnation (what get/list/log/delete see). States: starting → running (listening
// on its first port; without ports, up for a moment) → stopping (asked to stop) → stopped; an
// exit nobody asked for is `error` ("exit status 3") unless the status is 0 (`stopped`), and a
// start that never listens is stopped and left in `error`. Every state change notifies `changes`.
//
// Invariants. An incarnation holds its ports until it has exited *and* left the table: one that
// failed on its own stays listed, ports held, until deleted (as in Longhorn); a deleted or replaced
// one stays until its exit, then goes and gives its ports back. A pid is signalled only before its
// exit is recorded and reaped, both inside the actor (ProcessSupervisorChild.swift), so a reused
// pid is never signalled. Stopping is a terminate signal, then SIGKILL after the grace period.
//
// Failure modes. A bad spec, a taken name or no free ports throw and change nothing. A replacement
// that does not reach running is stopped and the old process is left as it was.

import Foundation
import Glibc

public actor ProcessSupervisor {
    public struct Options: Sendable {
        /// The V1 port range (Longhorn's `--port-range`).
        public var portRange: ClosedRange<Int>
        /// Where each process's output is also written, as `<name>.log`; none when nil.
        public var logDirectory: String?
        /// The host a starting process's first port is probed on.
        public var probeHost: String
        public var startTimeout: Duration
        public var settleTime: Duration
        public var stopGracePeriod: Duration
        /// Set in every child's environment (ProcessSpawn.swift): the path its record is kept at,
        /// so that the next supervisor finds a child it was killed before recording.
        public var mark: String?

        public init(
            portRange: ClosedRange<Int> = InstanceManagerLimits.defaultProcessPorts,
            logDirectory: String? = nil,
            probeHost: String = "127.0.0.1",
            startTimeout: Duration = .seconds(InstanceManagerLimits.processStartTimeoutSeconds),
            settleTime: Duration = .milliseconds(InstanceManagerLimits.processSettleMilliseconds),
            stopGracePeriod: Duration = .seconds(InstanceManagerLimits.processStopGraceSeconds),
            mark: String? = nil
        ) {
            self.portRange = portRange
            self.logDirectory = logDirectory
            self.probeHost = probeHost
            self.startTimeout = startTimeout
            self.settleTime = settleTime
            self.stopGracePeriod = stopGracePeriod
            self.mark = mark
        }
    }

    /// Notified on every state change, creation and removal (ProcessWatch, InstanceWatch).
    public nonisolated let changes: ChangeBroadcaster
    public nonisolated let options: Options

    private var ports: PortAllocator
    private var incarnations: [String: Incarnation] = [:]  // by uuid, until exited and out of the table
    private var current: [String: String] = [:]  // name → uuid of the listed incarnation
    private var isShutDown = false

    public init(options: Options = Options(), changes: ChangeBroadcaster = ChangeBroadcaster()) {
        self.options = options
        self.changes = changes
        self.ports = PortAllocator(range: options.portRange)
    }

    // MARK: ProcessManagerService

    /// ProcessCreate: allocates the ports, launches the process, answers with it `starting`.
    public func create(_ spec: ProcessSpec) throws(InstanceManagerError) -> ProcessResponse {
        try refuseAfterShutdown()
        try spec.validate()
        guard current[spec.name] == nil else {
            throw InstanceManagerError(.alreadyExists, "process \(spec.name) already exists")
        }
        let incarnation = try launch(spec)
        current[spec.name] = incarnation.uuid
        changes.notify()
        return incarnation.response()
    }

    /// ProcessGet.
    public func get(name: String) throws(InstanceManagerError) -> ProcessResponse {
        try listed(name).response()
    }

    /// ProcessList: every listed process by name.
    public func list() -> [String: ProcessResponse] {
        current.compactMapValues { incarnations[$0]?.response() }
    }

    /// "pid start-time name" of every listed child that has not exited, for the child record
    /// (ProcessSupervisor+Leftovers.swift). A child's start time is read from /proc once: the
    /// record is written on every change, and reading every child's again each time made a
    /// change cost as much as the children running.
    func childRecordLines() -> [String] {
        current.values.compactMap { uuid -> String? in
            guard let incarnation = incarnations[uuid], incarnation.pid > 0, incarnation.exit == nil else { return nil }
            if incarnation.startTime == nil { incarnation.startTime = processStartTime(incarnation.pid) }
            guard let start = incarnation.startTime else { return nil }
            return "\(incarnation.pid) \(start) \(incarnation.spec.name)\n"
        }
    }

    /// ProcessDelete: asks the process to stop (SIGTERM, then SIGKILL after the grace period) and
    /// answers with it `stopping` (or as it ended) and `deleted`. It stays listed until it has
    /// exited; then it goes and its ports are released. A non-empty `uuid` must match.
    public func delete(name: String, uuid: String = "") throws(InstanceManagerError) -> ProcessResponse {
        let incarnation = try listed(name)
        guard uuid.isEmpty || uuid == incarnation.uuid else { throw .notFound("process \(name) with UUID \(uuid)") }
        incarnation.deleted = true
        requestStop(incarnation, signal: SIGTERM)
        var response = incarnation.response()
        response.deleted = true
        removeIfDone(incarnation)
        return response
    }

    /// ProcessLog: the captured lines, then new ones until the process's output ends or the caller
    /// stops iterating.
    public func log(name: String) throws(InstanceManagerError) -> AsyncStream<String> {
        try listed(name).log.follow()
    }

    /// ProcessReplace: launches `spec` (a new incarnation with its own ports); once it is running,
    /// stops the old one with `terminateSignal` ("SIGHUP" as Longhorn's manager sends; SIGINT,
    /// SIGTERM, SIGKILL also taken) and lists the new one under the name. If the new one does not
    /// reach running it is stopped, the old one keeps running, and this throws `.internalError`.
    /// As in Longhorn, a spec with the binary the process already runs answers with it unchanged
    /// (a retried upgrade does not restart the engine). A process being deleted is not replaced.
    public func replace(
        _ spec: ProcessSpec, terminateSignal: String
    ) async throws(InstanceManagerError) -> ProcessResponse {
        try refuseAfterShutdown()
        guard let signal = terminateSignals[terminateSignal] else {
            throw .invalidArgument(
                "unsupported terminate signal \(terminateSignal): use one of \(terminateSignals.keys.sorted().joined(separator: ", "))"
            )
        }
        try spec.validate()
        let old = try listed(spec.name)
        guard !old.deleted else {
            throw InstanceManagerError(.failedPrecondition, "process \(spec.name) is being deleted")
        }
        if old.spec.binary == spec.binary { return old.response() }
        let replacement = try launch(spec)
        await untilSettled(replacement)
        guard replacement.state == .running else {
            let reason =
                replacement.errorMessage.isEmpty ? "it is \(replacement.state.rawValue)" : replacement.errorMessage
            discard(replacement)
            throw InstanceManagerError(.internalError, "failed to start replacement process \(spec.name): \(reason)")
        }
        guard current[spec.name] == old.uuid else {
            discard(replacement)
            throw InstanceManagerError(.alreadyExists, "process \(spec.name) to replace has changed in the meantime")
        }
        current[spec.name] = replacement.uuid
        old.deleted = true
        requestStop(old, signal: signal)
        removeIfDone(old)
        changes.notify()
        return replacement.response()
    }

    /// Stops every process (SIGTERM, SIGKILL after the grace period), waits until each has exited
    /// and been reaped, and refuses new processes from then on. `changes` is left to its owner.
    public func shutdown() async {
        isShutDown = true
        let all = Array(incarnations.values)
        for incarnation in all {
            incarnation.deleted = true
            requestStop(incarnation, signal: SIGTERM)
        }
        for incarnation in all {
            await untilExited(incarnation)
            removeIfDone(incarnation)
        }
        changes.notify()
    }

    /// Ports allocated now (for diagnostics and tests).
    public var allocatedPortCount: Int { ports.allocatedCount }

    // MARK: Lifecycle

    private func refuseAfterShutdown() throws(InstanceManagerError) {
        guard !isShutDown else {
            throw InstanceManagerError(.failedPrecondition, "the process supervisor is shutting down")
        }
    }

    private func listed(_ name: String) throws(InstanceManagerError) -> Incarnation {
        guard let uuid = current[name], let incarnation = incarnations[uuid] else { throw .notFound("process \(name)") }
        return incarnation
    }

    /// Allocates ports and starts the child; on any failure gives the ports back and throws.
    private func launch(_ spec: ProcessSpec) throws(InstanceManagerError) -> Incarnation {
        var range: PortRange?
        if spec.portCount > 0 {
            do {
                // Ports another program holds are passed over: the child would fail to listen.
                range = try ports.allocate(count: spec.portCount) { PortProbe.isFree(port: $0, ip: "0.0.0.0") }
            } catch {
                throw InstanceManagerError(
                    .resourceExhausted, "cannot allocate \(spec.portCount) ports for process \(spec.name): \(error)")
            }
        }
        var launched = spec
        launched.args = spec.arguments(portStart: range?.start ?? 0)
        let child: SpawnedChild
        let file: ProcessLogFile?
        do throws(InstanceManagerError) {
            file = try options.logDirectory.map { directory throws(InstanceManagerError) in
                try ProcessLogFile(directory: directory, name: spec.name)
            }
            child = try spawnChild(binary: launched.binary, arguments: launched.args, mark: options.mark)
        } catch {
            if let range { ports.release(range) }
            throw error
        }
        let incarnation = Incarnation(spec: launched, ports: range, pid: child.pid)
        incarnations[incarnation.uuid] = incarnation
        startOutputReader(descriptor: child.output, log: incarnation.log, file: file, name: spec.name)
        let uuid = incarnation.uuid
        watchForExit(of: child.pid, name: spec.name) { [self] in
            Task { await self.childExited(uuid) }
        }
        Task { await self.awaitRunning(uuid, port: range?.start) }
        return incarnation
    }

    /// Moves a starting process to running once its first port accepts connections (or, without
    /// ports, once it has been up for the settle time); stops it as failed after the start timeout.
    private func awaitRunning(_ uuid: String, port: Int?) async {
        let clock = ContinuousClock()
        let deadline = clock.now + options.startTimeout
        guard let port else {
            try? await Task.sleep(for: options.settleTime)
            if let incarnation = incarnations[uuid], incarnation.state == .starting { setState(incarnation, .running) }
            return
        }
        let host = options.probeHost
        while let incarnation = incarnations[uuid], incarnation.state == .starting {
            if await Self.probe(host: host, port: port) {
                // The state may have changed while probing.
                if incarnation.state == .starting { setState(incarnation, .running) }
                return
            }
            if clock.now >= deadline {
                incarnation.failure = "did not listen on \(host):\(port) within \(options.startTimeout)"
                requestStop(incarnation, signal: SIGTERM)
                return
            }
            try? await Task.sleep(for: .milliseconds(InstanceManagerLimits.processProbeIntervalMilliseconds))
        }
    }

    @concurrent private static func probe(host: String, port: Int) async -> Bool {
        isListening(host: host, port: port)
    }

    /// Sends `signal` to a process that has not exited and marks it stopping; SIGKILL follows
    /// after the grace period if it is still there.
    private func requestStop(_ incarnation: Incarnation, signal: Int32) {
        guard incarnation.exit == nil, incarnation.state != .stopping else { return }
        setState(incarnation, .stopping)
        kill(incarnation.pid, signal)
        let uuid = incarnation.uuid
        let grace = options.stopGracePeriod
        Task {
            try? await Task.sleep(for: grace)
            self.killIfAlive(uuid)
        }
    }

    private func killIfAlive(_ uuid: String) {
        guard let incarnation = incarnations[uuid], incarnation.exit == nil else { return }
        incarnation.killedAfterGrace = true
        kill(incarnation.pid, SIGKILL)
    }

    /// The reaper saw the child exit: reap it, record how it ended, drop it if it was deleted.
    private func childExited(_ uuid: String) {
        guard let incarnation = incarnations[uuid], incarnation.exit == nil else { return }
        var status: Int32 = 0
        var reaped: pid_t
        repeat { reaped = waitpid(incarnation.pid, &status, WNOHANG) } while reaped < 0 && errno == EINTR
        if reaped == 0 {  // the wait ended without an exit (it should not): wait again, never block here
            watchForExit(of: incarnation.pid, name: incarnation.spec.name) { [self] in
                Task { await self.childExited(uuid) }
            }
            return
        }
        // A pid nobody can wait for any more (ECHILD) is gone: record it as killed.
        let exit = reaped == incarnation.pid ? ChildExit(waitStatus: status) : .signaled(SIGKILL)
        incarnation.exit = exit
        if let failure = incarnation.failure {
            incarnation.errorMessage = failure
            setState(incarnation, .error)
        } else if incarnation.state == .stopping {
            if incarnation.killedAfterGrace {
                incarnation.errorMessage = "killed: still running \(options.stopGracePeriod) after it was asked to stop"
            }
            setState(incarnation, .stopped)
        } else if exit.isClean {
            setState(incarnation, .stopped)
        } else {
            incarnation.errorMessage = exit.description
            setState(incarnation, .error)
        }
        incarnation.resumeExitWaiters()
        removeIfDone(incarnation)
    }

    /// A deleted or replaced incarnation that has exited leaves the table and gives its ports back.
    private func removeIfDone(_ incarnation: Incarnation) {
        guard incarnation.exit != nil, incarnation.deleted, incarnations[incarnation.uuid] != nil else { return }
        incarnations[incarnation.uuid] = nil
        if current[incarnation.spec.name] == incarnation.uuid { current[incarnation.spec.name] = nil }
        if let range = incarnation.ports { ports.release(range) }
        changes.notify()
    }

    /// A replacement that will not be used: stopped, then dropped with its ports.
    private func discard(_ incarnation: Incarnation) {
        incarnation.deleted = true
        requestStop(incarnation, signal: SIGTERM)
        removeIfDone(incarnation)
    }

    /// Returns once the state has left `.starting`.
    private func untilSettled(_ incarnation: Incarnation) async {
        guard incarnation.state == .starting else { return }
        await withCheckedContinuation { incarnation.settleWaiters.append($0) }
    }

    /// Returns once the child has exited and been reaped.
    private func untilExited(_ incarnation: Incarnation) async {
        guard incarnation.exit == nil else { return }
        await withCheckedContinuation { incarnation.exitWaiters.append($0) }
    }

    private func setState(_ incarnation: Incarnation, _ state: ProcessState) {
        guard incarnation.state != state else { return }
        incarnation.state = state
        if state != .starting { incarnation.resumeSettleWaiters() }
        changes.notify()
    }
}

/// One launch of a process, confined to the supervisor actor.
private final class Incarnation {
    let uuid = UUID().uuidString.lowercased()
    let spec: ProcessSpec
    let ports: PortRange?
    let pid: pid_t
    let log = ProcessLog()
    /// The child's start time in /proc (clock ticks since boot), read once for the child record.
    var startTime: UInt64?
    var state = ProcessState.starting
    var errorMessage = ""
    /// Why a start failed (the process is then stopped and ends in `.error`).
    var failure: String?
    var exit: ChildExit?
    var killedAfterGrace = false
    /// Deleted or replaced: it leaves the table once it has exited.
    var deleted = false
    var settleWaiters: [CheckedContinuation<Void, Never>] = []
    var exitWaiters: [CheckedContinuation<Void, Never>] = []

    init(spec: ProcessSpec, ports: PortRange?, pid: pid_t) {
        self.spec = spec
        self.ports = ports
        self.pid = pid
    }

    func response() -> ProcessResponse {
        ProcessResponse(
            spec: spec,
            status: ProcessStatus(
                state: state, errorMessage: errorMessage, portStart: ports?.start ?? 0, portEnd: ports?.end ?? 0,
                conditions: [:], uuid: uuid),
            deleted: false, pid: pid)
    }

    func resumeSettleWaiters() {
        let waiters = settleWaiters
        settleWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    func resumeExitWaiters() {
        let waiters = exitWaiters
        exitWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }
}
