import Foundation
import Glibc
import NVMeWire
import TestSupport

/// A hand-driven NVMe/TCP host on a blocking socket, for protocol edge cases the real host never
/// produces. Every wait is bounded by poll.
final class RawNVMeClient: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []
    var framer = PDUFramer(role: .host)

    private init(fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    static func connect(port: UInt16) async throws -> RawNVMeClient {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return RawNVMeClient(fd: fd)
    }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return }
            sent += count
        }
    }

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

