// A request's place in a connection of a network target (NVMe/TCP, NBD): the request, its data
// buffer and a long-lived worker task that waits on the slot for the next request to execute.
// Slots are made on first use up to the queue depth and reused, so a request costs no task or
// allocation. Confined to the connection's reactor.

public import BlockCore

public final class RequestSlot<Request>: @unchecked Sendable {  // confined to its reactor
    public let index: Int
    public var request: Request
    public private(set) var buffer = IOBuffer(byteCount: 4096)
    private var waiter: UnsafeContinuation<Bool, Never>?
    private var ready = false
    private var stopped = false

    public init(index: Int, request: Request) {
        self.index = index
        self.request = request
    }

    /// Makes room for `count` bytes of data (the buffer only grows, in powers of two).
    public func reserve(_ count: Int) {
        guard count > buffer.count else { return }
        var size = buffer.count
        while size < count { size *= 2 }
        buffer = IOBuffer(byteCount: size)
    }

    /// The worker waits here for its next request; false when the connection is closing.
    public func next() async -> Bool {
        if stopped { return false }
        if ready {
            ready = false
            return true
        }
        return await withUnsafeContinuation { waiter = $0 }
    }

    /// Hands the slot's request to its worker.
    public func start() {
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: true)
        } else {
            ready = true
        }
    }

    /// Ends the worker.
    public func stop() {
        stopped = true
        if let waiter {
            self.waiter = nil
            waiter.resume(returning: false)
        }
    }
}
