// The frames the abuse suite (AbuseTests.swift) sends each listener: a valid session for the
// protocol and, built from it, hostile variants — length fields that lie, zero lengths — plus the
// prefixes that bring a connection to the state a hostile frame needs (initialized, connected,
// a write waiting for its data). Every stream is bytes a test can send on a `RawSocket`.

import DataEngineV1
import Foundation
import NBD
import NVMeWire
import StorageKit
import TestSupport

/// What a connection does before the hostile bytes: an exchange with the server (false when it
/// did not go as a correct server answers).
struct AbusePrefix: Sendable {
    let name: String
    let exchange: @Sendable (RawSocket) -> Bool

    static let none = AbusePrefix(name: "none") { _ in true }
}

/// Hostile bytes after a prefix.
struct HostileStream: Sendable {
    var prefix: AbusePrefix = .none
    var bytes: [UInt8]
}

// MARK: - NVMe/TCP

enum NVMeFrames {
    static let hostNQN = "nqn.2023-01.io.hornbill:abuse-host"

    static func pdu(_ data: [UInt8] = [], _ write: (UnsafeMutableRawBufferPointer) -> Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 256)
        return Array(out[0..<out.withUnsafeMutableBytes(write)]) + data
    }

    static func command(_ command: SubmissionEntry, data: [UInt8] = []) -> [UInt8] {
        pdu(data) { PDUHeaderWriter.capsuleCommand(command, dataBytes: data.count, digests: [], into: $0) }
    }

    static func h2cData(commandID: UInt16, tag: UInt16, offset: UInt32 = 0, declared: UInt32, data: [UInt8]) -> [UInt8] {
        let fields = DataPDUHeader(commandID: commandID, transferTag: tag, offset: offset, length: declared)
        return pdu(data) { PDUHeaderWriter.data(.h2cData, fields, flags: [.lastPDU], dataBytes: data.count, digests: [], into: $0) }
    }

    static func connect(_ nqn: String, inCapsuleBytes: Int? = nil) -> [UInt8] {
        var entry = SubmissionEntry.connect(commandID: 1, queueID: 0, queueSize: 32, keepAliveMilliseconds: 0)
        let data = ConnectData(hostID: [UInt8](repeating: 7, count: 16), controllerID: 0xFFFF, subsystemNQN: nqn, hostNQN: hostNQN).bytes
        entry.setInCapsuleData(length: inCapsuleBytes ?? data.count)
        return command(entry, data: data)
    }

    /// Admin commands a host sends once connected, pipelined.
    static func connectedSession() -> [UInt8] {
        var identify = SubmissionEntry(opcode: AdminOpcode.identify, commandID: 2)
        identify.cdw10 = 1
        identify.setTransportData(length: 4096)
        var log = SubmissionEntry(opcode: AdminOpcode.getLogPage, commandID: 3)
        log.cdw10 = UInt32(LogPageID.health) | 127 << 16
        log.setTransportData(length: 512)
        var features = SubmissionEntry(opcode: AdminOpcode.setFeatures, commandID: 4)
        features.cdw10 = UInt32(FeatureID.hostBehaviorSupport)
        features.setInCapsuleData(length: 512)
        return command(.propertySet(commandID: 5, offset: PropertyOffset.configuration, value: 1 | 6 << 16 | 4 << 20, wide: false))
            + command(identify) + command(log) + command(features, data: [UInt8](repeating: 0, count: 512))
            + command(.propertyGet(commandID: 6, offset: PropertyOffset.status, wide: false))
            + command(SubmissionEntry(opcode: AdminOpcode.keepAlive, commandID: 7))
    }

    /// ICReq answered by ICResp.
    static let initialized = AbusePrefix(name: "initialized") { socket in
        socket.send(ICReq().encode())
        return socket.receive(exactly: 128, timeout: .seconds(10))?.first == PDUType.icResp.rawValue
    }

    /// Initialized and connected to `nqn` on the admin queue.
    static func connected(_ nqn: String) -> AbusePrefix {
        AbusePrefix(name: "connected") { socket in
            guard initialized.exchange(socket) else { return false }
            socket.send(connect(nqn))
            guard let response = socket.receive(exactly: 24, timeout: .seconds(10)), response[0] == PDUType.capsuleResp.rawValue else { return false }
            return response.withUnsafeBytes { CompletionEntry(bytes: UnsafeRawBufferPointer(rebasing: $0[8..<24])) }.status.isSuccess
        }
    }

    /// Connected, with Set Features (command 9) waiting for 512 bytes after its R2T (tag 1: the
    /// only command outstanding takes the first slot).
    static func awaitingData(_ nqn: String) -> AbusePrefix {
        AbusePrefix(name: "awaiting data") { socket in
            guard connected(nqn).exchange(socket) else { return false }
            var features = SubmissionEntry(opcode: AdminOpcode.setFeatures, commandID: 9)
            features.cdw10 = UInt32(FeatureID.hostBehaviorSupport)
            features.setTransportData(length: 512)
            socket.send(command(features))
            guard let r2t = socket.receive(exactly: 24, timeout: .seconds(10)), r2t[0] == PDUType.r2t.rawValue else { return false }
            return r2t.withUnsafeBytes { DataPDUHeader(header: $0) }.transferTag == 1
        }
    }

    /// An I/O queue: an admin queue connected and enabled on a connection of its own (kept open
    /// by `keeper` until the test ends), then this connection initialized and connected as I/O
    /// queue 1 of that controller.
    static func ioQueue(_ nqn: String, port: UInt16, keeper: SocketKeeper) -> AbusePrefix {
        AbusePrefix(name: "I/O queue") { socket in
            guard let admin = try? RawSocket.connect(port: port), connected(nqn).exchange(admin) else { return false }
            keeper.keep(admin)
            admin.send(command(.propertySet(commandID: 2, offset: PropertyOffset.configuration, value: 1 | 6 << 16 | 4 << 20, wide: false)))
            guard admin.receive(exactly: 24, timeout: .seconds(10)) != nil else { return false }
            // The controller's ID: the admin Connect's answer is not kept, so ask Identify.
            var identify = SubmissionEntry(opcode: AdminOpcode.identify, commandID: 3)
            identify.cdw10 = 1
            identify.setTransportData(length: 4096)
            admin.send(command(identify))
            guard let data = admin.receive(exactly: 24 + 4096, timeout: .seconds(10)) else { return false }
            let controllerID = data.withUnsafeBytes { ControllerIdentity(bytes: UnsafeRawBufferPointer(rebasing: $0[24...])) }.controllerID
            guard initialized.exchange(socket) else { return false }
            var entry = SubmissionEntry.connect(commandID: 1, queueID: 1, queueSize: 32, keepAliveMilliseconds: 0)
            let connectData = ConnectData(hostID: [UInt8](repeating: 7, count: 16), controllerID: controllerID, subsystemNQN: nqn, hostNQN: hostNQN).bytes
            entry.setInCapsuleData(length: connectData.count)
            socket.send(command(entry, data: connectData))
            guard let response = socket.receive(exactly: 24, timeout: .seconds(10)) else { return false }
            return response.withUnsafeBytes { CompletionEntry(bytes: UnsafeRawBufferPointer(rebasing: $0[8..<24])) }.status.isSuccess
        }
    }

    /// I/O commands on namespace 1 (4 KiB blocks), pipelined: writes in the capsule, a read,
    /// flush, write zeroes and a deallocate.
    static func ioSession() -> [UInt8] {
        func io(_ opcode: UInt8, _ commandID: UInt16, lba: UInt64, blocks: UInt32) -> SubmissionEntry {
            var entry = SubmissionEntry(opcode: opcode, commandID: commandID, namespaceID: 1)
            entry.cdw10 = UInt32(truncatingIfNeeded: lba)
            entry.cdw11 = UInt32(truncatingIfNeeded: lba >> 32)
            entry.cdw12 = blocks - 1
            return entry
        }
        var write = io(IOOpcode.write, 1, lba: 200, blocks: 1)
        write.setInCapsuleData(length: 4096)
        var read = io(IOOpcode.read, 2, lba: 200, blocks: 2)
        read.setTransportData(length: 8192)
        var deallocate = SubmissionEntry(opcode: IOOpcode.datasetManagement, commandID: 5, namespaceID: 1)
        deallocate.cdw11 = 1 << 2
        deallocate.setInCapsuleData(length: 16)
        var range = [UInt8](repeating: 0, count: 16)
        range.withUnsafeMutableBytes {
            $0.storeBytes(of: UInt32(8).littleEndian, toByteOffset: 4, as: UInt32.self)
            $0.storeBytes(of: UInt64(300).littleEndian, toByteOffset: 8, as: UInt64.self)
        }
        return command(write, data: [UInt8](repeating: 0x5C, count: 4096)) + command(read)
            + command(SubmissionEntry(opcode: IOOpcode.flush, commandID: 3, namespaceID: 1))
            + command(io(IOOpcode.writeZeroes, 4, lba: 400, blocks: 8)) + command(deallocate, data: range)
    }

    static func lengthLies(_ nqn: String) -> [HostileStream] {
        let keepAlive = command(SubmissionEntry(opcode: AdminOpcode.keepAlive, commandID: 7))
        func withPLEN(_ bytes: [UInt8], _ plen: UInt32) -> [UInt8] {
            var out = bytes
            out.withUnsafeMutableBytes { $0.storeBytes(of: plen.littleEndian, toByteOffset: 4, as: UInt32.self) }
            return out
        }
        var tooLong = SubmissionEntry(opcode: AdminOpcode.setFeatures, commandID: 8)
        tooLong.setInCapsuleData(length: 1024)
        var tooShort = tooLong
        tooShort.setInCapsuleData(length: 100)
        var huge = SubmissionEntry(opcode: AdminOpcode.setFeatures, commandID: 8)
        huge.setTransportData(length: 1 << 30)
        var hugeRead = SubmissionEntry(opcode: AdminOpcode.identify, commandID: 8)
        hugeRead.cdw10 = 1
        hugeRead.setTransportData(length: Int(UInt32.max))
        var bigLog = SubmissionEntry(opcode: AdminOpcode.getLogPage, commandID: 8)
        bigLog.cdw10 = UInt32(LogPageID.health) | 0xFFFF << 16
        bigLog.cdw11 = 0xFFFF
        bigLog.setTransportData(length: 4096)
        let connected = connected(nqn), awaiting = awaitingData(nqn)
        let half = [UInt8](repeating: 0x42, count: 256), full = [UInt8](repeating: 0x42, count: 512)
        return [
            HostileStream(prefix: connected, bytes: withPLEN(keepAlive, 72 + 1000)),
            HostileStream(prefix: connected, bytes: withPLEN(keepAlive, 8)),
            HostileStream(prefix: connected, bytes: withPLEN(keepAlive, 71)),
            HostileStream(prefix: connected, bytes: withPLEN(keepAlive, UInt32.max)),
            HostileStream(bytes: withPLEN(ICReq().encode(), 129)),
            HostileStream(bytes: withPLEN(ICReq().encode(), 4096) + [UInt8](repeating: 0, count: 4096)),
            HostileStream(prefix: connected, bytes: command(tooLong, data: full)),
            HostileStream(prefix: connected, bytes: command(tooShort, data: full)),
            HostileStream(prefix: connected, bytes: command(huge)),
            HostileStream(prefix: connected, bytes: command(hugeRead)),
            HostileStream(prefix: connected, bytes: command(bigLog)),
            HostileStream(prefix: connected, bytes: h2cData(commandID: 9, tag: 7, declared: 512, data: full)),
            HostileStream(prefix: connected, bytes: withPLEN(TermReq(status: 1, fieldInfo: 0, offendingHeader: full).encode(fromController: false), 24 + 512)),
            HostileStream(prefix: awaiting, bytes: h2cData(commandID: 9, tag: 1, declared: 512, data: half)),
            HostileStream(prefix: awaiting, bytes: h2cData(commandID: 9, tag: 1, declared: 256, data: full)),
            HostileStream(prefix: awaiting, bytes: h2cData(commandID: 9, tag: 1, offset: 256, declared: 512, data: full)),
            HostileStream(prefix: awaiting, bytes: h2cData(commandID: 9, tag: 1, declared: UInt32.max, data: full)),
            HostileStream(prefix: awaiting, bytes: h2cData(commandID: 9, tag: 1, offset: UInt32.max, declared: 512, data: full)),
            HostileStream(prefix: awaiting, bytes: withPLEN(h2cData(commandID: 9, tag: 1, declared: 512, data: full), 24 + 4096)),
        ]
    }

    static func zeroLengths(_ nqn: String) -> [HostileStream] {
        func command(_ opcode: UInt8, cdw10: UInt32 = 0, transport: Int? = nil, inCapsule: Int? = nil) -> [UInt8] {
            var entry = SubmissionEntry(opcode: opcode, commandID: 8)
            entry.cdw10 = cdw10
            if let transport { entry.setTransportData(length: transport) }
            if let inCapsule { entry.setInCapsuleData(length: inCapsule) }
            return Self.command(entry)
        }
        let connected = connected(nqn), awaiting = awaitingData(nqn)
        var headerOnly = [UInt8](repeating: 0, count: 72)
        headerOnly[0] = PDUType.capsuleCmd.rawValue
        headerOnly[2] = 72
        return [
            // H2CData with DATAL 0: no data at all, and data the header does not declare.
            HostileStream(prefix: awaiting, bytes: h2cData(commandID: 9, tag: 1, declared: 0, data: [])),
            HostileStream(prefix: awaiting, bytes: h2cData(commandID: 9, tag: 1, declared: 0, data: [UInt8](repeating: 1, count: 512))),
            HostileStream(prefix: awaiting, bytes: h2cData(commandID: 9, tag: 1, offset: 512, declared: 0, data: [])),
            HostileStream(prefix: connected, bytes: h2cData(commandID: 9, tag: 1, declared: 0, data: [])),
            HostileStream(prefix: NVMeFrames.initialized, bytes: connect(nqn, inCapsuleBytes: 0)),
            HostileStream(prefix: NVMeFrames.initialized, bytes: Self.command(SubmissionEntry.connect(commandID: 1, queueID: 0, queueSize: 32, keepAliveMilliseconds: 0))),
            HostileStream(prefix: connected, bytes: command(AdminOpcode.identify, cdw10: 1, transport: 0)),
            HostileStream(prefix: connected, bytes: command(AdminOpcode.getLogPage, cdw10: UInt32(LogPageID.health), transport: 0)),
            HostileStream(prefix: connected, bytes: command(AdminOpcode.setFeatures, cdw10: UInt32(FeatureID.hostBehaviorSupport), transport: 0)),
            HostileStream(prefix: connected, bytes: command(AdminOpcode.setFeatures, cdw10: UInt32(FeatureID.hostBehaviorSupport), inCapsule: 0)),
            HostileStream(prefix: connected, bytes: headerOnly),
            HostileStream(prefix: connected, bytes: [UInt8](repeating: 0, count: 8)),
            HostileStream(prefix: connected, bytes: TermReq(status: 1, fieldInfo: 0, offendingHeader: []).encode(fromController: false)),
            HostileStream(bytes: []),
            HostileStream(prefix: connected, bytes: []),
        ]
    }
}

