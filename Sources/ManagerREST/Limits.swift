// Bounds of the REST API's requests.

enum ManagerRESTLimits {
    /// The largest request body read: the largest body a client sends (a node's `diskUpdate` with
    /// every disk) is a few KiB; anything bigger is refused with 413 before it is buffered.
    static let requestBodyBytesMax = 1 << 20
    /// How many times a write that lost a compare-and-swap race is tried again before the client
    /// gets 409 (Longhorn's client retries a 409 itself).
    static let conflictRetries = 3
}
