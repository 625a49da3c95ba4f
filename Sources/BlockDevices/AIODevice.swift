// SPDK's aio bdev: a regular file or a block device, opened with O_DIRECT where the filesystem
// allows it. I/O goes through the calling reactor's io_uring (`AIOUringChannel`) or, without one,
// through blocking system calls on worker threads (`AIOThreadChannel`).

public import BlockCore
import CLinuxIO
public import Foundation
import Glibc
import Synchronization

public final class AIODevice: BlockDevice, @unchecked Sendable {
    public let name: String
    public let uuid: UUID
    public let filename: String
    public let readOnly: Bool
    public let blockSize: Int
    /// True when the file was opened with O_DIRECT (the page cache is bypassed).
    public let usesDirectIO: Bool
    public let isBlockDevice: Bool
    /// With O_DIRECT: the alignment of memory addresses and of segment lengths the kernel takes.
    let directIOMemoryAlignment: UInt
    let directIOLengthAlignment: Int
    public let claims = DeviceClaims()
    public let ioControl = DeviceIOControl()
    public var aliases: [String] { [] }
    public var productName: String { "AIO disk" }
    public var blockCount: UInt64 { blocks.load(ordering: .relaxed) }
    public var supportedIOTypes: IOTypes {
        readOnly ? [.read, .flush, .reset] : [.read, .write, .unmap, .flush, .reset, .writeZeroes]
    }

    let fd: Int32
    private let blocks: Atomic<UInt64>
    /// Cleared when the file system refuses fallocate modes; then zeroes are written by hand.
    let fallocateWorks = Atomic<Bool>(true)
    let workers: BlockingWorkers

    /// Opens `path`.
    ///
    /// - Parameter blockSize: nil detects it (the sector size of a block device; for a file 512, or
    ///   the direct-I/O alignment the kernel reports when larger);
    ///   an explicit size must be a power of two, at least 512 and at least the detected one.
    /// - Throws: `.notFound`, `.invalidArgument` (directory, bad block size, file smaller than a
    ///   block), `.ioError` with the errno for anything else the kernel refuses.
    public init(name: String, path: String, blockSize: Int? = nil, readOnly: Bool = false, uuid: UUID = UUID()) throws {
        let flags = (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC
        var fd = open(path, flags | hb_o_direct())
        var direct = true
        if fd < 0 && errno == EINVAL {
            // The file system does not do direct I/O (tmpfs, some overlays): use the page cache.
            direct = false
            fd = open(path, flags)
        }
        guard fd >= 0 else { throw Self.openError(path: path, errno: errno) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = errno
            close(fd)
            throw Self.openError(path: path, errno: error)
        }
        let kind = info.st_mode & S_IFMT
        let sizeBytes: UInt64
        var detected: Int
        if kind == S_IFBLK {
            let size = hb_block_device_size(fd)
            let sector = hb_block_device_sector_size(fd)
            guard size >= 0, sector > 0 else {
                close(fd)
                throw BlockError(.ioError, "cannot read the size of block device \(path)", errno: Int32(-min(size, Int64(sector))))
            }
            sizeBytes = UInt64(size)
            detected = Int(sector)
        } else if kind == S_IFREG {
            sizeBytes = UInt64(info.st_size)
            detected = 512
        } else {
            close(fd)
            let what = kind == S_IFDIR ? "a directory" : "neither a regular file nor a block device"
            throw BlockError(.invalidArgument, "\(path) is \(what)")
        }
        // O_DIRECT needs offsets and lengths aligned to the disk's logical sector (4096 on a
        // 4Kn disk even under a file) and memory to what the kernel reports; ask it where it says.
        var memoryAlignment = UInt32(detected)
        var lengthAlignment = UInt32(detected)
        if direct {
            var memory: UInt32 = 0
            var offset: UInt32 = 0
            if hb_direct_io_alignment(fd, &memory, &offset) == 0 {
                memoryAlignment = max(memory, 1)
                lengthAlignment = offset
                detected = max(detected, Int(offset))
            }
        }
        let chosen = blockSize ?? detected
        guard chosen >= 512, chosen.nonzeroBitCount == 1, chosen >= detected, chosen <= BlockLimits.maxBlockSize else {
            close(fd)
            throw BlockError(
                .invalidArgument,
                "block size \(chosen) for \(path) must be a power of two from \(detected) to \(BlockLimits.maxBlockSize)")
        }
        guard sizeBytes >= UInt64(chosen) else {
            close(fd)
            throw BlockError(.invalidArgument, "\(path) holds \(sizeBytes) bytes, less than one block of \(chosen)")
        }
        self.fd = fd
        self.name = name
        self.uuid = uuid
        self.filename = path
        self.readOnly = readOnly
        self.blockSize = chosen
        self.usesDirectIO = direct
        self.directIOMemoryAlignment = UInt(memoryAlignment)
        self.directIOLengthAlignment = Int(lengthAlignment)
        self.isBlockDevice = kind == S_IFBLK
        self.blocks = Atomic(sizeBytes / UInt64(chosen))
        self.workers = BlockingWorkers.shared
    }

    deinit { close(fd) }

    static func openError(path: String, errno code: Int32) -> BlockError {
        let reason = String(cString: strerror(code))
        switch code {
        case ENOENT: return BlockError(.notFound, "\(path): \(reason)", errno: code)
        case EISDIR: return BlockError(.invalidArgument, "\(path) is a directory", errno: code)
        case EACCES, EPERM, EROFS: return BlockError(.readOnly, "\(path): \(reason)", errno: code)
        default: return BlockError(.ioError, "\(path): \(reason)", errno: code)
        }
    }

    /// Re-reads the size of the file or device (SPDK's bdev_aio_rescan).
    public func rescan() throws {
        let bytes: UInt64
        if isBlockDevice {
            let size = hb_block_device_size(fd)
            guard size >= 0 else { throw BlockError(.ioError, "cannot read the size of \(filename)", errno: Int32(-size)) }
            bytes = UInt64(size)
        } else {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw Self.openError(path: filename, errno: errno) }
            bytes = UInt64(info.st_size)
        }
        blocks.store(bytes / UInt64(blockSize), ordering: .relaxed)
    }

    public func makeChannel() throws -> any IOChannel {
        if let reactor = Reactor.current, reactor.usesIOUring {
            return AIOUringChannel(device: self, reactor: reactor)
        }
        return AIOThreadChannel(device: self)
    }

    // MARK: - Shared by both channels

    @inline(__always)
    func check(_ data: IOVector, offsetBlocks: UInt64, writing: Bool) throws {
        if writing && readOnly { throw BlockError(.readOnly, "\(name) (\(filename)) is read-only") }
        _ = try geometry.checkIO(offsetBlocks: offsetBlocks, byteCount: data.byteCount)
    }

    /// Whether the kernel can take this vector as it is (O_DIRECT needs aligned segments).
    @inline(__always)
    func isAligned(_ data: IOVector) -> Bool {
        guard usesDirectIO else { return true }
        var aligned = true
        data.forEachSegment { segment, _ in
            if UInt(bitPattern: segment.baseAddress) % directIOMemoryAlignment != 0
                || segment.count % directIOLengthAlignment != 0
            {
                aligned = false
            }
        }
        return aligned
    }

    func translate(_ result: Int32, _ what: String) -> BlockError {
        let code = -result
        return BlockError(.ioError, "\(what) on \(name) (\(filename)) failed: \(String(cString: strerror(code)))", errno: code)
    }
}
