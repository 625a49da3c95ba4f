// Little-endian loads and stores on raw memory: the NVMe wire is little-endian throughout.

extension UnsafeRawBufferPointer {
    @inlinable
    func le<T: FixedWidthInteger>(_ offset: Int, as type: T.Type = T.self) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable
    func le<T: FixedWidthInteger>(_ offset: Int, as type: T.Type = T.self) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    @inlinable
    func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }

    /// Writes `text` as ASCII at `offset`, padded with `pad` to `width` bytes (truncated if longer).
    func putASCII(_ text: String, at offset: Int, width: Int, pad: UInt8 = 0x20) {
        var index = 0
        for byte in text.utf8.prefix(width) {
            self[offset + index] = byte
            index += 1
        }
        while index < width {
            self[offset + index] = pad
            index += 1
        }
    }
}

extension Array where Element == UInt8 {
    /// A zeroed byte array of `count` bytes filled by `body`.
    static func filled(count: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes(body)
        return bytes
    }
}

/// Reads a NUL-padded (or space-padded) ASCII string field.
func asciiField(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> String {
    var end = offset
    while end < offset + width, bytes[end] != 0 { end += 1 }
    var text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), as: UTF8.self)
    while text.last == " " { text.removeLast() }
    return text
}