/// Keeps sockets open until released (the admin queues behind abused I/O queues).
final class SocketKeeper: @unchecked Sendable {
    private let lock = NSLock()
    private var sockets: [RawSocket] = []

    func keep(_ socket: RawSocket) { lock.withLock { sockets.append(socket) } }
}

// MARK: - NBD

enum NBDFrames {
    static func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    static let clientFlags = be(NBDWire.clientFlagFixedNewstyle | NBDWire.clientFlagNoZeroes)

    static func option(_ option: NBDWire.Option, _ data: [UInt8] = [], declared: UInt32? = nil) -> [UInt8] {
        be(NBDWire.optionMagic) + be(option.rawValue) + be(declared ?? UInt32(data.count)) + data
    }

    static func request(_ command: NBDWire.Command, cookie: UInt64 = 1, offset: UInt64 = 0, length: UInt32, flags: UInt16 = 0) -> [UInt8] {
        NBDRequest(flags: flags, type: command.rawValue, cookie: cookie, offset: offset, length: length).bytes
    }

    /// Greeting read, flags and NBD_OPT_EXPORT_NAME sent, export size and flags read: the
    /// connection is in the transmission phase.
    static func transmitting(_ export: String) -> AbusePrefix {
        AbusePrefix(name: "transmitting") { socket in
            guard let greeting = socket.receive(exactly: 18, timeout: .seconds(10)),
                greeting.withUnsafeBytes({ $0.loadUnaligned(as: UInt64.self).bigEndian }) == NBDWire.handshakeMagic
            else { return false }
            socket.send(clientFlags + option(.exportName, Array(export.utf8)))
            return socket.receive(exactly: 10, timeout: .seconds(10)) != nil
        }
    }

