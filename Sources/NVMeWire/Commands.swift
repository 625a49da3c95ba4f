// Submission and completion queue entries (SQE 64 bytes, CQE 16 bytes) and the opcodes and status
// codes Hornbill uses (NVMe base specification; spdk.md §5.4–5.6).

/// A 64-byte submission queue entry, decoded into named dwords.
public struct SubmissionEntry: Sendable, Equatable {
    public var opcode: UInt8
    /// FUSE (bits 1:0) and PSDT (bits 7:6).
    public var flags: UInt8
    public var commandID: UInt16
    /// NSID; for a Fabrics command its low byte is FCTYPE.
    public var namespaceID: UInt32
    public var cdw2: UInt32 = 0
    public var cdw3: UInt32 = 0
    public var metadataPointer: UInt64 = 0
    /// SGL descriptor (DPTR): address, length and identifier (type << 4 | subtype).
    public var sglAddress: UInt64 = 0
    public var sglLength: UInt32 = 0
    public var sglIdentifier: UInt8 = 0
    public var cdw10: UInt32 = 0
    public var cdw11: UInt32 = 0
    public var cdw12: UInt32 = 0
    public var cdw13: UInt32 = 0
    public var cdw14: UInt32 = 0
    public var cdw15: UInt32 = 0

    public init(opcode: UInt8, commandID: UInt16, namespaceID: UInt32 = 0, flags: UInt8 = 0x40) {
        self.opcode = opcode
        self.commandID = commandID
        self.namespaceID = namespaceID
        self.flags = flags
    }

    public init(bytes s: UnsafeRawBufferPointer) {
        precondition(s.count >= 64)
        opcode = s[0]
        flags = s[1]
        commandID = s.le(2)
        namespaceID = s.le(4)
        cdw2 = s.le(8)
        cdw3 = s.le(12)
        metadataPointer = s.le(16)
        sglAddress = s.le(24)
        sglLength = s.le(32)
        sglIdentifier = s[39]
        cdw10 = s.le(40)
        cdw11 = s.le(44)
        cdw12 = s.le(48)
        cdw13 = s.le(52)
        cdw14 = s.le(56)
        cdw15 = s.le(60)
    }

    public func write(into s: UnsafeMutableRawBufferPointer) {
        precondition(s.count >= 64)
        s.initializeMemory(as: UInt8.self, repeating: 0)
        s[0] = opcode
        s[1] = flags
        s.put(commandID, at: 2)
        s.put(namespaceID, at: 4)
        s.put(cdw2, at: 8)
        s.put(cdw3, at: 12)
        s.put(metadataPointer, at: 16)
        s.put(sglAddress, at: 24)
        s.put(sglLength, at: 32)
        s[39] = sglIdentifier
        s.put(cdw10, at: 40)
        s.put(cdw11, at: 44)
        s.put(cdw12, at: 48)
        s.put(cdw13, at: 52)
        s.put(cdw14, at: 56)
        s.put(cdw15, at: 60)
    }

    public var bytes: [UInt8] { .filled(count: 64) { write(into: $0) } }

    /// FCTYPE of a Fabrics command (opcode 0x7F).
    public var fabricsType: UInt8 { UInt8(truncatingIfNeeded: namespaceID) }
    /// Starting LBA of a Read, Write or Write Zeroes (CDW10–11).
    public var startingLBA: UInt64 { UInt64(cdw10) | UInt64(cdw11) << 32 }
    /// Number of logical blocks, 1-based (CDW12 bits 15:0 hold it 0-based).
    public var blockCount: UInt32 { (cdw12 & 0xFFFF) + 1 }
    /// Force Unit Access (CDW12 bit 30).
    public var forceUnitAccess: Bool { cdw12 & (1 << 30) != 0 }

    /// SGL kinds a host may use over TCP.
    public enum DataDescriptor: Equatable, Sendable {
        case none
        /// Data Block, offset subtype: the data is in the capsule.
        case inCapsule(length: Int)
        /// Transport Data Block: the data moves in H2CData/C2HData PDUs.
        case transport(length: Int)
        case unsupported(identifier: UInt8)
    }

    public var dataDescriptor: DataDescriptor {
        if sglLength == 0 && sglIdentifier == 0 { return .none }
        switch sglIdentifier {
        case 0x01: return .inCapsule(length: Int(sglLength))
        case 0x5A: return .transport(length: Int(sglLength))
        default: return .unsupported(identifier: sglIdentifier)
        }
    }

    public mutating func setInCapsuleData(length: Int) {
        sglAddress = 0
        sglLength = UInt32(length)
        sglIdentifier = 0x01
    }

    public mutating func setTransportData(length: Int) {
        sglAddress = 0
        sglLength = UInt32(length)
        sglIdentifier = 0x5A
    }
}

/// A 16-byte completion queue entry.
public struct CompletionEntry: Sendable, Equatable {
    public var dw0: UInt32
    public var dw1: UInt32
    public var submissionQueueHead: UInt16
    public var submissionQueueID: UInt16
    public var commandID: UInt16
    public var status: NVMeStatus

