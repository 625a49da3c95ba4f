// The controller's side of the replica protocol: one connection to a replica process, requests
// pipelined with ids and matched to responses in any order. A request that gets no answer within
// the engine-replica timeout, or a dropped connection, fails the link: every request in flight
// and every later one fail at once. Confined to the controller's reactor.
//
// Backpressure: a caller awaits `waitForRoom()` before it sends, so requests queued for a replica
// that reads slowly stay under the writer's high-water mark (plus one request); the callers wait
// instead, and through them the frontend stops reading its clients. Responses are always read at
// once, so the replica is never left with replies the controller does not take.

import BlockCore
import BlockDevices
import Foundation
import Glibc

final class ReplicaLink: @unchecked Sendable {  // confined to its reactor
    let address: String
    let reactor: Reactor
    let timeout: Duration
    private let reader: BufferedReader
    private let writer: BatchedWriter
    /// Who waits for a request's answer: a caller of `call`, or one replica's place in a fanned-out
    /// request. An enum rather than a closure, so a request allocates nothing for it.
    enum Waiter {
        case caller(UnsafeContinuation<ReplicaResponse, any Error>)
        case fanOut(FanOutTally, index: Int)

        func finish(_ result: Result<ReplicaResponse, BlockError>) {
            switch (self, result) {
            case (.caller(let continuation), .success(let response)): continuation.resume(returning: response)
            case (.caller(let continuation), .failure(let error)): continuation.resume(throwing: error)
            case (.fanOut(let tally, let index), .success(let response)):
                tally.record(index, response.status == 0 ? nil : "status \(response.status)")
            case (.fanOut(let tally, let index), .failure(let error)): tally.record(index, "\(error)")
            }
        }
    }
    private var pending = OutstandingRequests<(waiter: Waiter, kind: UInt8, read: (UnsafeMutableRawPointer, Int)?)>()
    /// The watch's ticks so far: a request notes the tick it was sent in (no clock read per request).
    private var tick: UInt64 = 0
    private(set) var failure: String?
    /// Called once when the link fails, with why.
    var onFailure: ((String) -> Void)?

    private init(address: String, socket: ReactorSocket, reactor: Reactor, timeout: Duration) {
        self.address = address
        self.reactor = reactor
        self.timeout = timeout
        reader = BufferedReader(socket: socket, bufferBytes: ReplicaLimits.receiveBufferBytes)
        writer = BatchedWriter(socket: socket)
    }