    /// A whole session without waiting for answers: options, then I/O, then disconnect.
    static func session(_ export: String) -> [UInt8] {
        let info = NBDInfoRequest(name: export, requested: [NBDWire.infoName, NBDWire.infoBlockSize]).bytes
        return clientFlags + option(.structuredReply) + option(.list) + option(.info, info) + option(.go, info) + transmission()
    }

    /// Requests of the transmission phase, ending with a disconnect.
    static func transmission() -> [UInt8] {
        request(.write, cookie: 1, offset: 8192, length: 4096) + [UInt8](repeating: 0x33, count: 4096)
            + request(.read, cookie: 2, offset: 8192, length: 4096) + request(.flush, cookie: 3, length: 0)
            + request(.writeZeroes, cookie: 4, offset: 8192, length: 4096) + request(.trim, cookie: 5, offset: 8192, length: 4096)
            + request(.read, cookie: 6, offset: 1 << 40, length: 4096) + request(.disconnect, cookie: 7, length: 0)
    }

    static func lengthLies(_ export: String) -> [HostileStream] {
        let transmitting = transmitting(export)
        let name = Array(export.utf8)
        var goNameTooLong = NBDInfoRequest(name: export).bytes
        goNameTooLong[3] &+= 100
        var goCountTooLarge = NBDInfoRequest(name: export, requested: [1]).bytes
        goCountTooLarge[goCountTooLarge.count - 3] = 0xFF
        return [
            HostileStream(bytes: clientFlags + option(.go, Array(name.prefix(2)), declared: 1000)),
            HostileStream(bytes: clientFlags + option(.exportName, name, declared: UInt32.max)),
            HostileStream(bytes: clientFlags + option(.info, [UInt8](repeating: 1, count: 100), declared: 70_000)),
            HostileStream(bytes: clientFlags + option(.go, goNameTooLong)),
            HostileStream(bytes: clientFlags + option(.info, goCountTooLarge)),
            HostileStream(bytes: clientFlags + option(.exportName, name, declared: UInt32(name.count - 1)) + [0]),
            HostileStream(prefix: transmitting, bytes: request(.write, length: 8192) + [UInt8](repeating: 1, count: 100)),
            HostileStream(prefix: transmitting, bytes: request(.write, length: 64 << 20) + [UInt8](repeating: 1, count: 4096)),
            HostileStream(prefix: transmitting, bytes: request(.write, length: UInt32.max)),
            HostileStream(prefix: transmitting, bytes: request(.read, length: UInt32.max)),
            HostileStream(prefix: transmitting, bytes: request(.read, offset: UInt64.max - 511, length: 4096)),
            HostileStream(prefix: transmitting, bytes: request(.trim, offset: UInt64.max - 4095, length: UInt32.max)),
            HostileStream(prefix: transmitting, bytes: request(.writeZeroes, offset: 0, length: UInt32.max & ~4095)),
            HostileStream(prefix: transmitting, bytes: request(.blockStatus, length: UInt32.max) + request(.resize, length: 4096)),
        ]
    }

