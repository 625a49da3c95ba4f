// NBD by hand for the data-plane tests: big-endian fields, the fixed-newstyle handshake with
// NBD_OPT_GO, and request builders.

import Foundation

/// `value` in network byte order.
func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

/// The big-endian integer at `offset` of `bytes`.
func loadBE<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int, as: T.Type = T.self) -> T {
    bytes.withUnsafeBytes { T(bigEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
}

enum RawNBD {
    static let optionMagic: UInt64 = 0x4948_4156_454F_5054  // "IHAVEOPT"
    static let requestMagic: UInt32 = 0x2560_9513
    static let requestBytes = 28

    static func option(_ option: UInt32, _ data: [UInt8]) -> [UInt8] {
        be(optionMagic) + be(option) + be(UInt32(data.count)) + data
    }

    /// NBD_OPT_INFO (6) or NBD_OPT_GO (7) for `name`, asking for the name and description too.
    static func information(_ option: UInt32, name: String) -> [UInt8] {
        let bytes = Array(name.utf8)
        return Self.option(option, be(UInt32(bytes.count)) + bytes + be(UInt16(2)) + be(UInt16(1)) + be(UInt16(2)))
    }

    static func request(type: UInt16, cookie: UInt64, offset: UInt64, length: UInt32) -> [UInt8] {
        be(requestMagic) + be(UInt16(0)) + be(type) + be(cookie) + be(offset) + be(length)
    }

    /// `count` read requests of `length` bytes walking through the first `span` bytes.
    static func reads(count: Int, length: Int, span: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count * requestBytes)
        for index in 0..<count {
            out += request(
                type: 0, cookie: UInt64(index), offset: UInt64(index * length % span), length: UInt32(length))
        }
        return out
    }

    /// Connects, negotiates with NBD_OPT_GO (reading the handshake's replies) and returns the
    /// client, ready for requests.
    static func connect(
        port: UInt16, export: String, receiveBufferBytes: Int32? = nil, receiveTimeoutSeconds: Int = 30
    ) throws
        -> BlockingTCPClient
    {
        let client = try BlockingTCPClient(
            port: port, receiveBufferBytes: receiveBufferBytes, receiveTimeoutSeconds: receiveTimeoutSeconds)
        _ = try client.receive(18)
        try client.send(be(UInt32(3)))  // fixed newstyle, no zeroes
        try client.send(information(7, name: export))
        while true {
            let header = try client.receive(20)
            let type = loadBE(header, 12, as: UInt32.self)
            let length = Int(loadBE(header, 16, as: UInt32.self))
            if length > 0 { _ = try client.receive(length) }
            if type == 1 { return client }  // NBD_REP_ACK
            guard type & 0x8000_0000 == 0 else { throw POSIXError(.EPROTO) }
        }
    }
}
