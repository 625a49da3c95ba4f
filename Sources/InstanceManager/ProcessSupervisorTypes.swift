// What the process supervisor is asked for and answers with: Longhorn's ProcessSpec,
// ProcessStatus and ProcessResponse (ProcessManagerService), without the wire format.

/// A process to run: Longhorn's ProcessSpec.
public struct ProcessSpec: Sendable, Equatable {
    /// The process's name, unique among the supervisor's processes (Longhorn: the replica or engine name).
    public var name: String
    /// The executable's absolute path.
    public var binary: String
    /// Arguments after the binary. In an answer, with the port arguments appended.
    public var args: [String]
    /// Consecutive ports to allocate (0 to `InstanceManagerLimits.maxPortsPerInstance`).
    public var portCount: Int
    /// For each i, `portArgs[i]` with `portStart + i` appended, split on ",", is appended to the
    /// arguments: `["--listen,localhost:"]` → `--listen localhost:10000`.
    public var portArgs: [String]

    public init(name: String, binary: String, args: [String] = [], portCount: Int = 0, portArgs: [String] = []) {
        self.name = name
        self.binary = binary
        self.args = args
        self.portCount = portCount
        self.portArgs = portArgs
    }
}

/// A process's state, with Longhorn's strings.
public enum ProcessState: String, Sendable, Equatable {
    /// Launched; not yet listening on its first port (or, without ports, not yet up for a moment).
    case starting
    /// Listening on its first port, or up for a moment when it has no ports.
    case running
    /// Asked to stop (delete, replace, shutdown, or a start that timed out); not yet exited.
    case stopping
    /// Exited after it was asked to stop, or exited with status 0 on its own.
    case stopped
    /// Exited on its own with a non-zero status or a signal, or did not start listening in time.
    case error
}

/// Longhorn's ProcessStatus.
public struct ProcessStatus: Sendable, Equatable {
    public var state: ProcessState
    /// Why the process is in `.error` ("exit status 3", "signal: killed"), else empty.
    public var errorMessage: String
    /// The allocated ports, both 0 when the process has none.
    public var portStart: Int
    public var portEnd: Int
    /// Longhorn's engine conditions; none are tracked for V1 processes yet.
    public var conditions: [String: Bool]
    /// This incarnation's identity: a replaced or re-created process gets a new one.
    public var uuid: String

    public init(
        state: ProcessState, errorMessage: String, portStart: Int, portEnd: Int, conditions: [String: Bool],
        uuid: String
    ) {
        self.state = state
        self.errorMessage = errorMessage
        self.portStart = portStart
        self.portEnd = portEnd
        self.conditions = conditions
        self.uuid = uuid
    }
}

/// Longhorn's ProcessResponse, plus the child's process id.
public struct ProcessResponse: Sendable, Equatable {
    /// The spec as run: `args` has the port arguments appended, as Longhorn answers.
    public var spec: ProcessSpec
    public var status: ProcessStatus
    /// Set in the answer to a delete.
    public var deleted: Bool
    /// The child's process id (not part of Longhorn's message; for diagnostics and tests).
    public var pid: Int32

    public init(spec: ProcessSpec, status: ProcessStatus, deleted: Bool, pid: Int32) {
        self.spec = spec
        self.status = status
        self.deleted = deleted
        self.pid = pid
    }
}
