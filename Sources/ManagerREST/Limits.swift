// Bounds of the REST API's requests.

enum ManagerRESTLimits {
    /// The largest request body read: the largest body a client sends (a node's `diskUpdate` with
    /// every disk) is a few KiB; anything bigger is refused with 413 before it is buffered.
    static let requestBodyBytesMax = 1 << 20
    /// How many times a write that lost a compare-and-swap race is tried again before the client
    /// gets 409 (Longhorn's client retries a 409 itself).
    static let conflictRetries = 3
    /// A websocket stream sends at most one message per this period unless the path names another:
    /// a collection that changes often costs each client one render a second.
    static let streamPeriodDefault: Duration = .seconds(1)
    /// The longest period a path may ask for (Longhorn's bound): longer ones are cut to it.
    static let streamPeriodMax: Duration = .seconds(30)
    /// The longest period text read from a path (`1m30s` is 5 bytes).
    static let streamPeriodTextBytesMax = 32
    /// Websocket streams open at once: each holds a store watch and renders its collection on every
    /// change, so their number is bounded; one more is refused with 503.
    static let streamConnectionsMax = 256
    /// Keepalive pings on an idle stream, so that a dead client is noticed.
    static let streamPingPeriod: Duration = .seconds(15)
    /// The largest websocket frame read or sent: a stream's clients send only control frames, and a
    /// collection is sent in frames of this size.
    static let streamInboundFrameBytesMax = 1 << 14
    /// The largest support bundle: the store's resources must fit; logs get what is left, each its
    /// last `supportBundleLogTailBytes` at most. A download is read whole, so this also bounds the
    /// memory one download holds.
    static let supportBundleBytesMax = 32 << 20
    /// The most of one log file a support bundle holds (its end).
    static let supportBundleLogTailBytes = 8 << 20
    /// The longest `issueURL` or `description` a support bundle request may give.
    static let supportBundleTextBytesMax = 4096
    /// Resources whose decoded documents a route group keeps (per kind): a cluster's nodes and
    /// instance managers number in the hundreds at most.
    static let decodedDocumentsMax = 4096
    /// Rendered answers of single resources a route group keeps, likewise.
    static let renderedResourcesMax = 4096
}
