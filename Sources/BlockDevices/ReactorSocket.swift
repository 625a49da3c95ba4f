// A connected stream socket driven by a reactor: receives and sends are io_uring RECV and SEND
// requests, so a network connection and the block I/O it causes run on one thread with no hop.
// A receive suspends its task; a send (`startSend`, used by `BatchedWriter`) calls its handler
// when it completes. Without io_uring, each call blocks on a thread of its own and the result
// comes back on the reactor.
//
// One receive and one send may be in flight together. `shutdown()` ends both: a pending receive
// returns 0 (end of stream).

import BlockCore
import CLinuxIO
import Foundation
import Glibc

public final class ReactorSocket: RingCompletionHandler, @unchecked Sendable {
    public let fd: Int32
    public let reactor: Reactor
    /// The socket's own ring requests, one per direction: a receive that waits for the peer for
    /// minutes must not hold one of the reactor's block I/O requests.
    private let receiveRequest = RingRequest()
    private let sendRequest = RingRequest()
    /// Who `startSend` calls when its send completes.
    private var sendHandler: (any RingCompletionHandler)?
    private static let opSend: UInt8 = 26
    private static let opReceive: UInt8 = 27

    /// Takes ownership of a connected socket.
    public init(fd: Int32, reactor: Reactor) {
        self.fd = fd
        self.reactor = reactor
    }

    deinit { close(fd) }

    /// Receives up to `buffer.count` bytes; returns how many, 0 at end of stream.
    public nonisolated(nonsending) func receive(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        let result = await performReceive(buffer.baseAddress!, buffer.count)
        if result < 0 { throw Self.error(result, "receive") }
        return Int(result)
    }

    /// Starts one send of `bytes` (possibly partial, as send(2)) and calls `handler` with what it
    /// returned: the bytes sent, or -errno. No task waits for it; the handler runs on the reactor.
    /// Call on the reactor, with no other send in flight. `bytes` must stay valid until then.
    func startSend(_ bytes: UnsafeRawBufferPointer, then handler: any RingCompletionHandler) {
        precondition(reactor.isCurrent, "a socket's send starts on its reactor")
        let fd = self.fd
        let address = UInt(bitPattern: bytes.baseAddress)
        let length = bytes.count
        guard reactor.usesIOUring else {
            Task(executorPreference: reactor) {
                let result = await Reactor.blocking {
                    let sent = Glibc.send(fd, UnsafeRawPointer(bitPattern: address), length, Int32(MSG_NOSIGNAL))
                    return sent < 0 ? -errno : Int32(sent)
                }
                handler.ringCompleted(result)
            }
            return
        }
        precondition(sendRequest.continuation == nil && sendRequest.handler == nil, "two concurrent sends on one socket")
        // The request calls the socket, which counts the request done and calls `handler`; both
        // stay alive until then.
        sendHandler = handler
        sendRequest.handler = self
        reactor.otherRequestsInFlight += 1
        let userData = sendRequest.userData
        reactor.submit { ring in
            hb_uring_prep_rw(&ring, Self.opSend, fd, UInt64(address), UInt32(length), 0, Int32(MSG_NOSIGNAL), userData)
        }
    }

    func ringCompleted(_ result: Int32) {
        reactor.otherRequestsInFlight -= 1
        let handler = sendHandler!
        sendHandler = nil
        handler.ringCompleted(result)
    }

    /// Ends the connection in both directions; pending and later calls see end of stream.
    public func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    private nonisolated(nonsending) func performReceive(_ address: UnsafeMutableRawPointer, _ length: Int) async -> Int32 {
        guard reactor.usesIOUring else {
            let fd = self.fd
            let pointer = UInt(bitPattern: address)
            return await Reactor.blocking {
                let result = recv(fd, UnsafeMutableRawPointer(bitPattern: pointer), length, 0)
                return result < 0 ? -errno : Int32(result)
            }
        }
        guard reactor.isCurrent else {
            let bits = UInt(bitPattern: address)
            return await reactor.run { await self.performReceive(UnsafeMutableRawPointer(bitPattern: bits)!, length) }
        }
        let fd = self.fd
        let addressBits = UInt64(UInt(bitPattern: address))
        return await reactor.perform(on: receiveRequest) { ring, userData in
            hb_uring_prep_rw(&ring, Self.opReceive, fd, addressBits, UInt32(length), 0, 0, userData)
        }
    }

    static func error(_ result: Int32, _ operation: String) -> BlockError {
        BlockError(.ioError, "\(operation): \(String(cString: strerror(-result)))", errno: -result)
    }
}