    static func zeroLengths(_ export: String) -> [HostileStream] {
        let transmitting = transmitting(export)
        return [
            HostileStream(bytes: clientFlags + option(.go)),
            HostileStream(bytes: clientFlags + option(.info)),
            HostileStream(bytes: clientFlags + option(.list) + option(.structuredReply) + option(.listMetaContext) + option(.abort)),
            HostileStream(bytes: clientFlags + option(.go, NBDInfoRequest(name: "").bytes) + request(.read, length: 4096)),
            HostileStream(bytes: clientFlags + option(.exportName) + request(.read, length: 4096)),
            HostileStream(bytes: [0, 0, 0, 0] + option(.exportName, Array(export.utf8)) + [UInt8](repeating: 0, count: 28)),
            HostileStream(prefix: transmitting, bytes: request(.write, length: 0) + request(.read, cookie: 2, length: 4096)),
            HostileStream(prefix: transmitting, bytes: request(.read, length: 0)),
            HostileStream(prefix: transmitting, bytes: request(.trim, length: 0) + request(.writeZeroes, length: 0)),
            HostileStream(prefix: transmitting, bytes: request(.flush, length: 0) + request(.cache, length: 0)),
            HostileStream(prefix: transmitting, bytes: [UInt8](repeating: 0, count: NBDWire.requestBytes)),
            HostileStream(bytes: []),
            HostileStream(prefix: transmitting, bytes: []),
        ]
    }
}