    public init(commandID: UInt16, status: NVMeStatus = .success, dw0: UInt32 = 0, dw1: UInt32 = 0, sqHead: UInt16 = 0, sqID: UInt16 = 0) {
        self.commandID = commandID
        self.status = status
        self.dw0 = dw0
        self.dw1 = dw1
        submissionQueueHead = sqHead
        submissionQueueID = sqID
    }

    public init(bytes c: UnsafeRawBufferPointer) {
        dw0 = c.le(0)
        dw1 = c.le(4)
        submissionQueueHead = c.le(8)
        submissionQueueID = c.le(10)
        commandID = c.le(12)
        status = NVMeStatus(field: c.le(14))
    }

    public func write(into c: UnsafeMutableRawBufferPointer) {
        c.put(dw0, at: 0)
        c.put(dw1, at: 4)
        c.put(submissionQueueHead, at: 8)
        c.put(submissionQueueID, at: 10)
        c.put(commandID, at: 12)
        c.put(status.field, at: 14)
    }
}

/// A completion status: status code type, status code and Do Not Retry.
public struct NVMeStatus: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var type: UInt8
    public var code: UInt8
    public var doNotRetry: Bool

    public init(type: UInt8, code: UInt8, doNotRetry: Bool = false) {
        self.type = type
        self.code = code
        self.doNotRetry = doNotRetry
    }

    /// From the CQE's 16-bit status field (bit 0 is the phase tag, unused on fabrics).
    public init(field: UInt16) {
        code = UInt8(truncatingIfNeeded: field >> 1)
        type = UInt8((field >> 9) & 0x7)
        doNotRetry = field & 0x8000 != 0
    }

    public var field: UInt16 { UInt16(code) << 1 | UInt16(type & 0x7) << 9 | (doNotRetry ? 0x8000 : 0) }
    public var isSuccess: Bool { type == 0 && code == 0 }

    public static let success = NVMeStatus(type: 0, code: 0)
    // Generic command status (type 0).
    public static let invalidOpcode = NVMeStatus(type: 0, code: 0x01, doNotRetry: true)
    public static let invalidField = NVMeStatus(type: 0, code: 0x02, doNotRetry: true)
    public static let commandIDConflict = NVMeStatus(type: 0, code: 0x03, doNotRetry: true)
    public static let dataTransferError = NVMeStatus(type: 0, code: 0x04)
    public static let internalError = NVMeStatus(type: 0, code: 0x06)
    public static let abortRequested = NVMeStatus(type: 0, code: 0x07)
    public static let invalidNamespace = NVMeStatus(type: 0, code: 0x0B, doNotRetry: true)
    public static let commandSequenceError = NVMeStatus(type: 0, code: 0x0C, doNotRetry: true)
    public static let dataSGLLengthInvalid = NVMeStatus(type: 0, code: 0x0F, doNotRetry: true)
    public static let sglDescriptorTypeInvalid = NVMeStatus(type: 0, code: 0x11, doNotRetry: true)
    public static let namespaceWriteProtected = NVMeStatus(type: 0, code: 0x20, doNotRetry: true)
    public static let transientTransportError = NVMeStatus(type: 0, code: 0x22)
    public static let lbaOutOfRange = NVMeStatus(type: 0, code: 0x80, doNotRetry: true)
    public static let namespaceNotReady = NVMeStatus(type: 0, code: 0x82)
    // Command specific status (type 1).
    public static let invalidLogPage = NVMeStatus(type: 1, code: 0x09, doNotRetry: true)
    public static let asyncEventLimitExceeded = NVMeStatus(type: 1, code: 0x05, doNotRetry: true)
    public static let featureNotChangeable = NVMeStatus(type: 1, code: 0x0E, doNotRetry: true)
    public static let connectIncompatibleFormat = NVMeStatus(type: 1, code: 0x80, doNotRetry: true)
    public static let connectControllerBusy = NVMeStatus(type: 1, code: 0x81)
    public static let connectInvalidParameters = NVMeStatus(type: 1, code: 0x82, doNotRetry: true)
    public static let connectInvalidHost = NVMeStatus(type: 1, code: 0x84, doNotRetry: true)
    // Media and data integrity errors (type 2).
    public static let writeFault = NVMeStatus(type: 2, code: 0x80)
    public static let unrecoveredReadError = NVMeStatus(type: 2, code: 0x81)

    public var description: String {
        "status type \(type) code 0x\(String(code, radix: 16))\(doNotRetry ? " (do not retry)" : "")"
    }
}

/// Admin command opcodes.
public enum AdminOpcode {
    public static let getLogPage: UInt8 = 0x02
    public static let identify: UInt8 = 0x06
    public static let abort: UInt8 = 0x08
    public static let setFeatures: UInt8 = 0x09
    public static let getFeatures: UInt8 = 0x0A
    public static let asyncEventRequest: UInt8 = 0x0C
    public static let keepAlive: UInt8 = 0x18
    public static let fabrics: UInt8 = 0x7F
}

