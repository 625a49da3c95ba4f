// Finds complete top-level JSON values in a byte stream with no framing (spdk.md §1.2): bytes are
// appended as they arrive; `next()` returns each complete value's bytes, keeps the unconsumed tail,
// and resumes scanning where it stopped, so a request split over many reads costs O(n) in total.
//
// Memory is bounded by what was appended and not yet taken: whitespace between values is dropped
// as it is scanned (a client sending nothing but blanks holds no memory), a value in progress
// longer than `maxValueBytes` is an error, and consumed bytes are compacted away once they make up
// half of the buffer, so taking many small values from one large read stays linear.

public struct JSONStreamSplitter: Sendable {
    private var buffer: [UInt8] = []
    /// Bytes before this offset were taken already (compacted away lazily).
    private var consumed = 0
    /// Where the current value starts (after leading whitespace), if it has started.
    private var start: Int?
    private var position = 0
    private var depth = 0
    private var inString = false
    private var escaped = false
    private let maxValueBytes: Int

    public init(maxValueBytes: Int = JSONRPCLimits.maxRequestBytes) {
        self.maxValueBytes = maxValueBytes
    }

    /// Bytes received and not yet returned as a value (whitespace between values not counted).
    public var bufferedByteCount: Int { buffer.count - consumed }

    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete value, or nil when more bytes are needed.
    /// - Throws: when the value in progress exceeds the size limit or cannot be JSON (a closing
    ///   bracket with nothing open); the stream has no resynchronisation point after that.
    public mutating func next() throws(JSONParseError) -> [UInt8]? {
        while position < buffer.count {
            let byte = buffer[position]
            guard let start else {
                if [0x20, 0x09, 0x0A, 0x0D].contains(byte) {
                    // Blanks between values are never part of one: drop them now.
                    position += 1
                    consumed = position
                    continue
                }
                self.start = position
                continue
            }
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 0 { return take(from: start, through: position) }
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""):
                    inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard depth > 0 else {
                        throw JSONParseError(offset: position, reason: "closing bracket with nothing open")
                    }
                    depth -= 1
                    if depth == 0 { return take(from: start, through: position) }
                case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: ":"):
                    if depth == 0, position > start {
                        // A top-level scalar ends at whitespace or punctuation.
                        return take(from: start, through: position - 1)
                    }
                default:
                    break
                }
            }
            position += 1
            if position - start > maxValueBytes {
                throw JSONParseError(offset: position, reason: "a request is larger than \(maxValueBytes) bytes")
            }
        }
        compactIfWorthIt()
        return nil
    }

    private mutating func take(from start: Int, through end: Int) -> [UInt8] {
        let value = Array(buffer[start...end])
        consumed = end + 1
        position = end + 1
        self.start = nil
        depth = 0
        inString = false
        escaped = false
        compactIfWorthIt()
        return value
    }

    /// Drops consumed bytes once they are at least half of the buffer (amortised O(1) per byte).
    private mutating func compactIfWorthIt() {
        guard consumed > 0, consumed * 2 >= buffer.count else { return }
        buffer.removeFirst(consumed)
        position -= consumed
        if let start { self.start = start - consumed }
        consumed = 0
    }
}
