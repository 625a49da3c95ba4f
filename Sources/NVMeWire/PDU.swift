// NVMe/TCP PDUs (NVMe/TCP transport specification; spdk.md §5.2). Every PDU starts with an 8-byte
// common header: type, flags, HLEN (header length), PDO (data offset), PLEN (total length). A PDU
// is: header [header digest] [padding to PDO] [data] [data digest]. Digests are CRC32C.

import StorageKit

/// The PDU types (spdk.md §5.2).
public enum PDUType: UInt8, Sendable, CaseIterable {
    case icReq = 0x00
    case icResp = 0x01
    case h2cTermReq = 0x02
    case c2hTermReq = 0x03
    case capsuleCmd = 0x04
    case capsuleResp = 0x05
    case h2cData = 0x06
    case c2hData = 0x07
    case r2t = 0x09

    /// The fixed header length of this type.
    public var headerLength: Int {
        switch self {
        case .icReq, .icResp: 128
        case .capsuleCmd: 72
        case .h2cTermReq, .c2hTermReq, .capsuleResp, .h2cData, .c2hData, .r2t: 24
        }
    }

    /// Whether a header digest follows the header when header digests are enabled.
    public var carriesHeaderDigest: Bool {
        switch self {
        case .icReq, .icResp, .h2cTermReq, .c2hTermReq: false
        default: true
        }
    }

    /// Whether this PDU may carry data (and so a data digest).
    public var carriesData: Bool {
        switch self {
        case .capsuleCmd, .h2cData, .c2hData, .h2cTermReq, .c2hTermReq: true
        default: false
        }
    }

    /// Whether the host sends this type (else the controller does).
    public var isHostToController: Bool {
        switch self {
        case .icReq, .h2cTermReq, .capsuleCmd, .h2cData: true
        default: false
        }
    }
}

/// The common header's flags byte.
public struct PDUFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// A header digest follows the header.
    public static let headerDigest = PDUFlags(rawValue: 0x01)
    /// A data digest follows the data.
    public static let dataDigest = PDUFlags(rawValue: 0x02)
    /// The last data PDU of a command (H2CData, C2HData).
    public static let lastPDU = PDUFlags(rawValue: 0x04)
    /// C2HData only: the command succeeded and no CapsuleResp follows.
    public static let success = PDUFlags(rawValue: 0x08)
}

/// Fatal error status of a termination request (TermReq FES).
public enum FatalErrorStatus: UInt16, Sendable {
    case invalidHeaderField = 1
    case pduSequenceError = 2
    case headerDigestError = 3
    case dataTransferOutOfRange = 4
    case dataTransferLimitExceeded = 5
    case unsupportedParameter = 6
}

/// A fatal transport error: the connection is ended with a TermReq carrying these fields.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: FatalErrorStatus
    /// Field error information: for an invalid header field, the byte offset of the field.
    public var fieldInfo: UInt32
    public var message: String

    public init(_ status: FatalErrorStatus, fieldInfo: UInt32 = 0, _ message: String) {
        self.status = status
        self.fieldInfo = fieldInfo
        self.message = message
    }

    public var description: String { "NVMe/TCP \(status): \(message)" }
}

/// Digests negotiated at connection set-up.
public struct DigestOptions: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let header = DigestOptions(rawValue: 0x01)
    public static let data = DigestOptions(rawValue: 0x02)
}

/// ICReq: the host's connection request (spdk.md §5.2).
public struct ICReq: Sendable, Equatable {
    public var pduFormatVersion: UInt16 = 0
    /// Host PDU data alignment, 0-based in dwords: C2H data starts at a multiple of (hpda+1)×4.
    public var hostDataAlignment: UInt8 = 0
    public var digests: DigestOptions = []
    /// Most R2Ts outstanding per command, 0-based.
    public var maxR2T: UInt32 = 0

    public init(pduFormatVersion: UInt16 = 0, hostDataAlignment: UInt8 = 0, digests: DigestOptions = [], maxR2T: UInt32 = 0) {
        self.pduFormatVersion = pduFormatVersion
        self.hostDataAlignment = hostDataAlignment
        self.digests = digests
        self.maxR2T = maxR2T
    }

    public func encode() -> [UInt8] {
        PDUHeaderWriter.header(.icReq, flags: [], plen: 128) { h in
            h.put(pduFormatVersion, at: 8)
            h[10] = hostDataAlignment
            h[11] = digests.rawValue
            h.put(maxR2T, at: 12)
        }
    }