/// NVM command set I/O opcodes.
public enum IOOpcode {
    public static let flush: UInt8 = 0x00
    public static let write: UInt8 = 0x01
    public static let read: UInt8 = 0x02
    public static let writeZeroes: UInt8 = 0x08
    public static let datasetManagement: UInt8 = 0x09
}

/// Fabrics command types (FCTYPE).
public enum FabricsType {
    public static let propertySet: UInt8 = 0x00
    public static let connect: UInt8 = 0x01
    public static let propertyGet: UInt8 = 0x04
    public static let disconnect: UInt8 = 0x08
}

/// Feature identifiers of Set/Get Features.
public enum FeatureID {
    public static let arbitration: UInt8 = 0x01
    public static let powerManagement: UInt8 = 0x02
    public static let temperatureThreshold: UInt8 = 0x04
    public static let errorRecovery: UInt8 = 0x05
    public static let volatileWriteCache: UInt8 = 0x06
    public static let numberOfQueues: UInt8 = 0x07
    public static let interruptCoalescing: UInt8 = 0x08
    public static let interruptVectorConfiguration: UInt8 = 0x09
    public static let writeAtomicity: UInt8 = 0x0A
    public static let asyncEventConfiguration: UInt8 = 0x0B
    public static let keepAliveTimer: UInt8 = 0x0F
    public static let hostBehaviorSupport: UInt8 = 0x16
    public static let hostIdentifier: UInt8 = 0x81
}

/// Log page identifiers.
public enum LogPageID {
    public static let error: UInt8 = 0x01
    public static let health: UInt8 = 0x02
    public static let firmwareSlot: UInt8 = 0x03
    public static let changedNamespaces: UInt8 = 0x04
    public static let commandEffects: UInt8 = 0x05
    public static let asymmetricNamespaceAccess: UInt8 = 0x0C
    public static let discovery: UInt8 = 0x70
    public static let reservationNotification: UInt8 = 0x80
}

/// Controller properties (Fabrics Property Get/Set offsets).
public enum PropertyOffset {
    public static let capabilities: UInt32 = 0x00
    public static let version: UInt32 = 0x08
    public static let configuration: UInt32 = 0x14
    public static let status: UInt32 = 0x1C
    public static let subsystemReset: UInt32 = 0x20
}

/// Fabrics Connect command data (1024 bytes in-capsule).
public struct ConnectData: Sendable, Equatable {
    public var hostID: [UInt8]
    public var controllerID: UInt16
    public var subsystemNQN: String
    public var hostNQN: String

    public static let byteCount = 1024

    public init(hostID: [UInt8], controllerID: UInt16, subsystemNQN: String, hostNQN: String) {
        precondition(hostID.count == 16)
        self.hostID = hostID
        self.controllerID = controllerID
        self.subsystemNQN = subsystemNQN
        self.hostNQN = hostNQN
    }

    public init(bytes d: UnsafeRawBufferPointer) {
        precondition(d.count >= Self.byteCount)
        hostID = Array(d[0..<16])
        controllerID = d.le(16)
        subsystemNQN = asciiField(d, 256, 256)
        hostNQN = asciiField(d, 512, 256)
    }

    public var bytes: [UInt8] {
        .filled(count: Self.byteCount) { d in
            for (index, byte) in hostID.enumerated() { d[index] = byte }
            d.put(controllerID, at: 16)
            d.putASCII(subsystemNQN, at: 256, width: 256, pad: 0)
            d.putASCII(hostNQN, at: 512, width: 256, pad: 0)
        }
    }
}

extension SubmissionEntry {
    /// A Fabrics Connect command for queue `queueID` with `queueSize` entries.
    public static func connect(commandID: UInt16, queueID: UInt16, queueSize: Int, keepAliveMilliseconds: UInt32) -> SubmissionEntry {
        var command = SubmissionEntry(opcode: AdminOpcode.fabrics, commandID: commandID, namespaceID: UInt32(FabricsType.connect))
        command.cdw10 = UInt32(queueID) << 16
        command.cdw11 = UInt32(queueSize - 1)
        command.cdw12 = keepAliveMilliseconds
        command.setInCapsuleData(length: ConnectData.byteCount)
        return command
    }

    /// A Fabrics Property Get (8 bytes when `wide`).
    public static func propertyGet(commandID: UInt16, offset: UInt32, wide: Bool) -> SubmissionEntry {
        var command = SubmissionEntry(opcode: AdminOpcode.fabrics, commandID: commandID, namespaceID: UInt32(FabricsType.propertyGet))
        command.cdw10 = wide ? 1 : 0
        command.cdw11 = offset
        return command
    }

    /// A Fabrics Property Set.
    public static func propertySet(commandID: UInt16, offset: UInt32, value: UInt64, wide: Bool) -> SubmissionEntry {
        var command = SubmissionEntry(opcode: AdminOpcode.fabrics, commandID: commandID, namespaceID: UInt32(FabricsType.propertySet))
        command.cdw10 = wide ? 1 : 0
        command.cdw11 = offset
        command.cdw12 = UInt32(truncatingIfNeeded: value)
        command.cdw13 = UInt32(truncatingIfNeeded: value >> 32)
        return command
    }
}
