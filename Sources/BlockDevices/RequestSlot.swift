// A request's place in a connection of a network target (NVMe/TCP, NBD): the request, its data
// buffer and a long-lived worker task that waits on the slot for the next request to execute.
// Slots are made on first use up to the queue depth and reused, so a request costs no task or
// allocation. Confined to the connection's reactor. `RequestSlotPool` keeps a connection's slots.

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
    public nonisolated(nonsending) func next() async -> Bool {
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

/// The slots of one connection: made on first use up to `limit`, then reused through a free list,
/// so a request costs no allocation once the connection is warm. Confined to the connection's
/// reactor.
public final class RequestSlotPool<Request>: @unchecked Sendable {  // confined to its reactor
    public typealias Slot = RequestSlot<Request>

    /// Slots that may be made; a lower limit keeps the slots already made.
    public var limit: Int
    private let blank: Request
    /// Every slot made so far, by index.
    public private(set) var slots: [Slot] = []
    private var free: [Int] = []
    private var waiter: UnsafeContinuation<Void, Never>?
    private var isClosed = false

    /// A pool of at most `limit` slots whose requests start as `blank`.
    public init(limit: Int, blank: Request) {
        self.limit = limit
        self.blank = blank
    }

    /// A free slot; else a new one while under the limit, handed first to `startWorker` (which
    /// starts the task that runs its requests); nil at the limit or once closed.
    public func take(orMake startWorker: (Slot) -> Void) -> Slot? {
        if isClosed { return nil }
        if let index = free.popLast() { return slots[index] }
        guard slots.count < limit else { return nil }
        let slot = Slot(index: slots.count, request: blank)
        slots.append(slot)
        startWorker(slot)
        return slot
    }

    /// A slot as `take` gives one, waiting while every slot is busy (a connection stops reading
    /// until one is given back); nil once the pool is closed. One waiter at a time.
    public func acquire(orMake startWorker: (Slot) -> Void) async -> Slot? {
        while true {
            if let slot = take(orMake: startWorker) { return slot }
            if isClosed { return nil }
            await withUnsafeContinuation { waiter = $0 }
        }
    }

    /// Returns a slot whose request is answered.
    public func giveBack(_ slot: Slot) {
        free.append(slot.index)
        wakeWaiter()
    }

    /// Ends every worker and wakes a waiter; `take` returns nil from now on.
    public func close() {
        isClosed = true
        for slot in slots { slot.stop() }
        wakeWaiter()
    }

    private func wakeWaiter() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        }
    }
}
