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
// buffers grow to what a batch needs and never shrink, so appending costs no allocation once warm:
// in powers of two up to the high-water mark, past it only by what is queued (rounded up to
// `DeviceLimits.outputGrowthStepBytes`), and each on its own, so a stalled connection holds about
// what it has queued rather than twice its largest power of two.
//
// End of a connection: `finish(withinSeconds:)` sends what is queued for at most that long and
// then closes, so a peer that keeps its socket open and never reads cannot hold the connection
// (and its listener's connection slot) past it.

import BlockCore
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
    /// Bytes the kernel has taken since the connection began: a peer that reads moves it.
    public private(set) var sentBytes = 0
    private var drained: [UnsafeContinuation<Void, Never>] = []
    private var roomWaiters: [UnsafeContinuation<Void, Never>] = []

    public init(socket: ReactorSocket, initialBytes: Int = 64 * 1024, highWaterBytes: Int = DeviceLimits.outputHighWaterBytes) {
        precondition(initialBytes > 0 && highWaterBytes > 0)
        self.socket = socket
        self.highWaterBytes = highWaterBytes
        output = BufferMemory.allocate(byteCount: initialBytes, alignment: 64)
        sending = BufferMemory.allocate(byteCount: initialBytes, alignment: 64)
        drained.reserveCapacity(4)
        roomWaiters.reserveCapacity(4)
    }

    deinit {
        BufferMemory.release(output)
        BufferMemory.release(sending)
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

    /// Grows the output to hold `needed`: doubling up to the high-water mark (the batches of a busy
    /// connection), past it to `needed` rounded up to a growth step (only the replies of requests
    /// started before the mark was reached land there). How far it can grow is bounded by the
    /// callers: the high-water mark plus what the requests already started reply.
    private func grow(toHold needed: Int) {
        var size = output.count
        while size < needed && size < highWaterBytes { size *= 2 }
        if size < needed {
            let step = DeviceLimits.outputGrowthStepBytes
            size = (needed + step - 1) / step * step
        }
        let bigger = BufferMemory.allocate(byteCount: size, alignment: 64)
        bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: output[0..<outputUsed]))
        BufferMemory.release(output)
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
        // The buffers trade places and keep their own sizes: each grows when a batch needs it.
        swap(&output, &sending)
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
        sentBytes &+= Int(result)
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

    /// Whether the peer took nothing since `sentBytes` was `before` while the queue is at the
    /// high-water mark: it has stopped reading, not just fallen behind for a moment.
    public func isStalled(sinceSentBytes before: Int) -> Bool { !hasRoom && sentBytes == before }

    /// Sends what is queued for at most `seconds`, then closes the connection whether the peer took
    /// it or not: the end of every connection, so a peer that stops reading cannot hold it. On the
    /// reactor.
    public func finish(withinSeconds seconds: Int) async {
        if !isClosed && (outputUsed > 0 || sendInFlight) {
            let deadline = Task(executorPreference: socket.reactor) { [self] in
                guard (try? await Task.sleep(for: .seconds(seconds))) != nil else { return }
                close()  // the peer does not take what is queued: stop waiting for it
            }
            await drain()
            deadline.cancel()
        }
        close()
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