// MARK: - Replica protocol

enum ReplicaFrames {
    static func request(_ kind: ReplicaProtocol.Kind, id: UInt64 = 1, offset: UInt64 = 0, length: UInt32 = 0, revision: UInt64 = 0) -> [UInt8] {
        ReplicaRequest(kind: kind, id: id, offset: offset, length: length, revision: revision).bytes
    }

    /// Pipelined requests of every kind.
    static func session() -> [UInt8] {
        request(.write, id: 1, offset: 8192, length: 4096, revision: 1) + [UInt8](repeating: 0x44, count: 4096)
            + request(.read, id: 2, offset: 8192, length: 4096) + request(.flush, id: 3) + request(.info, id: 4)
            + request(.ping, id: 5) + request(.unmap, id: 6, offset: 8192, length: 4096)
    }

    static func lengthLies() -> [HostileStream] {
        [
            HostileStream(bytes: request(.write, length: 8192) + [UInt8](repeating: 1, count: 100)),
            HostileStream(bytes: request(.write, length: 5 << 20) + [UInt8](repeating: 1, count: 4096)),
            HostileStream(bytes: request(.write, length: UInt32.max)),
            HostileStream(bytes: request(.read, length: UInt32.max)),
            HostileStream(bytes: request(.read, offset: UInt64.max - 511, length: 4096)),
            HostileStream(bytes: request(.unmap, offset: UInt64.max - 4095, length: UInt32.max)),
            HostileStream(bytes: request(.unmap, offset: 0, length: UInt32.max & ~4095)),
            HostileStream(bytes: request(.write, offset: 1 << 40, length: 4096) + [UInt8](repeating: 1, count: 4096)),
            HostileStream(bytes: Array(request(.info).prefix(20))),
        ]
    }

