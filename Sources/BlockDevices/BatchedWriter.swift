// The send side of a connection on a reactor: callers append bytes to an output buffer without
// waiting; a writer task sends whatever accumulated while its previous send was in flight, so
// the replies produced in one reactor round go out in one system call. The buffer grows when a
// burst needs it (the protocols above bound what can be outstanding by their queue depth) and
// never shrinks, so appending costs no allocation once warm.

import Glibc

public final class BatchedWriter: @unchecked Sendable {  // confined to its reactor
    public let socket: ReactorSocket
    /// Largest the output may grow to; a protocol that lets more accumulate has a bug.
    public let limitBytes: Int
    private var output: UnsafeMutableRawBufferPointer
    private var outputUsed = 0
    private var sending: UnsafeMutableRawBufferPointer
    private var writerWaiter: UnsafeContinuation<Void, Never>?
    private var writerRunning = false
    public private(set) var isClosed = false
    private var drained: [UnsafeContinuation<Void, Never>] = []

    public init(socket: ReactorSocket, initialBytes: Int = 64 * 1024, limitBytes: Int = 64 * 1024 * 1024) {
        self.socket = socket
        self.limitBytes = limitBytes
        output = .allocate(byteCount: initialBytes, alignment: 64)
        sending = .allocate(byteCount: initialBytes, alignment: 64)
    }

    deinit {
        output.deallocate()
        sending.deallocate()
    }

    /// Lets `body` write up to `most` bytes at the end of the output; it returns how many it wrote.
    public func reserve(upTo most: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        guard !isClosed else { return }
        if outputUsed + most > output.count { grow(toHold: outputUsed + most) }
        let written = body(UnsafeMutableRawBufferPointer(rebasing: output[outputUsed..<(outputUsed + most)]))
        precondition(written <= most, "wrote past the reserved room")
        outputUsed += written
        wake()
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

    private func grow(toHold needed: Int) {
        var size = output.count
        while size < needed { size *= 2 }
        precondition(size <= limitBytes, "connection output exceeds \(limitBytes) bytes")
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: output[0..<outputUsed]))
        output.deallocate()
        output = bigger
    }

    private func wake() {
        if let waiter = writerWaiter {
            writerWaiter = nil
            waiter.resume()
        }
    }

    /// The writer: sends what accumulated, one system call per batch, until `close()` or a send
    /// fails (which closes the connection).
    public func run() async {
        writerRunning = true
        defer {
            writerRunning = false
            for waiter in drained { waiter.resume() }
            drained.removeAll()
        }
        while true {
            if outputUsed == 0 {
                for waiter in drained { waiter.resume() }
                drained.removeAll()
                if isClosed { return }
                await withUnsafeContinuation { writerWaiter = $0 }
                continue
            }
            swap(&output, &sending)
            if output.count < sending.count {
                // Keep both buffers the size the larger has grown to.
                output.deallocate()
                output = .allocate(byteCount: sending.count, alignment: 64)
            }
            let count = outputUsed
            outputUsed = 0
            do {
                try await socket.send(UnsafeRawBufferPointer(rebasing: sending[0..<count]))
            } catch {
                outputUsed = 0
                isClosed = true
                socket.shutdown()
                return
            }
        }
    }

    /// Waits until everything appended so far has been sent (or the writer ended).
    public func drain() async {
        guard writerRunning, outputUsed > 0 || writerWaiter == nil else { return }
        await withUnsafeContinuation { drained.append($0) }
    }

    /// Ends the connection: nothing more is sent; pending receives see end of stream.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        socket.shutdown()
        wake()
    }
}
