// One NVMe/TCP connection's byte handling, shared by the target and the host: a receive loop
// that frames PDUs in place and hands each to the queue pair, and a send path that batches PDUs.
//
// Model: everything runs on the connection's reactor. The receive loop reads into one buffer,
// frames every complete PDU and calls the handler synchronously, then moves the partial PDU left
// at the end to the front. Sends append to an output buffer; a writer task sends whatever has
// accumulated while its previous send was in flight, so PDUs produced in one reactor turn go out
// in one system call. The output buffer grows only to what the queue depth allows (each command
// has at most one response and its data outstanding), so appending never waits.

import BlockCore
import BlockDevices
import Foundation
import Glibc
import NVMeWire

final class PDUConnection: @unchecked Sendable {  // confined to its reactor
    let socket: ReactorSocket
    var framer: PDUFramer
    /// Digests negotiated for what this side sends (the same as received).
    var digests: DigestOptions = []
    /// Alignment (0-based dwords) the peer wants data PDUs it receives to have.
    var peerDataAlignment = 0

    private let receiveBuffer: UnsafeMutableRawBufferPointer
    private var receiveEnd = 0

    private var output: UnsafeMutableRawBufferPointer
    private var outputUsed = 0
    private var sending: UnsafeMutableRawBufferPointer
    private var writerWaiter: UnsafeContinuation<Void, Never>?
    private var writerRunning = false
    private(set) var isClosed = false
    private var drained: [UnsafeContinuation<Void, Never>] = []

    init(socket: ReactorSocket, role: PDUFramer.Role) {
        self.socket = socket
        framer = PDUFramer(role: role)
        receiveBuffer = .allocate(byteCount: NVMeTCPLimits.receiveBufferBytes, alignment: 64)
        output = .allocate(byteCount: 64 * 1024, alignment: 64)
        sending = .allocate(byteCount: 64 * 1024, alignment: 64)
    }

    deinit {
        receiveBuffer.deallocate()
        output.deallocate()
        sending.deallocate()
    }

    // MARK: - Receiving

    /// Reads and frames PDUs until the peer closes, `close()` is called or a fatal error: a
    /// `TransportError` (sent to the peer as a TermReq before this returns) or a socket error.
    func receive(_ handle: (PDUView) throws(TransportError) -> Void) async throws {
        do {
            while !isClosed {
                var start = 0
                while let pdu = try framer.frame(UnsafeRawBufferPointer(rebasing: receiveBuffer[start..<receiveEnd])) {
                    try handle(pdu)
                    start += pdu.length
                    if isClosed { return }
                }
                if start > 0 {
                    let remaining = receiveEnd - start
                    if remaining > 0 { memmove(receiveBuffer.baseAddress!, receiveBuffer.baseAddress! + start, remaining) }
                    receiveEnd = remaining
                }
                let count = try await socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: receiveBuffer[receiveEnd...]))
                if count == 0 { return }
                receiveEnd += count
            }
        } catch let error as TransportError {
            let offending = Array(receiveBuffer[0..<min(receiveEnd, NVMeWireLimits.maxHeaderLength)])
            let term = TermReq(status: error.status.rawValue, fieldInfo: error.fieldInfo, offendingHeader: offending)
            append(term.encode(fromController: framer.role == .controller))
            await drain()
            throw error
        }
    }

    // MARK: - Sending

    /// Appends `count` bytes written by `body` to the output and wakes the writer.
    func append(count: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) {
        guard !isClosed else { return }
        if outputUsed + count > output.count { grow(toHold: outputUsed + count) }
        body(UnsafeMutableRawBufferPointer(rebasing: output[outputUsed..<(outputUsed + count)]))
        outputUsed += count
        wakeWriter()
    }

    func append(_ bytes: [UInt8]) {
        append(count: bytes.count) { out in bytes.withUnsafeBytes { out.copyMemory(from: $0) } }
    }

    /// Appends a PDU: its header (written by `header`, which returns its length up to the data
    /// offset; at most `headerRoom` bytes), `dataBytes` of data copied by `data`, and the data digest.
    func appendPDU(
        headerRoom: Int = 256, dataBytes: Int, header: (UnsafeMutableRawBufferPointer) -> Int,
        data: (UnsafeMutableRawBufferPointer) -> Void = { _ in }
    ) {
        guard !isClosed else { return }
        let most = headerRoom + dataBytes + 4
        if outputUsed + most > output.count { grow(toHold: outputUsed + most) }
        let start = outputUsed
        let headerLength = header(UnsafeMutableRawBufferPointer(rebasing: output[start..<(start + headerRoom)]))
        var end = start + headerLength
        if dataBytes > 0 {
            let region = UnsafeMutableRawBufferPointer(rebasing: output[end..<(end + dataBytes)])
            data(region)
            end += dataBytes
            if digests.contains(.data) {
                PDUHeaderWriter.dataDigest(
                    of: UnsafeRawBufferPointer(region), into: UnsafeMutableRawBufferPointer(rebasing: output[end..<(end + 4)]))
                end += 4
            }
        }
        outputUsed = end
        wakeWriter()
    }

    private func grow(toHold needed: Int) {
        var size = output.count
        while size < needed { size *= 2 }
        precondition(size <= 64 * 1024 * 1024, "NVMe/TCP output exceeds what the queue depth allows")
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: output[0..<outputUsed]))
        output.deallocate()
        output = bigger
    }

    private func wakeWriter() {
        if let waiter = writerWaiter {
            writerWaiter = nil
            waiter.resume()
        }
    }

    /// The writer: sends what accumulated, one system call per batch. Runs until `close()`.
    func runWriter() async {
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
    func drain() async {
        guard writerRunning, outputUsed > 0 || writerWaiter == nil else { return }
        await withUnsafeContinuation { drained.append($0) }
    }

    /// Ends the connection: no more sends; the receive loop and writer end.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        socket.shutdown()
        wakeWriter()
    }
}
