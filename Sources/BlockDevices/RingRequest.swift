// In-flight io_uring requests. Each is a preallocated object whose address is the SQE's
// user_data; its completion resumes the task that submitted it, or calls the object that asked
// for it (a connection's sender, which is no task). A reactor has a fixed pool of them: a
// submitter that finds the pool empty parks until a request is released (backpressure).

import BlockCore
import CLinuxIO
import Foundation
import Glibc

/// An object a ring request calls when it completes, instead of resuming a task.
protocol RingCompletionHandler: AnyObject, Sendable {
    func ringCompleted(_ result: Int32)
}

final class RingRequest: @unchecked Sendable {
    var continuation: UnsafeContinuation<Int32, Never>?
    /// Set instead of `continuation`; held (and so kept alive) until the completion.
    var handler: (any RingCompletionHandler)?
    /// iovec table for vectored I/O, allocated once.
    let iovecs: UnsafeMutablePointer<iovec>

    init() {
        iovecs = .allocate(capacity: BlockLimits.maxSegmentsPerIO)
    }

    deinit { iovecs.deallocate() }

    var userData: UInt64 { UInt64(UInt(bitPattern: Unmanaged.passUnretained(self).toOpaque())) }

    @inline(__always)
    static func complete(userData: UInt64, result: Int32) {
        let request = Unmanaged<RingRequest>.fromOpaque(UnsafeRawPointer(bitPattern: UInt(userData))!)
            .takeUnretainedValue()
        if let continuation = request.continuation {
            request.continuation = nil
            continuation.resume(returning: result)
        } else {
            let handler = request.handler!
            request.handler = nil
            handler.ringCompleted(result)
        }
    }
}

/// A reactor's fixed set of ring requests. Confined to the reactor's thread.
final class RingRequestPool {
    private var free: [RingRequest]
    private var waiters: [UnsafeContinuation<RingRequest, Never>] = []
    private(set) var inUse = 0
    /// Most requests in flight at once since creation (for tests and statistics).
    private(set) var highWater = 0

    init(capacity: Int) {
        free = (0..<capacity).map { _ in RingRequest() }
    }

    @inline(__always)
    nonisolated(nonsending) func acquire() async -> RingRequest {
        let request: RingRequest
        if let available = free.popLast() {
            request = available
        } else {
            request = await withUnsafeContinuation { waiters.append($0) }
        }
        inUse += 1
        if inUse > highWater { highWater = inUse }
        return request
    }

    @inline(__always)
    func release(_ request: RingRequest) {
        inUse -= 1
        if !waiters.isEmpty {
            waiters.removeFirst().resume(returning: request)
        } else {
            free.append(request)
        }
    }
}

extension Reactor {
    /// Submits one SQE on `request`, a ring request of the caller's own rather than the pool's (a
    /// socket's receive or a device's read may wait for minutes and must not hold one that block
    /// I/O needs), and waits for its result. On the reactor, one at a time per request.
    nonisolated(nonsending) func perform(
        on request: RingRequest, _ prepare: (inout hb_uring, _ userData: UInt64) -> Int32
    ) async -> Int32 {
        precondition(request.continuation == nil, "two requests at once on one ring request")
        otherRequestsInFlight += 1
        defer { otherRequestsInFlight -= 1 }
        return await withUnsafeContinuation { continuation in
            request.continuation = continuation
            let userData = request.userData
            submit { ring in prepare(&ring, userData) }
        }
    }

    /// Runs a blocking call on a thread of its own (the path without io_uring).
    static func blocking(_ call: @escaping @Sendable () -> Int32) async -> Int32 {
        await withUnsafeContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: call()) }
        }
    }
}
