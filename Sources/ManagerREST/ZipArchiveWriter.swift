// A zip archive (PKWARE APPNOTE 6.3) written to a file entry by entry: each entry stored as it is
// (method 0), with its CRC-32, then the central directory. No zip64: an entry, the archive and the
// entry count stay below the format's 32-bit and 16-bit bounds, which `add` checks.

import Foundation

struct ZipArchiveWriter {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private struct Entry {
        var name: [UInt8]
        var crc: UInt32
        var size: UInt32
        var offset: UInt32
    }

    private let handle: FileHandle
    private let time: UInt16
    private let date: UInt16
    private var entries: [Entry] = []
    private var offset = 0

    /// Creates (or truncates) the archive at `path`; every entry is dated `modified` (UTC).
    init(path: String, modified: Date) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw Failure(description: "cannot create \(path)")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let parts = Calendar(identifier: .gregorian).dateComponents(
            in: TimeZone(secondsFromGMT: 0) ?? .gmt, from: modified)
        let year = max((parts.year ?? 1980) - 1980, 0)
        time = UInt16(((parts.hour ?? 0) << 11) | ((parts.minute ?? 0) << 5) | ((parts.second ?? 0) / 2))
        date = UInt16((min(year, 127) << 9) | ((parts.month ?? 1) << 5) | (parts.day ?? 1))
    }

    /// Bytes written so far.
    var size: Int { offset }

    mutating func add(name: String, data: Data) throws {
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count <= Int(UInt16.max) else {
            throw Failure(description: "zip entry name of \(nameBytes.count) bytes")
        }
        guard entries.count < Int(UInt16.max) - 1,
            offset + 30 + nameBytes.count + data.count <= Int(UInt32.max) - (1 << 24)
        else {
            throw Failure(description: "zip archive too large for entry \(name)")
        }
        let entry = Entry(name: nameBytes, crc: CRC32.checksum(data), size: UInt32(data.count), offset: UInt32(offset))
        var header = ByteWriter()
        header.u32(0x0403_4b50)
        header.u16(20)  // version needed: 2.0
        header.u16(0x0800)  // names are UTF-8
        header.u16(0)  // stored
        header.u16(time)
        header.u16(date)
        header.u32(entry.crc)
        header.u32(entry.size)
        header.u32(entry.size)
        header.u16(UInt16(nameBytes.count))
        header.u16(0)  // no extra field
        header.bytes.append(contentsOf: nameBytes)
        try write(Data(header.bytes))
        try write(data)
        entries.append(entry)
    }

    /// Writes the central directory and closes the file; returns the archive's size.
    mutating func finish() throws -> Int {
        let directoryOffset = offset
        var directory = ByteWriter()
        for entry in entries {
            directory.u32(0x0201_4b50)
            directory.u16(0x0314)  // made by: Unix, 2.0
            directory.u16(20)
            directory.u16(0x0800)
            directory.u16(0)
            directory.u16(time)
            directory.u16(date)
            directory.u32(entry.crc)
            directory.u32(entry.size)
            directory.u32(entry.size)
            directory.u16(UInt16(entry.name.count))
            directory.u16(0)  // extra
            directory.u16(0)  // comment
            directory.u16(0)  // disk
            directory.u16(0)  // internal attributes
            directory.u32(0o100644 << 16)  // a regular file, rw-r--r--
            directory.u32(entry.offset)
            directory.bytes.append(contentsOf: entry.name)
        }
        let directorySize = directory.bytes.count
        directory.u32(0x0605_4b50)
        directory.u16(0)
        directory.u16(0)
        directory.u16(UInt16(entries.count))
        directory.u16(UInt16(entries.count))
        directory.u32(UInt32(directorySize))
        directory.u32(UInt32(directoryOffset))
        directory.u16(0)  // no comment
        try write(Data(directory.bytes))
        try handle.close()
        return offset
    }

    private mutating func write(_ data: Data) throws {
        try handle.write(contentsOf: data)
        offset += data.count
    }
}

/// Little-endian fields.
private struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }
    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
}

/// CRC-32 as zip uses it (IEEE 802.3, reflected polynomial 0xEDB88320).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
        return value
    }

    static func checksum(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
