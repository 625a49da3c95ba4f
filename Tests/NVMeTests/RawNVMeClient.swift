import Foundation
import Glibc
import NVMeWire
import TestSupport

/// A hand-driven NVMe/TCP host on a blocking socket, for protocol edge cases the real host never
/// produces. Every wait is bounded by poll.
final class RawNVMeClient: @unchecked Sendable {
    private let socket: RawSocket
    var fd: Int32 { socket.fd }
    private var buffer: [UInt8] = []
    var framer = PDUFramer(role: .host)

    private init(socket: RawSocket) { self.socket = socket }

    static func connect(port: UInt16) async throws -> RawNVMeClient { RawNVMeClient(socket: try RawSocket.connect(port: port)) }

    func send(_ bytes: [UInt8]) { socket.send(bytes) }

    /// Reads bytes for up to `timeout`; false on end of stream or timeout.
    private func fill(timeout: Duration) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&poller, 1, milliseconds) == 1 else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer += chunk[0..<count]
        return true
    }

    struct PDU {
        var type: PDUType
        var flags: PDUFlags
        var header: [UInt8]
        var data: [UInt8]
    }

    /// The next PDU, or nil if the connection closed or nothing came within `timeout`. The
    /// blocking wait runs on a thread of its own, not on the tasks' shared pool.
    func receivePDU(timeout: Duration = .seconds(5)) async throws -> PDU? {
        try await offThread { try self.receivePDUBlocking(timeout: timeout) }
    }

    private func receivePDUBlocking(timeout: Duration) throws -> PDU? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let found: PDU? = try buffer.withUnsafeBytes { raw in
                guard let view = try framer.frame(raw) else { return nil }
                return PDU(type: view.type, flags: view.flags, header: Array(view.header), data: Array(view.data))
            }
            if let found {
                let total = buffer.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian) }
                buffer.removeFirst(total)
                return found
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero, fill(timeout: remaining) else { return nil }
        }
    }

    /// ICReq/ICResp.
    func initialize(digests: DigestOptions = []) async throws {
        send(ICReq(digests: digests).encode())
        guard let response = try await receivePDU(), response.type == .icResp else { throw POSIXError(.EPROTO) }
        framer.initialized = true
        framer.digests = digests
    }

    /// A CapsuleCmd with in-capsule data (no digests).
    func sendCommand(_ command: SubmissionEntry, data: [UInt8] = []) {
        var out = [UInt8](repeating: 0, count: 72 + 4 + 128)
        let headerLength = out.withUnsafeMutableBytes { PDUHeaderWriter.capsuleCommand(command, dataBytes: data.count, digests: framer.digests, into: $0) }
        send(Array(out[0..<headerLength]) + data)
    }

    /// Waits for the completion of a command.
    func receiveCompletion() async throws -> CompletionEntry? {
        while let pdu = try await receivePDU() {
            if pdu.type == .capsuleResp {
                return pdu.header.withUnsafeBytes { CompletionEntry(bytes: UnsafeRawBufferPointer(rebasing: $0[8..<24])) }
            }
        }
        return nil
    }

    /// Connects an admin queue; returns the controller ID.
    func connectAdmin(subsystemNQN: String, hostNQN: String = "nqn.2023-01.io.hornbill:raw", keepAliveMilliseconds: UInt32 = 0) async throws -> UInt16 {
        try await initialize()
        return try await connectAdminAgain(subsystemNQN: subsystemNQN, hostNQN: hostNQN, keepAliveMilliseconds: keepAliveMilliseconds)
    }

    /// Connect on a queue that is already initialized (ICReq/ICResp done).
    func connectAdminAgain(subsystemNQN: String, hostNQN: String = "nqn.2023-01.io.hornbill:raw", keepAliveMilliseconds: UInt32 = 0) async throws -> UInt16 {
        var command = SubmissionEntry.connect(commandID: 1, queueID: 0, queueSize: 32, keepAliveMilliseconds: keepAliveMilliseconds)
        command.setInCapsuleData(length: 1024)
        let data = ConnectData(hostID: [UInt8](repeating: 7, count: 16), controllerID: 0xFFFF, subsystemNQN: subsystemNQN, hostNQN: hostNQN)
        sendCommand(command, data: data.bytes)
        guard let completion = try await receiveCompletion() else { throw POSIXError(.EPROTO) }
        guard completion.status.isSuccess else { throw POSIXError(.EACCES) }
        return UInt16(truncatingIfNeeded: completion.dw0)
    }

    /// True once the peer closes within `timeout`.
    func waitForClose(timeout: Duration) async -> Bool {
        let fd = self.fd
        return (try? await offThread {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 50) == 1 {
                    var scratch = [UInt8](repeating: 0, count: 4096)
                    let count = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if count <= 0 { return true }
                }
            }
            return false
        }) ?? false
    }
}

