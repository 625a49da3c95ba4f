// One NVMe/TCP connection's byte handling, shared by the target and the host: a receive loop
// that frames PDUs in place and hands each to the queue pair, and a send path that batches PDUs.
//
// Model: everything runs on the connection's reactor. The receive loop reads into one buffer,
// frames every complete PDU and calls the handler synchronously, then moves the partial PDU left
// at the end to the front. Sends go through a `BatchedWriter`: PDUs produced in one reactor round go
// out in one system call; appending never waits.
//
// Backpressure (the target's side): the loop receives more bytes, and hands each framed PDU to
// the queue pair, only while the writer's queue is under its high-water mark and the queue pair
// admits the PDU (a command needs a free slot); otherwise it waits and frames the PDU again. A
// peer that sends and never reads is then no longer read: what the connection queues stays under
// the high-water mark plus the replies of the commands already started (queue depth × largest
// transfer). A host that sends more commands than its queue has entries is served as slots free
// up rather than cut off; should it hold every slot with writes whose data it sends only behind
// the extra command, it stalls only its own connection.

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

    private let writer: BatchedWriter

    init(socket: ReactorSocket, role: PDUFramer.Role) {
        self.socket = socket
        framer = PDUFramer(role: role)
        receiveBuffer = BufferMemory.allocate(byteCount: NVMeTCPLimits.receiveBufferBytes, alignment: 64)
        writer = BatchedWriter(socket: socket)
    }

    deinit {
        BufferMemory.release(receiveBuffer)
    }

    // MARK: - Receiving

    /// Reads and frames PDUs until the peer closes, `close()` is called or a fatal error: a
    /// `TransportError` (sent to the peer as a TermReq before this returns) or a socket error.
    ///
    /// With `pausingWhileOutputIsFull` (the target: its output answers what it reads) the loop
    /// takes nothing more while the writer is at its high-water mark. A host must not pause: its
    /// output (commands and write data) drains only as the target reads, and a target may itself
    /// wait for the host to read, so both would wait forever. A PDU that `admits` refuses waits for
    /// `waitUntilAdmitted` and is framed again.
    func receive(
        pausingWhileOutputIsFull: Bool = false, admits: (PDUView) -> Bool = { _ in true },
        waitUntilAdmitted: () async -> Void = {}, _ handle: (PDUView) throws(TransportError) -> Void
    ) async throws {
        var start = 0  // where the PDU being framed begins in the buffer
        do {
            while !isClosed {
                start = 0
                while let pdu = try framer.frame(UnsafeRawBufferPointer(rebasing: receiveBuffer[start..<receiveEnd])) {
                    // One receive holds thousands of commands: each waits for room, not just the next
                    // receive.
                    if (pausingWhileOutputIsFull && !writer.hasRoom) || !admits(pdu) {
                        if pausingWhileOutputIsFull { await writer.waitForRoom() }
                        if !admits(pdu) { await waitUntilAdmitted() }
                        if isClosed { return }
                        continue
                    }
                    try handle(pdu)
                    start += pdu.length
                    if isClosed { return }
                }
                if start > 0 {
                    let remaining = receiveEnd - start
                    if remaining > 0 { memmove(receiveBuffer.baseAddress!, receiveBuffer.baseAddress! + start, remaining) }
                    receiveEnd = remaining
                }
                if pausingWhileOutputIsFull { await writer.waitForRoom() }  // replies pile up unread: stop reading
                if isClosed { return }
                let count = try await socket.receive(into: UnsafeMutableRawBufferPointer(rebasing: receiveBuffer[receiveEnd...]))
                if count == 0 { return }
                receiveEnd += count
            }
        } catch let error as TransportError {
            // The TermReq carries the header of the PDU in error, not of one handled before it.
            let offending = Array(receiveBuffer[start..<min(receiveEnd, start + NVMeWireLimits.maxHeaderLength)])
            let term = TermReq(status: error.status.rawValue, fieldInfo: error.fieldInfo, offendingHeader: offending)
            append(term.encode(fromController: framer.role == .controller))
            await finish()
            throw error
        }
    }

    // MARK: - Sending

    func append(_ bytes: [UInt8]) { writer.append(bytes) }

    /// Appends a PDU: its header (written by `header`, which returns its length up to the data
    /// offset; at most `headerRoom` bytes), `dataBytes` of data copied by `data`, and the data digest.
    func appendPDU(
        headerRoom: Int = 256, dataBytes: Int, header: (UnsafeMutableRawBufferPointer) -> Int,
        data: (UnsafeMutableRawBufferPointer) -> Void = { _ in }
    ) {
        let withDigest = digests.contains(.data)
        writer.reserve(upTo: headerRoom + dataBytes + 4) { out in
            var end = header(UnsafeMutableRawBufferPointer(rebasing: out[0..<headerRoom]))
            if dataBytes > 0 {
                let region = UnsafeMutableRawBufferPointer(rebasing: out[end..<(end + dataBytes)])
                data(region)
                end += dataBytes
                if withDigest {
                    PDUHeaderWriter.dataDigest(
                        of: UnsafeRawBufferPointer(region), into: UnsafeMutableRawBufferPointer(rebasing: out[end..<(end + 4)]))
                    end += 4
                }
            }
            return end
        }
    }

    /// Waits until everything appended so far has been sent (or the writer ended).
    func drain() async { await writer.drain() }

    /// Sends what is queued for at most `DeviceLimits.finalDrainSeconds`, then closes: the end of a
    /// connection, which a peer that stops reading cannot hold.
    func finish() async { await writer.finish(withinSeconds: DeviceLimits.finalDrainSeconds) }

    var isClosed: Bool { writer.isClosed }

    /// Ends the connection: no more sends; the receive loop and writer end.
    func close() { writer.close() }
}
