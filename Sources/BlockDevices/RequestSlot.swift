// A request's place in a connection of a network target (NVMe/TCP, NBD, the V1 replica protocol):
// the request, its data buffer and a long-lived worker task that waits on the slot for the next
// request to execute. Slots are made on first use up to the queue depth and reused, so a request
// costs no task or allocation. Confined to the connection's reactor. `RequestSlotPool` keeps a
// connection's slots.
//
// Bounds a peer cannot push past: at most `limit` requests in flight; at most
// `inFlightBytesLimit` bytes of payload in flight (a request waits until the requests before it
// leave room, unless it is the only one); and the slots' buffers together keep at most about
// `retainedBufferBytesLimit` (a buffer that grew for a large request is given back, oldest free
// slot first, when the total passes it), so a client cycling large requests through every slot
// cannot make the connection hold queue depth × largest request for good.

public import BlockCore

public final class RequestSlot<Request>: @unchecked Sendable {  // confined to its reactor
    public let index: Int
    public var request: Request
    public private(set) var buffer = IOBuffer(byteCount: DeviceLimits.slotInitialBufferBytes)
    /// Payload bytes this request counts against its pool's in-flight budget.
    fileprivate var chargedBytes = 0
    private var waiter: UnsafeContinuation<Bool, Never>?
    private var ready = false
    private var stopped = false

    public init(index: Int, request: Request) {
        self.index = index
        self.request = request
    }

    /// Makes room for `count` bytes of data (the buffer only grows, in powers of two). A slot of a
    /// pool that bounds its buffers grows through `RequestSlotPool.reserve`.
    public func reserve(_ count: Int) {
        guard count > buffer.count else { return }
        var size = buffer.count
        while size < count { size *= 2 }
        buffer = IOBuffer(byteCount: size)
    }

    /// Gives a grown buffer back, keeping one of the initial size.
    fileprivate func shrinkBuffer() {
        guard buffer.count > DeviceLimits.slotInitialBufferBytes else { return }
        buffer = IOBuffer(byteCount: DeviceLimits.slotInitialBufferBytes)
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
    /// Payload bytes the requests in flight may carry together (one request alone may exceed it).
    public let inFlightBytesLimit: Int
    /// Buffer bytes the slots keep together before grown buffers of free slots are given back.
    public let retainedBufferBytesLimit: Int
    private let blank: Request
    /// Every slot made so far, by index.
    public private(set) var slots: [Slot] = []
    private var free: [Int] = []
    private var waiter: UnsafeContinuation<Void, Never>?
    private var isClosed = false
    /// Payload bytes of the requests in flight.
    public private(set) var inFlightBytes = 0
    /// Requests in flight (slots taken and not given back).
    public private(set) var inFlight = 0
    private var retainedBufferBytes = 0

    /// A pool of at most `limit` slots whose requests start as `blank`.
    public init(limit: Int, blank: Request, inFlightBytesLimit: Int = .max, retainedBufferBytesLimit: Int = .max) {
        self.limit = limit
        self.blank = blank
        self.inFlightBytesLimit = inFlightBytesLimit
        self.retainedBufferBytesLimit = retainedBufferBytesLimit
    }

    /// A free slot; else a new one while under the limit, handed first to `startWorker` (which
    /// starts the task that runs its requests); nil at the limit or once closed.
    public func take(orMake startWorker: (Slot) -> Void) -> Slot? {
        take(payloadBytes: 0, orMake: startWorker)
    }

    private func take(payloadBytes: Int, orMake startWorker: (Slot) -> Void) -> Slot? {
        if isClosed { return nil }
        if inFlight > 0 && payloadBytes > inFlightBytesLimit - inFlightBytes { return nil }
        let slot: Slot
        if let index = free.popLast() {
            slot = slots[index]
        } else {
            guard slots.count < limit else { return nil }
            slot = Slot(index: slots.count, request: blank)
            slots.append(slot)
            free.reserveCapacity(slots.count)
            retainedBufferBytes += slot.buffer.count
            startWorker(slot)
        }
        slot.chargedBytes = payloadBytes
        inFlightBytes += payloadBytes
        inFlight += 1
        return slot
    }

    /// A slot as `take` gives one, for a request carrying `payloadBytes` (read or written), waiting
    /// while every slot is busy or the payload in flight leaves no room for it (a connection stops
    /// reading until a slot is given back); nil once the pool is closed. One waiter at a time.
    public nonisolated(nonsending) func acquire(payloadBytes: Int = 0, orMake startWorker: (Slot) -> Void) async -> Slot? {
        while true {
            if let slot = take(payloadBytes: payloadBytes, orMake: startWorker) { return slot }
            if isClosed { return nil }
            await withUnsafeContinuation { waiter = $0 }
        }
    }

    /// Whether `take` would give a slot now (ignoring the payload budget).
    public var canTake: Bool { !isClosed && (!free.isEmpty || slots.count < limit) }

    /// Returns once `canTake` or the pool closed. One waiter at a time (shared with `acquire`).
    public func waitUntilCanTake() async {
        while !canTake && !isClosed {
            await withUnsafeContinuation { waiter = $0 }
        }
    }

    /// Makes room for `count` bytes in `slot`'s buffer; when the slots' buffers together pass
    /// `retainedBufferBytesLimit`, free slots give their grown buffers back, oldest first.
    public func reserve(_ slot: Slot, _ count: Int) {
        let before = slot.buffer.count
        guard count > before else { return }
        slot.reserve(count)
        retainedBufferBytes += slot.buffer.count - before
        guard retainedBufferBytes > retainedBufferBytesLimit else { return }
        for index in free where slots[index].buffer.count > DeviceLimits.slotInitialBufferBytes {
            retainedBufferBytes -= slots[index].buffer.count - DeviceLimits.slotInitialBufferBytes
            slots[index].shrinkBuffer()
            if retainedBufferBytes <= retainedBufferBytesLimit { return }
        }
    }

    /// Free slots give their grown buffers back (a connection whose client stopped reading keeps
    /// only the buffers of requests in flight); they grow again when a request needs it.
    public func releaseIdleBuffers() {
        for index in free where slots[index].buffer.count > DeviceLimits.slotInitialBufferBytes {
            retainedBufferBytes -= slots[index].buffer.count - DeviceLimits.slotInitialBufferBytes
            slots[index].shrinkBuffer()
        }
    }

    /// Returns a slot whose request is answered.
    public func giveBack(_ slot: Slot) {
        inFlightBytes -= slot.chargedBytes
        slot.chargedBytes = 0
        inFlight -= 1
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