    public init(header: UnsafeRawBufferPointer) {
        pduFormatVersion = header.le(8)
        hostDataAlignment = header[10]
        digests = DigestOptions(rawValue: header[11] & 0x03)
        maxR2T = header.le(12)
    }
}

/// ICResp: the controller's answer to ICReq.
public struct ICResp: Sendable, Equatable {
    public var pduFormatVersion: UInt16 = 0
    /// Controller PDU data alignment for H2C data, 0-based in dwords.
    public var controllerDataAlignment: UInt8 = 0
    public var digests: DigestOptions = []
    /// Most data bytes in one H2CData PDU.
    public var maxH2CDataBytes: UInt32

    public init(pduFormatVersion: UInt16 = 0, controllerDataAlignment: UInt8 = 0, digests: DigestOptions = [], maxH2CDataBytes: UInt32) {
        self.pduFormatVersion = pduFormatVersion
        self.controllerDataAlignment = controllerDataAlignment
        self.digests = digests
        self.maxH2CDataBytes = maxH2CDataBytes
    }

    public func encode() -> [UInt8] {
        PDUHeaderWriter.header(.icResp, flags: [], plen: 128) { h in
            h.put(pduFormatVersion, at: 8)
            h[10] = controllerDataAlignment
            h[11] = digests.rawValue
            h.put(maxH2CDataBytes, at: 12)
        }
    }

    public init(header: UnsafeRawBufferPointer) {
        pduFormatVersion = header.le(8)
        controllerDataAlignment = header[10]
        digests = DigestOptions(rawValue: header[11] & 0x03)
        maxH2CDataBytes = header.le(12)
    }
}

/// H2CTermReq / C2HTermReq: ends the connection, naming the fault.
public struct TermReq: Sendable, Equatable {
    public var status: UInt16
    public var fieldInfo: UInt32
    /// The offending PDU header (at most 128 bytes).
    public var offendingHeader: [UInt8]

    public init(status: UInt16, fieldInfo: UInt32, offendingHeader: [UInt8]) {
        self.status = status
        self.fieldInfo = fieldInfo
        self.offendingHeader = Array(offendingHeader.prefix(NVMeWireLimits.maxHeaderLength))
    }

    public func encode(fromController: Bool) -> [UInt8] {
        var bytes = PDUHeaderWriter.header(
            fromController ? .c2hTermReq : .h2cTermReq, flags: [], plen: 24 + offendingHeader.count, pdo: offendingHeader.isEmpty ? 0 : 24
        ) { h in
            h.put(status, at: 8)
            h.put(fieldInfo, at: 10)
        }
        bytes += offendingHeader
        return bytes
    }

    public init(header: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer) {
        status = header.le(8)
        fieldInfo = header.le(10)
        offendingHeader = Array(data.prefix(NVMeWireLimits.maxHeaderLength))
    }
}

/// The PDU-specific fields of H2CData, C2HData and R2T.
public struct DataPDUHeader: Sendable, Equatable {
    public var commandID: UInt16
    /// R2T and H2CData: the transfer tag the controller chose.
    public var transferTag: UInt16
    /// Offset of this data (or of the requested range) within the command's data.
    public var offset: UInt32
    public var length: UInt32

    public init(commandID: UInt16, transferTag: UInt16 = 0, offset: UInt32, length: UInt32) {
        self.commandID = commandID
        self.transferTag = transferTag
        self.offset = offset
        self.length = length
    }

    /// Byte offsets of the fields in the PDU header: a TermReq's field error information names them.
    public static let commandIDFieldOffset: UInt32 = 8
    public static let transferTagFieldOffset: UInt32 = 10
    public static let offsetFieldOffset: UInt32 = 12
    public static let lengthFieldOffset: UInt32 = 16

    public init(header: UnsafeRawBufferPointer) {
        commandID = header.le(8)
        transferTag = header.le(10)
        offset = header.le(12)
        length = header.le(16)
    }

    func write(into h: UnsafeMutableRawBufferPointer) {
        h.put(commandID, at: 8)
        h.put(transferTag, at: 10)
        h.put(offset, at: 12)
        h.put(length, at: 16)
    }
}

