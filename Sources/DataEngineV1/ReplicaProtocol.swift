// The replica protocol between a V1 controller and its replicas (docs/replica-protocol.md): one
// TCP connection, requests with 64-bit ids answered in any order, big-endian fields.
//
//   request  (40 bytes): magic "HBRQ" u32, type u8, flags u8, reserved u16, id u64, offset u64,
//                        length u32, reserved u32, revision u64; then `length` bytes for a write
//   response (24 bytes): magic "HBRS" u32, type u8, reserved u8, status u16 (0 or an errno),
//                        id u64, length u32, reserved u32; then `length` bytes (read data, info JSON)

public enum ReplicaProtocol {
    public static let requestMagic: UInt32 = 0x4842_5251  // "HBRQ"
    public static let responseMagic: UInt32 = 0x4842_5253  // "HBRS"
    public static let requestBytes = 40
    public static let responseBytes = 24
    /// Largest read or write.
    public static let maxPayloadBytes = 4 * 1024 * 1024

    public enum Kind: UInt8, Sendable {
        case read = 1
        case write = 2
        case flush = 3
        case unmap = 4
        /// The replica's size, sector size, revision counter and flags, as JSON.
        case info = 5
        case ping = 6
    }

    /// Request flags.
    public static let flagForceUnitAccess: UInt8 = 1
}

public struct ReplicaRequest: Sendable, Equatable {
    public var kind: UInt8
    public var flags: UInt8
    public var id: UInt64
    public var offset: UInt64
    public var length: UInt32
    /// For a write: the volume's revision after it (the replica keeps the highest it has seen).
    public var revision: UInt64

    public init(kind: ReplicaProtocol.Kind, flags: UInt8 = 0, id: UInt64, offset: UInt64 = 0, length: UInt32 = 0, revision: UInt64 = 0) {
        self.kind = kind.rawValue
        self.flags = flags
        self.id = id
        self.offset = offset
        self.length = length
        self.revision = revision
    }

    /// Decodes a request header; nil when the magic is wrong.
    public init?(bytes b: UnsafeRawBufferPointer) {
        guard b.count >= ReplicaProtocol.requestBytes, b.be(0, as: UInt32.self) == ReplicaProtocol.requestMagic else { return nil }
        kind = b[4]
        flags = b[5]
        id = b.be(8)
        offset = b.be(16)
        length = b.be(24)
        revision = b.be(32)
    }

    public func write(into b: UnsafeMutableRawBufferPointer) {
        b.initializeMemory(as: UInt8.self, repeating: 0)
        b.putBE(ReplicaProtocol.requestMagic, at: 0)
        b[4] = kind
        b[5] = flags
        b.putBE(id, at: 8)
        b.putBE(offset, at: 16)
        b.putBE(length, at: 24)
        b.putBE(revision, at: 32)
    }

    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: ReplicaProtocol.requestBytes)
        out.withUnsafeMutableBytes { write(into: $0) }
        return out
    }
}

public struct ReplicaResponse: Sendable, Equatable {
    public var kind: UInt8
    public var status: UInt16
    public var id: UInt64
    public var length: UInt32

    public init(kind: UInt8, status: UInt16, id: UInt64, length: UInt32) {
        self.kind = kind
        self.status = status
        self.id = id
        self.length = length
    }

    public init?(bytes b: UnsafeRawBufferPointer) {
        guard b.count >= ReplicaProtocol.responseBytes, b.be(0, as: UInt32.self) == ReplicaProtocol.responseMagic else { return nil }
        kind = b[4]
        status = b.be(6)
        id = b.be(8)
        length = b.be(16)
    }

    public func write(into b: UnsafeMutableRawBufferPointer) {
        b.putBE(ReplicaProtocol.responseMagic, at: 0)
        b[4] = kind
        b[5] = 0
        b.putBE(status, at: 6)
        b.putBE(id, at: 8)
        b.putBE(length, at: 16)
        b.putBE(UInt32(0), at: 20)
    }
}

extension UnsafeRawBufferPointer {
    func be<T: FixedWidthInteger>(_ offset: Int, as type: T.Type = T.self) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    func putBE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }
}