    static func zeroLengths() -> [HostileStream] {
        [
            HostileStream(bytes: request(.write, length: 0) + request(.ping, id: 2)),
            HostileStream(bytes: request(.read, length: 0)),
            HostileStream(bytes: request(.unmap, length: 0)),
            HostileStream(bytes: request(.info, length: 0) + request(.flush, id: 2, length: 0)),
            HostileStream(bytes: [UInt8](repeating: 0, count: ReplicaProtocol.requestBytes)),
            HostileStream(bytes: []),
        ]
    }
}

// MARK: - JSON-RPC

enum JSONRPCFrames {
    static let session = Array("""
        {"jsonrpc":"2.0","method":"spdk_get_version","id":1}
        {"jsonrpc":"2.0","method":"rpc_get_methods","id":"two","params":null}
        {"jsonrpc":"2.0","method":"bdev_get_bdevs","params":{"name":"nothing"},"id":3}{"jsonrpc":"2.0","method":"framework_wait_init"}
        {"jsonrpc":"2.0","method":"nvmf_get_subsystems","id":4.5} {"jsonrpc":"2.0","method":"bdev_get_bdevs","id":[1]}
        """.utf8)

    static func lengthLies() -> [HostileStream] {
        [
            HostileStream(bytes: Array(#"{"jsonrpc":"2.0","method":"spdk_get_version","id":"#.utf8)),
            HostileStream(bytes: Array(#"{"jsonrpc":"2.0","method":"spdk_get_version","id":"unterminated"#.utf8)),
            HostileStream(bytes: Array(#"{"a":""#.utf8) + [UInt8](repeating: 0x61, count: 300_000) + Array(#""}"#.utf8)),
            HostileStream(bytes: [UInt8](repeating: UInt8(ascii: "["), count: 200_000)),
            HostileStream(bytes: [UInt8](repeating: UInt8(ascii: "["), count: 1000) + [UInt8](repeating: UInt8(ascii: "]"), count: 1000)),
            HostileStream(bytes: Array(#"{"jsonrpc":"2.0","method":"spdk_get_version","id":"#.utf8) + [UInt8](repeating: UInt8(ascii: "9"), count: 200_000) + Array("}".utf8)),
            HostileStream(bytes: Array(#"{"jsonrpc":"2.0","method":"x\u12","id":1}"#.utf8)),
            HostileStream(bytes: Array(("{" + (0..<9000).map { #""k\#($0)":0"# }.joined(separator: ",") + "}").utf8)),
            HostileStream(bytes: Array(#"{"jsonrpc":"2.0","method":"spdk_get_version","id":1}}}"#.utf8)),
        ]
    }

    static func zeroLengths() -> [HostileStream] {
        [
            "", "{}", "[]", #""""#, "0", "   \n\t", #"{"jsonrpc":"2.0","method":"","id":1}"#, #"{"jsonrpc":"2.0","method":"spdk_get_version","id":""}"#,
            #"{"jsonrpc":"2.0","method":"spdk_get_version","params":{},"id":1}"#, #"{"jsonrpc":"2.0","method":"bdev_get_bdevs","params":[],"id":2}"#,
            #"{"jsonrpc":"2.0","method":"bdev_get_bdevs","params":{"name":""},"id":3}"#, #"{"":""}"#,
        ].map { HostileStream(bytes: Array($0.utf8)) }
    }
}
