// The send side of a connection on a reactor: callers append bytes to an output buffer without
// waiting; at the end of the reactor round the writer sends whatever accumulated in one request,
// so the replies produced in one round go out in one system call. While a send is in flight, new
// bytes wait for its completion and then go out together. No task runs the writer: the round-end
// hook and the send's completion drive it, so a reply costs no task switch or extra round.
//
// Backpressure: appending never waits and never fails, so a reply can always be queued. What
// bounds the queue is the connection's receive loop: before it reads or starts its next request
// it awaits `waitForRoom()`, which returns while fewer than `highWaterBytes` are queued (appended
// and not yet taken by the kernel) and otherwise when sends have drained the queue below that
// mark. A peer that stops reading therefore stops being read: its requests stay in the kernel's
// socket buffers (TCP backpressure) and what the connection queues stays under the high-water
// mark plus the replies of the requests already started (queue depth × largest reply). The
// buffers grow to that and never shrink, so appending costs no allocation once warm.

import Glibc

public final class BatchedWriter: RoundEndWork, RingCompletionHandler, @unchecked Sendable {  // confined to its reactor
    public let socket: ReactorSocket
    /// Queued bytes at or above which `waitForRoom` waits.
    public let highWaterBytes: Int
    private var output: UnsafeMutableRawBufferPointer
    private var outputUsed = 0
    /// The batch being sent: `sending[sent..<sendingCount]` is what the kernel has not taken yet.
    private var sending: UnsafeMutableRawBufferPointer
    private var sendingCount = 0
    private var sent = 0
    private var sendInFlight = false
    private var flushAsked = false
    public private(set) var isClosed = false
    private var drained: [UnsafeContinuation<Void, Never>] = []
    private var roomWaiters: [UnsafeContinuation<Void, Never>] = []

    public init(socket: ReactorSocket, initialBytes: Int = 64 * 1024, highWaterBytes: Int = DeviceLimits.outputHighWaterBytes) {
        precondition(initialBytes > 0 && highWaterBytes > 0)
        self.socket = socket
        self.highWaterBytes = highWaterBytes
        output = .allocate(byteCount: initialBytes, alignment: 64)
        sending = .allocate(byteCount: initialBytes, alignment: 64)
        drained.reserveCapacity(4)
        roomWaiters.reserveCapacity(4)
    }

    deinit {
        output.deallocate()
        sending.deallocate()
    }

    /// Bytes appended that the kernel has not taken yet.
    public var queuedBytes: Int { outputUsed + (sendInFlight ? sendingCount - sent : 0) }

    /// Whether the queue is below the high-water mark (or the connection ended: nothing queues).
    public var hasRoom: Bool { isClosed || queuedBytes < highWaterBytes }

    /// Returns once the queue is below the high-water mark or the connection ended. A receive loop
    /// awaits this before it reads or starts its next request. On the reactor.
    public nonisolated(nonsending) func waitForRoom() async {
        while !hasRoom {
            await withUnsafeContinuation { roomWaiters.append($0) }
        }
    }

    /// Lets `body` write up to `most` bytes at the end of the output; it returns how many it wrote.
    /// On the reactor.
    public func reserve(upTo most: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        guard !isClosed else { return }
        if outputUsed + most > output.count { grow(toHold: outputUsed + most) }
        let written = body(UnsafeMutableRawBufferPointer(rebasing: output[outputUsed..<(outputUsed + most)]))
        precondition(written <= most, "wrote past the reserved room")
        outputUsed += written
        askForFlush()
    }

    /// Appends exactly `count` bytes written by `body`.
    public func append(count: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) {
        reserve(upTo: count) { region in
            body(region)
            return count
        }
    }

    public func append(_ bytes: [UInt8]) {
        append(count: bytes.count) { out in bytes.withUnsafeBytes { out.copyMemory(from: $0) } }
    }

    /// Grows the output to the next power of two that holds `needed`. How far it can grow is
    /// bounded by the callers: the high-water mark plus what the requests already started reply.
    private func grow(toHold needed: Int) {
        var size = output.count
        while size < needed { size *= 2 }
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: output[0..<outputUsed]))
        output.deallocate()
        output = bigger
    }

    /// Sends at the end of this round, unless a send is in flight (its completion sends the rest).
    private func askForFlush() {
        guard !flushAsked, !sendInFlight, outputUsed > 0 else { return }
        flushAsked = true
        socket.reactor.atRoundEnd(self)
    }

    public func roundEnded() {
        flushAsked = false
        guard !sendInFlight, !isClosed, outputUsed > 0 else { return }
        swap(&output, &sending)
        if output.count < sending.count {
            // Keep both buffers the size the larger has grown to.
            output.deallocate()
            output = .allocate(byteCount: sending.count, alignment: 64)
        }
        sendingCount = outputUsed
        sent = 0
        outputUsed = 0
        sendInFlight = true
        socket.startSend(UnsafeRawBufferPointer(rebasing: sending[0..<sendingCount]), then: self)
    }

    func ringCompleted(_ result: Int32) {
        guard result > 0, !isClosed else {
            // A failed send (or one cut short by close) ends the connection.
            sendInFlight = false
            outputUsed = 0
            if !isClosed {
                isClosed = true
                socket.shutdown()
            }
            resumeDrained()
            resumeRoomWaiters()
            return
        }
        sent += Int(result)
        if sent < sendingCount {
            socket.startSend(UnsafeRawBufferPointer(rebasing: sending[sent..<sendingCount]), then: self)
            if hasRoom { resumeRoomWaiters() }
            return
        }
        sendInFlight = false
        if outputUsed > 0 {
            askForFlush()
        } else {
            resumeDrained()
        }
        if hasRoom { resumeRoomWaiters() }
    }

    private func resumeDrained() {
        guard !drained.isEmpty else { return }
        for waiter in drained { waiter.resume() }
        drained.removeAll(keepingCapacity: true)
    }

    /// Wakes every task waiting for room; each checks again (one that finds the queue filled by
    /// those woken before it waits again), so the queue stays within one reply of the mark.
    private func resumeRoomWaiters() {
        guard !roomWaiters.isEmpty else { return }
        // A resumed task runs later, never inside this loop, so the list is not changed under it.
        for waiter in roomWaiters { waiter.resume() }
        roomWaiters.removeAll(keepingCapacity: true)
    }

    /// Waits until everything appended so far has been sent (or the connection ended). On the
    /// reactor.
    public func drain() async {
        guard !isClosed, outputUsed > 0 || sendInFlight else { return }
        await withUnsafeContinuation { drained.append($0) }
    }

    /// Ends the connection: nothing more is sent; pending receives see end of stream.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        outputUsed = 0
        socket.shutdown()
        // A send in flight completes (failed or not) and resumes the drain waiters then.
        if !sendInFlight { resumeDrained() }
        resumeRoomWaiters()
    }
}
