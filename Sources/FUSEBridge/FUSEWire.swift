// The kernel's FUSE protocol (include/uapi/linux/fuse.h, protocol 7.x), the part a filesystem of
// one regular file needs: request headers and the bodies of the requests it answers, and the
// replies it sends. Every decoder checks the length it is given first; a short or malformed
// request is answered EINVAL (or EIO), never trusted.

import Glibc

public enum FUSEOpcode: UInt32, Sendable {
    case lookup = 1, forget = 2, getattr = 3, setattr = 4, open = 14, read = 15, write = 16, statfs = 17
    case release = 18, fsync = 20, flush = 25, initialize = 26, opendir = 27, readdir = 28, releasedir = 29
    case fsyncdir = 30, access = 34, interrupt = 36, destroy = 38, batchForget = 42, fallocate = 43
    case readdirplus = 44, lseek = 46
}

public enum FUSEWire {
    /// The protocol's major version; the kernel refuses a reply with another.
    public static let majorVersion: UInt32 = 7
    /// The minor version this server speaks (the reply's is the lower of the two).
    public static let minorVersion: UInt32 = 31
    public static let inHeaderBytes = 40
    public static let outHeaderBytes = 16
    /// INIT flags this server asks for, where the kernel offers them: reads in parallel,
    /// writes larger than a page, asynchronous direct I/O (what a loop device sends), a larger
    /// request than 32 pages.
    public static let asyncRead: UInt32 = 1 << 0
    public static let bigWrites: UInt32 = 1 << 5
    public static let asyncDirectIO: UInt32 = 1 << 15
    public static let maxPagesFlag: UInt32 = 1 << 22
    /// The root directory's and the file's node IDs.
    public static let rootNode: UInt64 = 1
    public static let fileNode: UInt64 = 2
}

extension UnsafeRawBufferPointer {
    /// The little-endian integer at `offset` (the caller has checked the length).
    fileprivate func le<T: FixedWidthInteger>(_ offset: Int, as type: T.Type = T.self) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

/// `fuse_in_header`.
public struct FUSERequestHeader: Sendable, Equatable {
    public var length: UInt32
    public var opcode: UInt32
    public var unique: UInt64
    public var nodeID: UInt64

    /// Nil when `bytes` is shorter than a header or its length field disagrees with `bytes`.
    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= FUSEWire.inHeaderBytes else { return nil }
        length = bytes.le(0)
        opcode = bytes.le(4)
        unique = bytes.le(8)
        nodeID = bytes.le(16)
        guard Int(length) == bytes.count else { return nil }
    }
}

/// `fuse_read_in`, `fuse_write_in` (the same first fields): the file handle, offset and size;
/// a write's data follows its 40 bytes.
public struct FUSETransfer: Sendable, Equatable {
    public static let bodyBytes = 40
    public var offset: UInt64
    public var size: UInt32
    public var flags: UInt32

    public init?(_ body: UnsafeRawBufferPointer) {
        guard body.count >= Self.bodyBytes else { return nil }
        offset = body.le(8)
        size = body.le(16)
        flags = body.le(20)
    }
}

/// `fuse_fallocate_in`.
public struct FUSEFallocate: Sendable, Equatable {
    public static let bodyBytes = 32
    public var offset: UInt64
    public var length: UInt64
    public var mode: UInt32

    public init?(_ body: UnsafeRawBufferPointer) {
        guard body.count >= Self.bodyBytes else { return nil }
        offset = body.le(8)
        length = body.le(16)
        mode = body.le(24)
    }
}

/// `fuse_init_in`: the kernel's version and what it offers (16 bytes before 7.36, 64 after).
public struct FUSEInit: Sendable, Equatable {
    public var major: UInt32
    public var minor: UInt32
    public var maxReadahead: UInt32
    public var flags: UInt32

    public init?(_ body: UnsafeRawBufferPointer) {
        guard body.count >= 16 else { return nil }
        major = body.le(0)
        minor = body.le(4)
        maxReadahead = body.le(8)
        flags = body.le(12)
    }
}

/// Writes replies' bodies into a caller's buffer (no allocation); each returns the bytes written.
public enum FUSEReplies {
    /// `fuse_out_header`: the reply's total length, 0 or a negated errno, the request's unique.
    public static func header(_ out: UnsafeMutableRawBufferPointer, length: Int, error: Int32, unique: UInt64) {
        out.storeBytes(of: UInt32(length).littleEndian, toByteOffset: 0, as: UInt32.self)
        out.storeBytes(of: (-error).littleEndian, toByteOffset: 4, as: Int32.self)
        out.storeBytes(of: unique.littleEndian, toByteOffset: 8, as: UInt64.self)
    }

