// The NBD protocol's numbers and layouts (the NBD protocol document: fixed newstyle handshake,
// options, transmission, simple and structured replies). All fields are big-endian.

public enum NBDWire {
    public static let handshakeMagic: UInt64 = 0x4E42_444D_4147_4943  // "NBDMAGIC"
    public static let optionMagic: UInt64 = 0x4948_4156_454F_5054  // "IHAVEOPT"
    public static let optionReplyMagic: UInt64 = 0x0003_E889_0455_65A9
    public static let requestMagic: UInt32 = 0x2560_9513
    public static let simpleReplyMagic: UInt32 = 0x6744_6698
    public static let structuredReplyMagic: UInt32 = 0x668E_33EF

    /// Handshake flags (server) and client flags.
    public static let flagFixedNewstyle: UInt16 = 1 << 0
    public static let flagNoZeroes: UInt16 = 1 << 1
    public static let clientFlagFixedNewstyle: UInt32 = 1 << 0
    public static let clientFlagNoZeroes: UInt32 = 1 << 1

    /// Options.
    public enum Option: UInt32, Sendable {
        case exportName = 1
        case abort = 2
        case list = 3
        case startTLS = 5
        case info = 6
        case go = 7
        case structuredReply = 8
        case listMetaContext = 9
        case setMetaContext = 10
        case extendedHeaders = 11
    }

    /// Option reply types.
    public static let replyAck: UInt32 = 1
    public static let replyServer: UInt32 = 2
    public static let replyInfo: UInt32 = 3
    public static let replyErrorUnsupported: UInt32 = 1 << 31 | 1
    public static let replyErrorPolicy: UInt32 = 1 << 31 | 2
    public static let replyErrorInvalid: UInt32 = 1 << 31 | 3
    public static let replyErrorUnknown: UInt32 = 1 << 31 | 6
    public static let replyErrorTooBig: UInt32 = 1 << 31 | 9

    /// Information types of NBD_OPT_INFO / NBD_OPT_GO.
    public static let infoExport: UInt16 = 0
    public static let infoName: UInt16 = 1
    public static let infoDescription: UInt16 = 2
    public static let infoBlockSize: UInt16 = 3

    /// Transmission flags.
    public static let transmissionHasFlags: UInt16 = 1 << 0
    public static let transmissionReadOnly: UInt16 = 1 << 1
    public static let transmissionSendFlush: UInt16 = 1 << 2
    public static let transmissionSendFUA: UInt16 = 1 << 3
    public static let transmissionSendTrim: UInt16 = 1 << 5
    public static let transmissionSendWriteZeroes: UInt16 = 1 << 6
    public static let transmissionCanMultiConn: UInt16 = 1 << 8

    /// Commands.
    public enum Command: UInt16, Sendable {
        case read = 0
        case write = 1
        case disconnect = 2
        case flush = 3
        case trim = 4
        case cache = 5
        case writeZeroes = 6
        case blockStatus = 7
        case resize = 8
    }

    /// Command flags.
    public static let commandFUA: UInt16 = 1 << 0
    public static let commandNoHole: UInt16 = 1 << 1
    public static let commandDontFragment: UInt16 = 1 << 2
    public static let commandFastZero: UInt16 = 1 << 4

    /// Structured reply chunk types and flags.
    public static let chunkFlagDone: UInt16 = 1 << 0
    public static let chunkNone: UInt16 = 0
    public static let chunkOffsetData: UInt16 = 1
    public static let chunkError: UInt16 = 1 << 15 | 1

    /// Error values (the protocol's, equal to Linux errnos).
    public static let errorPermission: UInt32 = 1
    public static let errorIO: UInt32 = 5
    public static let errorNoMemory: UInt32 = 12
    public static let errorInvalid: UInt32 = 22
    public static let errorNoSpace: UInt32 = 28
    public static let errorOverflow: UInt32 = 75
    public static let errorNotSupported: UInt32 = 95
    public static let errorShutdown: UInt32 = 108

    public static let requestBytes = 28
    public static let simpleReplyBytes = 16
    public static let structuredReplyBytes = 20
}