    /// Connects to tcp://HOST:PORT (or HOST:PORT). Call on the reactor.
    static func connect(_ address: String, reactor: Reactor, timeout: Duration) async throws -> ReplicaLink {
        var text = address
        if text.hasPrefix("tcp://") { text.removeFirst("tcp://".count) }
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw ReplicaError("replica address \(address) is not tcp://HOST:PORT")
        }
        let fd = try await TCPSocket.connect(host: String(text[..<colon]), port: port, timeout: .seconds(5))
        let link = ReplicaLink(address: address, socket: ReactorSocket(fd: fd, reactor: reactor), reactor: reactor, timeout: timeout)
        Task(executorPreference: reactor) { await link.receive() }
        Task(executorPreference: reactor) { await link.watch() }
        return link
    }

    private func receive() async {
        do {
            while failure == nil {
                guard let response = ReplicaResponse(bytes: try await reader.take(ReplicaProtocol.responseBytes)) else {
                    return fail("bad response magic from \(address)")
                }
                guard let entry = pending.remove(response.id) else {
                    return fail("response for request \(response.id), which is not outstanding, from \(address)")
                }
                let length = Int(response.length)
                // A reply answers its request's kind and carries at most the largest payload.
                guard response.kind == entry.kind, length <= ReplicaProtocol.maxPayloadBytes else {
                    entry.waiter.finish(.failure(BlockError(.ioError, "malformed reply from \(address)")))
                    return fail("reply of kind \(response.kind) and \(length) bytes to a request of kind \(entry.kind), from \(address)")
                }
                if let (destination, capacity) = entry.read, response.status == 0 {
                    // A successful read fills its buffer exactly; info fits in it.
                    let isInfo = entry.kind == ReplicaProtocol.Kind.info.rawValue
                    guard isInfo ? length <= capacity : length == capacity else {
                        entry.waiter.finish(.failure(BlockError(.ioError, "reply of \(length) bytes for \(capacity) from \(address)")))
                        return fail("reply of \(length) bytes where \(capacity) were expected, from \(address)")
                    }
                    if length > 0 { try await reader.read(into: destination, count: length) }
                } else if length > 0 {
                    try await reader.skip(length)
                }
                entry.waiter.finish(.success(response))
            }
        } catch {
            fail("connection to \(address) lost")
        }
    }

    /// Fails the link when a request has waited longer than the timeout. The watch wakes every
    /// tick period; a request sent during tick t has waited more than (T - t - 1) periods at tick
    /// T (a reactor timer never fires early), so it fails once that covers the timeout: never
    /// early, at most two periods late.
    private func watch() async {
        let period = ReplicaLimits.watchTickPeriod
        let ticksToTimeout = UInt64((timeout / period).rounded(.up)) + 1
        while failure == nil {
            await reactor.sleep(for: period)
            tick += 1
            if let oldest = pending.oldestTick, tick - oldest >= ticksToTimeout {
                fail("\(address) did not answer within \(timeout)")
            }
        }
    }

    func fail(_ reason: String) {
        guard failure == nil else { return }
        failure = reason
        writer.close()
        for entry in pending.removeAll() { entry.waiter.finish(.failure(BlockError(.ioError, reason))) }
        onFailure?(reason)
        onFailure = nil
    }

    /// Returns once the requests queued for the replica are under the high-water mark (or the link
    /// ended); callers await it before `send` or `call`.
    nonisolated(nonsending) func waitForRoom() async { await writer.waitForRoom() }

    /// Sends a request (with `payload` for a write) and waits for its response; a read's data lands
    /// in `into`.
    nonisolated(nonsending) func call(_ request: ReplicaRequest, payload: IOVector? = nil, into: (UnsafeMutableRawPointer, Int)? = nil) async throws -> ReplicaResponse {
        try await withUnsafeThrowingContinuation { continuation in
            send(request, payload: payload, into: into, to: .caller(continuation))
        }
    }

    /// Sends a request whose answer goes to `waiter` on the reactor (at once when the link has
    /// failed).
    func send(_ request: ReplicaRequest, payload: IOVector? = nil, into: (UnsafeMutableRawPointer, Int)? = nil, to waiter: Waiter) {
        if let failure { return waiter.finish(.failure(BlockError(.ioError, failure))) }
        var request = request
        request.id = pending.insert((waiter, request.kind, into), tick: tick)
        let length = payload?.byteCount ?? 0
        writer.append(count: ReplicaProtocol.requestBytes + length) { out in
            request.write(into: UnsafeMutableRawBufferPointer(rebasing: out[0..<ReplicaProtocol.requestBytes]))
            if let payload { payload.copyOut(from: 0, count: length, into: out.baseAddress! + ReplicaProtocol.requestBytes) }
        }
    }

    func close() { fail("closed") }
}

/// The answers to one fanned-out request, collected on the reactor: the last one resumes the
/// waiting caller, which reads every replica's failure (nil: it succeeded). The controller reuses
/// a tally for request after request, so a fan-out allocates nothing.
final class FanOutTally {
    private(set) var failures: [String?] = []
    private var remaining = 0
    private var continuation: UnsafeContinuation<Void, Never>?

    /// Starts collecting `count` answers for `continuation`.
    func start(count: Int, continuation: UnsafeContinuation<Void, Never>) {
        failures.removeAll(keepingCapacity: true)
        for _ in 0..<count { failures.append(nil) }
        remaining = count
        self.continuation = continuation
    }

    func record(_ index: Int, _ failure: String?) {
        failures[index] = failure
        remaining -= 1
        if remaining == 0, let continuation {
            self.continuation = nil
            continuation.resume()
        }
    }
}