    /// `fuse_init_out` (64 bytes).
    public static func initialize(
        _ out: UnsafeMutableRawBufferPointer, kernel: FUSEInit, maxWrite: UInt32, maxPages: UInt16, maxBackground: UInt16
    ) -> Int {
        zero(out, 64)
        let wanted = FUSEWire.asyncRead | FUSEWire.bigWrites | FUSEWire.asyncDirectIO | FUSEWire.maxPagesFlag
        put32(out, 0, FUSEWire.majorVersion)
        put32(out, 4, min(kernel.minor, FUSEWire.minorVersion))
        put32(out, 8, kernel.maxReadahead)
        put32(out, 12, kernel.flags & wanted)
        out.storeBytes(of: maxBackground.littleEndian, toByteOffset: 16, as: UInt16.self)
        out.storeBytes(of: (maxBackground * 3 / 4).littleEndian, toByteOffset: 18, as: UInt16.self)
        put32(out, 20, maxWrite)
        put32(out, 24, 1)  // time granularity: 1 ns
        out.storeBytes(of: maxPages.littleEndian, toByteOffset: 28, as: UInt16.self)
        return 64
    }

    /// `fuse_attr` (88 bytes) of the root directory or the file.
    public static func attributes(_ out: UnsafeMutableRawBufferPointer, node: UInt64, size: UInt64, blockSize: UInt32, time: UInt64) {
        zero(out, 88)
        let isRoot = node == FUSEWire.rootNode
        put64(out, 0, node)
        put64(out, 8, isRoot ? 0 : size)
        put64(out, 16, isRoot ? 0 : (size + 511) / 512)
        put64(out, 24, time)
        put64(out, 32, time)
        put64(out, 40, time)
        put32(out, 60, isRoot ? UInt32(S_IFDIR | 0o755) : UInt32(S_IFREG | 0o600))
        put32(out, 64, isRoot ? 2 : 1)
        put32(out, 80, blockSize)
    }

    /// `fuse_attr_out`: attributes valid for `validSeconds`.
    public static func attributesReply(
        _ out: UnsafeMutableRawBufferPointer, node: UInt64, size: UInt64, blockSize: UInt32, time: UInt64, validSeconds: UInt64
    ) -> Int {
        zero(out, 16)
        put64(out, 0, validSeconds)
        attributes(UnsafeMutableRawBufferPointer(rebasing: out[16...]), node: node, size: size, blockSize: blockSize, time: time)
        return 16 + 88
    }

    /// `fuse_entry_out`: the file's entry, valid for `validSeconds`.
    public static func entry(
        _ out: UnsafeMutableRawBufferPointer, node: UInt64, size: UInt64, blockSize: UInt32, time: UInt64, validSeconds: UInt64
    ) -> Int {
        zero(out, 40)
        put64(out, 0, node)
        put64(out, 16, validSeconds)
        put64(out, 24, validSeconds)
        attributes(UnsafeMutableRawBufferPointer(rebasing: out[40...]), node: node, size: size, blockSize: blockSize, time: time)
        return 40 + 88
    }

    /// `fuse_open_out`: handle 0 and `flags` (FOPEN_*).
    public static func open(_ out: UnsafeMutableRawBufferPointer, flags: UInt32) -> Int {
        zero(out, 16)
        put32(out, 8, flags)
        return 16
    }

    /// `fuse_write_out`.
    public static func written(_ out: UnsafeMutableRawBufferPointer, size: UInt32) -> Int {
        zero(out, 8)
        put32(out, 0, size)
        return 8
    }

    /// `fuse_statfs_out` (80 bytes).
    public static func statfs(_ out: UnsafeMutableRawBufferPointer, blocks: UInt64, blockSize: UInt32) -> Int {
        zero(out, 80)
        put64(out, 0, blocks)
        put64(out, 24, 2)
        put32(out, 40, blockSize)
        put32(out, 44, 255)
        put32(out, 48, blockSize)
        return 80
    }

    /// `fuse_dirent`s from `offset` on (., .., the file), as many as fit in `size`.
    public static func directory(_ out: UnsafeMutableRawBufferPointer, fileName: String, offset: UInt64, size: Int) -> Int {
        let entries: [(UInt64, String, UInt32)] = [
            (FUSEWire.rootNode, ".", 4), (FUSEWire.rootNode, "..", 4), (FUSEWire.fileNode, fileName, 8),
        ]
        var used = 0
        for index in entries.indices where UInt64(index) >= offset {
            let (node, name, type) = entries[index]
            let nameBytes = Array(name.utf8)
            let length = (24 + nameBytes.count + 7) & ~7
            guard used + length <= min(size, out.count) else { break }
            let entry = UnsafeMutableRawBufferPointer(rebasing: out[used..<(used + length)])
            zero(entry, length)
            put64(entry, 0, node)
            put64(entry, 8, UInt64(index + 1))
            put32(entry, 16, UInt32(nameBytes.count))
            put32(entry, 20, type)
            nameBytes.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: entry[24...]).copyMemory(from: $0) }
            used += length
        }
        return used
    }

    private static func zero(_ out: UnsafeMutableRawBufferPointer, _ count: Int) {
        UnsafeMutableRawBufferPointer(rebasing: out[0..<count]).initializeMemory(as: UInt8.self, repeating: 0)
    }
    private static func put32(_ out: UnsafeMutableRawBufferPointer, _ at: Int, _ value: UInt32) {
        out.storeBytes(of: value.littleEndian, toByteOffset: at, as: UInt32.self)
    }
    private static func put64(_ out: UnsafeMutableRawBufferPointer, _ at: Int, _ value: UInt64) {
        out.storeBytes(of: value.littleEndian, toByteOffset: at, as: UInt64.self)
    }
}
