/// The memory of one I/O: a single buffer, or a scatter-gather list owned by the caller.
/// It holds no storage of its own, so building one costs nothing.
public enum IOVector: @unchecked Sendable {
    case single(UnsafeMutableRawBufferPointer)
    case segments(UnsafeBufferPointer<UnsafeMutableRawBufferPointer>)

    /// Total length in bytes.
    @inlinable
    public var byteCount: Int {
        switch self {
        case .single(let buffer): return buffer.count
        case .segments(let list):
            var total = 0
            for segment in list { total += segment.count }
            return total
        }
    }

    /// Calls `body` with each segment and its byte offset within the vector.
    @inlinable
    public func forEachSegment(_ body: (UnsafeMutableRawBufferPointer, Int) throws -> Void) rethrows {
        switch self {
        case .single(let buffer): try body(buffer, 0)
        case .segments(let list):
            var offset = 0
            for segment in list {
                try body(segment, offset)
                offset += segment.count
            }
        }
    }

    /// Calls `body` with each contiguous part of bytes `offset..<offset+count`, in order.
    @inlinable
    public func forEachPart(from offset: Int, count: Int, _ body: (UnsafeMutableRawPointer, Int) -> Void) {
        var remaining = count
        forEachSegment { segment, segmentOffset in
            guard remaining > 0 else { return }
            let start = max(offset - segmentOffset, 0)
            guard start < segment.count, segmentOffset + segment.count > offset else { return }
            let length = min(segment.count - start, remaining)
            body(segment.baseAddress! + start, length)
            remaining -= length
        }
        precondition(remaining == 0, "bytes \(offset)..<\(offset + count) run past the end of the vector")
    }

    /// Copies `count` bytes starting at byte `offset` of this vector into `destination`.
    public func copyOut(from offset: Int, count: Int, into destination: UnsafeMutableRawPointer) {
        var target = destination
        forEachPart(from: offset, count: count) { part, length in
            target.copyMemory(from: part, byteCount: length)
            target += length
        }
    }

    /// Copies `count` bytes from `source` into this vector at byte `offset`.
    public func copyIn(at offset: Int, count: Int, from source: UnsafeRawPointer) {
        var origin = source
        forEachPart(from: offset, count: count) { part, length in
            part.copyMemory(from: origin, byteCount: length)
            origin += length
        }
    }

    /// Zeroes `count` bytes of this vector from byte `offset`.
    public func zero(from offset: Int, count: Int) {
        forEachPart(from: offset, count: count) { part, length in
            part.initializeMemory(as: UInt8.self, repeating: 0, count: length)
        }
    }
}
