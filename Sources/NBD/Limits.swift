// Limits of the NBD server (design/STYLE.md #1).

import BlockDevices

public enum NBDLimits {
    /// Largest read or write payload: the block layer's largest I/O, advertised as the maximum
    /// block size so clients split larger transfers.
    public static let maxPayloadBytes = 4 * 1024 * 1024
    /// Preferred request size advertised to clients (NBD_INFO_BLOCK_SIZE).
    public static let preferredBlockBytes = 128 * 1024
    /// Requests one connection may have in flight; the reader waits for a free slot beyond that.
    public static let maxRequestsPerConnection = 128
    /// Read and write payload one connection may have in flight together (a larger single request
    /// still runs, alone): the whole queue at the preferred request size, and what bounds the
    /// replies a connection whose client stopped reading can hold beyond the writer's high-water
    /// mark.
    public static let maxInFlightPayloadBytes = maxRequestsPerConnection * preferredBlockBytes
    /// Request buffers one connection keeps between requests; beyond it, buffers grown for large
    /// requests are given back. Twice the payload in flight, since a buffer is the next power of
    /// two above its request: the slots a steady load cycles through keep theirs.
    public static let maxRetainedSlotBufferBytes = 2 * maxInFlightPayloadBytes
    /// How long a connection's client may take none of its replies (with them at the high-water
    /// mark) before the idle slots give back their request buffers: long past a burst a reading
    /// client falls behind in, short enough that stalled connections soon hold only their replies.
    public static let stallReleaseSeconds = 2
    /// Longest option payload accepted during the handshake (names are at most 4 KiB).
    public static let maxOptionBytes = 64 * 1024
    /// Longest export name.
    public static let maxExportNameBytes = 4096
    /// Receive buffer of a connection: headers and small writes; larger payloads go straight into
    /// the request's buffer.
    public static let receiveBufferBytes = 256 * 1024
    /// How long a connection whose export is removed keeps sending the answers to its requests
    /// in flight before it closes anyway: long enough for a reading client on a loaded machine,
    /// short enough that a client that stops reading cannot hold up the removal.
    public static let removalDrainSeconds = 5
    /// How long a connection in its handshake may wait for the client's next bytes before it is
    /// closed (checked every period: closed after one to two periods of silence). Without it,
    /// clients that connect and send nothing, or half a header, would hold every connection slot.
    /// qemu-nbd allows 10 s for a whole handshake; this is a gap between bytes and far longer, so a
    /// client held up for tens of seconds on a loaded machine is never cut off.
    public static let handshakeSeconds = 60
    /// What one connection whose client stopped reading holds, at most: its queued replies (the
    /// writer's high-water mark plus the payload in flight, in buffers grown by 1 MiB steps past
    /// the mark) and, once it has been stalled `stallReleaseSeconds`, only the request buffers
    /// of requests in flight. Multiplied by `maxConnections` it is what stalled clients can pin.
    public static let stalledConnectionBytes =
        DeviceLimits.outputHighWaterBytes + maxInFlightPayloadBytes + DeviceLimits.outputGrowthStepBytes
    /// Most connections one listener serves.
    public static let maxConnections = 1024
}
