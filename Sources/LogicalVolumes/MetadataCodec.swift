// Little-endian binary encoding of metadata, with bounds-checked decoding: a short or malformed
// buffer is a `.corrupted` error naming what was being read, never a trap.

import BlockCore

struct MetadataWriter {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func raw(_ value: [UInt8]) { bytes.append(contentsOf: value) }
    mutating func blob(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }
    mutating func string(_ value: String) { blob(Array(value.utf8)) }
    mutating func bool(_ value: Bool) { u8(value ? 1 : 0) }
}

struct MetadataReader {
    let bytes: [UInt8]
    private(set) var offset = 0
    let context: String

    init(_ bytes: [UInt8], context: String) {
        self.bytes = bytes
        self.context = context
    }

    var remaining: Int { bytes.count - offset }

    private mutating func take(_ count: Int, _ what: String) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw BlockError(.corrupted, "\(context): truncated while reading \(what) at byte \(offset)")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func u8(_ what: String) throws -> UInt8 { try take(1, what).first! }

    mutating func u32(_ what: String) throws -> UInt32 {
        let slice = try take(4, what)
        return slice.reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func u64(_ what: String) throws -> UInt64 {
        let slice = try take(8, what)
        return slice.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func raw(_ count: Int, _ what: String) throws -> [UInt8] { Array(try take(count, what)) }

    mutating func blob(_ what: String, max: Int) throws -> [UInt8] {
        let count = Int(try u32("length of \(what)"))
        guard count <= max else {
            throw BlockError(.corrupted, "\(context): \(what) claims \(count) bytes, more than the limit \(max)")
        }
        return try raw(count, what)
    }

    mutating func string(_ what: String, max: Int = LvolLimits.maxNameBytes) throws -> String {
        let raw = try blob(what, max: max)
        guard let string = String(validating: raw, as: UTF8.self) else {
            throw BlockError(.corrupted, "\(context): \(what) is not valid UTF-8")
        }
        return string
    }

    mutating func bool(_ what: String) throws -> Bool {
        switch try u8(what) {
        case 0: return false
        case 1: return true
        case let other: throw BlockError(.corrupted, "\(context): \(what) has invalid boolean value \(other)")
        }
    }
}
