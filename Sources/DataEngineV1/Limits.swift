// Limits of the V1 engine's replica protocol, server and controller links (design/STYLE.md #1).

public enum ReplicaLimits {
    /// Requests one replica connection executes at once; the server stops reading beyond that.
    /// The controller's link pipelines every frontend request over one connection, so this is
    /// the frontend's queue depth.
    public static let maxRequestsPerConnection = 128
    /// Receive buffer of a connection: headers and small writes; larger payloads go straight into
    /// the request's buffer.
    public static let receiveBufferBytes = 256 * 1024
    /// Read and write payload one replica connection may have in flight together (a larger single
    /// request still runs, alone): the whole queue at 128 KiB, and what bounds the replies a
    /// connection whose peer stopped reading holds beyond the writer's high-water mark.
    public static let maxInFlightPayloadBytes = maxRequestsPerConnection * 128 * 1024
    /// Request buffers one connection keeps between requests; beyond it, buffers grown for large
    /// requests are given back. Twice the payload in flight, since a buffer is the next power of
    /// two above its request: the slots a steady load cycles through keep theirs.
    public static let maxRetainedSlotBufferBytes = 2 * maxInFlightPayloadBytes
    /// How often a controller's link checks its requests against the engine-replica timeout: a
    /// silent replica is found at most two periods after the timeout.
    public static let watchTickPeriod: Duration = .milliseconds(250)
}

public enum V1ProcessLimits {
    /// How long an idle replica or controller reactor polls before it sleeps: not at all. A V1
    /// volume is a chain of processes (client, controller, replicas) that outnumber a small
    /// machine's cores, and a polling reactor yielding to its busy peers turned each I/O into
    /// several context switches and more CPU time per I/O than the wake-up it saved
    /// (docs/benchmarks.md, "V1 path").
    public static let defaultPollMicroseconds = 0
}