/// Builds PDU headers into caller memory (the data path) or fresh arrays (set-up and tests).
public enum PDUHeaderWriter {
    static func header(
        _ type: PDUType, flags: PDUFlags, plen: Int, pdo: Int = 0, _ body: (UnsafeMutableRawBufferPointer) -> Void
    ) -> [UInt8] {
        .filled(count: type.headerLength) { h in
            h[0] = type.rawValue
            h[1] = flags.rawValue
            h[2] = UInt8(type.headerLength)
            h[3] = UInt8(pdo)
            h.put(UInt32(plen), at: 4)
            body(h)
        }
    }

    /// Length of a PDU of `type` with `dataBytes` of data, and where its data starts.
    public static func layout(_ type: PDUType, dataBytes: Int, digests: DigestOptions, alignment: Int = 0)
        -> (plen: Int, pdo: Int)
    {
        let headerEnd = type.headerLength + (type.carriesHeaderDigest && digests.contains(.header) ? 4 : 0)
        guard dataBytes > 0 else { return (headerEnd, 0) }
        let unit = (alignment + 1) * 4
        let pdo = alignment == 0 ? headerEnd : (headerEnd + unit - 1) / unit * unit
        return (pdo + dataBytes + (digests.contains(.data) ? 4 : 0), pdo)
    }

    /// Writes the header of a PDU into `out` (which must hold the header, its digest and padding)
    /// and returns the bytes written up to the data offset.
    public static func write(
        _ type: PDUType, flags: PDUFlags, dataBytes: Int, digests: DigestOptions, alignment: Int = 0,
        into out: UnsafeMutableRawBufferPointer, specific: (UnsafeMutableRawBufferPointer) -> Void
    ) -> Int {
        let (plen, pdo) = layout(type, dataBytes: dataBytes, digests: digests, alignment: alignment)
        let hlen = type.headerLength
        var allFlags = flags
        if type.carriesHeaderDigest && digests.contains(.header) { allFlags.insert(.headerDigest) }
        if dataBytes > 0 && digests.contains(.data) { allFlags.insert(.dataDigest) }
        let header = UnsafeMutableRawBufferPointer(rebasing: out[0..<hlen])
        header.initializeMemory(as: UInt8.self, repeating: 0)
        header[0] = type.rawValue
        header[1] = allFlags.rawValue
        header[2] = UInt8(hlen)
        header[3] = UInt8(pdo)
        header.put(UInt32(plen), at: 4)
        specific(header)
        var end = hlen
        if allFlags.contains(.headerDigest) {
            out.put(CRC32C.checksum(UnsafeRawBufferPointer(header)), at: hlen)
            end += 4
        }
        if dataBytes > 0 {
            for index in end..<pdo { out[index] = 0 }
            end = pdo
        }
        return end
    }

    /// CapsuleCmd header for `command`, with `dataBytes` of in-capsule data to follow.
    public static func capsuleCommand(
        _ command: SubmissionEntry, dataBytes: Int, digests: DigestOptions, into out: UnsafeMutableRawBufferPointer
    ) -> Int {
        write(.capsuleCmd, flags: [], dataBytes: dataBytes, digests: digests, into: out) { h in
            command.write(into: UnsafeMutableRawBufferPointer(rebasing: h[8..<72]))
        }
    }

    /// CapsuleResp for `completion`.
    public static func capsuleResponse(
        _ completion: CompletionEntry, digests: DigestOptions, into out: UnsafeMutableRawBufferPointer
    ) -> Int {
        write(.capsuleResp, flags: [], dataBytes: 0, digests: digests, into: out) { h in
            completion.write(into: UnsafeMutableRawBufferPointer(rebasing: h[8..<24]))
        }
    }

    /// H2CData, C2HData or R2T header.
    public static func data(
        _ type: PDUType, _ fields: DataPDUHeader, flags: PDUFlags, dataBytes: Int, digests: DigestOptions,
        alignment: Int = 0, into out: UnsafeMutableRawBufferPointer
    ) -> Int {
        write(type, flags: flags, dataBytes: dataBytes, digests: digests, alignment: alignment, into: out) { h in
            fields.write(into: h)
        }
    }

    /// Appends the data digest of `data` (given as parts) at `out`.
    public static func dataDigest(of parts: UnsafeRawBufferPointer..., into out: UnsafeMutableRawBufferPointer) {
        var crc: UInt32 = 0
        for part in parts { crc = CRC32C.checksum(part, continuing: crc) }
        out.put(crc, at: 0)
    }
}
