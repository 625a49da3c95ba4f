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
    /// Request buffers one connection keeps between requests: as much as may be in flight; beyond
    /// it, buffers grown for large requests are given back.
    public static let maxRetainedSlotBufferBytes = maxInFlightPayloadBytes
}