/// A transmission-phase request.
public struct NBDRequest: Sendable, Equatable {
    public var flags: UInt16
    public var type: UInt16
    public var cookie: UInt64
    public var offset: UInt64
    public var length: UInt32

    public init(flags: UInt16 = 0, type: UInt16, cookie: UInt64, offset: UInt64, length: UInt32) {
        self.flags = flags
        self.type = type
        self.cookie = cookie
        self.offset = offset
        self.length = length
    }

    /// Decodes a 28-byte request header; nil when it is short or the magic is wrong.
    public init?(bytes b: UnsafeRawBufferPointer) {
        guard b.count >= NBDWire.requestBytes, b.be(0, as: UInt32.self) == NBDWire.requestMagic else { return nil }
        flags = b.be(4)
        type = b.be(6)
        cookie = b.be(8)
        offset = b.be(16)
        length = b.be(24)
    }

    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: NBDWire.requestBytes)
        out.withUnsafeMutableBytes { b in
            b.putBE(NBDWire.requestMagic, at: 0)
            b.putBE(flags, at: 4)
            b.putBE(type, at: 6)
            b.putBE(cookie, at: 8)
            b.putBE(offset, at: 16)
            b.putBE(length, at: 24)
        }
        return out
    }
}

/// The data of NBD_OPT_INFO and NBD_OPT_GO: the export name's length (u32) and the name, then
/// how many information types follow (u16) and the types (u16 each).
public struct NBDInfoRequest: Sendable, Equatable {
    public var name: String
    public var requested: [UInt16]

    public init(name: String, requested: [UInt16] = []) {
        self.name = name
        self.requested = requested
    }

    /// Decodes option data; nil when the lengths inside do not add up to the data's length.
    public init?(data: [UInt8]) {
        let decoded: (String, [UInt16])? = data.withUnsafeBytes { raw in
            guard raw.count >= 6 else { return nil }
            let nameLength = Int(raw.be(0, as: UInt32.self))
            guard nameLength <= raw.count - 6 else { return nil }
            let count = Int(raw.be(4 + nameLength, as: UInt16.self))
            guard raw.count == 6 + nameLength + 2 * count else { return nil }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: raw[4..<(4 + nameLength)]), as: UTF8.self)
            return (name, (0..<count).map { raw.be(6 + nameLength + 2 * $0, as: UInt16.self) })
        }
        guard let decoded else { return nil }
        (name, requested) = decoded
    }

    public var bytes: [UInt8] {
        let nameBytes = Array(name.utf8)
        var out = withUnsafeBytes(of: UInt32(nameBytes.count).bigEndian) { Array($0) } + nameBytes
        out += withUnsafeBytes(of: UInt16(requested.count).bigEndian) { Array($0) }
        for type in requested { out += withUnsafeBytes(of: type.bigEndian) { Array($0) } }
        return out
    }
}

extension UnsafeRawBufferPointer {
    @inlinable
    func be<T: FixedWidthInteger>(_ offset: Int, as type: T.Type = T.self) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable
    func putBE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }
}

/// Writers of the server's messages into caller memory.
public enum NBDReplies {
    /// An option reply header (20 bytes) followed by `payload` bytes the caller writes.
    public static func optionReplyHeader(_ out: UnsafeMutableRawBufferPointer, option: UInt32, type: UInt32, length: Int) {
        out.putBE(NBDWire.optionReplyMagic, at: 0)
        out.putBE(option, at: 8)
        out.putBE(type, at: 12)
        out.putBE(UInt32(length), at: 16)
    }

    /// A simple reply (16 bytes).
    public static func simple(_ out: UnsafeMutableRawBufferPointer, error: UInt32, cookie: UInt64) {
        out.putBE(NBDWire.simpleReplyMagic, at: 0)
        out.putBE(error, at: 4)
        out.putBE(cookie, at: 8)
    }

    /// A structured reply chunk header (20 bytes).
    public static func chunk(_ out: UnsafeMutableRawBufferPointer, flags: UInt16, type: UInt16, cookie: UInt64, length: Int) {
        out.putBE(NBDWire.structuredReplyMagic, at: 0)
        out.putBE(flags, at: 4)
        out.putBE(type, at: 6)
        out.putBE(cookie, at: 8)
        out.putBE(UInt32(length), at: 16)
    }
}
