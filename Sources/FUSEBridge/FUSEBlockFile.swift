// A block device served as one regular file in a FUSE mount, through the kernel's FUSE protocol on
// /dev/fuse (no libfuse): the userspace half of the `blockdev` frontend where the kernel has no
// NVMe/TCP initiator. A loop device with direct I/O over the file then gives the kernel a block
// device whose every I/O reaches this process, and so the volume's engine, with no socket between.
//
// Requests: `queues` clones of the /dev/fuse connection (FUSE_DEV_IOC_CLONE) each keep one read
// in flight on the reactor (`ReactorStream`); a request is decoded, served on the device's
// channel, and answered with one writev. A queue reads each request where a WRITE's data lands
// on a page boundary, so it goes to the device from there; a READ's data is sent from the buffer
// the device filled: no copy in this process either way. READ and WRITE go to the device at their offset (the
// kernel splits them at `maxTransferBytes`; I/O not in whole blocks is refused, as a block
// device refuses it); FSYNC is a flush, so what the kernel was told is durable is
// on the replicas first; FALLOCATE with PUNCH_HOLE is an unmap. The file's size is the
// device's; the attributes never change while mounted.
//
// Malformed requests (a length that disagrees with what was read, a body too short for its
// opcode, a transfer past the end) are answered EINVAL or EIO, and the queue reads on.
// `unmount()` detaches the mount (MNT_DETACH: a loop device holding the file keeps it until the
// loop goes) and closes the queues; requests still coming then fail in the kernel with ENOTCONN,
// never hang.

public import BlockCore
public import BlockDevices
import CLinuxIO
import Foundation
import Glibc

public struct FUSEBridgeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

public final class FUSEBlockFile: @unchecked Sendable {  // queues confined to the reactor
    public let mountPoint: String
    public let fileName: String
    public var filePath: String { mountPoint + "/" + fileName }
    let descriptor: BlockDescriptor
    let reactor: Reactor
    private var queueTasks: [Task<Void, Never>] = []
    private let mountedAt = UInt64(Date().timeIntervalSince1970)

    /// Largest READ or WRITE the kernel sends (and so each queue's request buffer).
    public static let maxTransferBytes = 1 << 20
    /// What precedes a WRITE's data: the request header and `fuse_write_in`.
    static let writeHeaderBytes = FUSEWire.inHeaderBytes + FUSETransfer.bodyBytes
    /// Where a queue reads each request into its buffer: so that a WRITE's data starts on a page
    /// boundary and goes to the device from there, with no copy and no bounce for O_DIRECT.
    static let requestStart = BlockLimits.bufferAlignment - writeHeaderBytes
    /// Request buffer of a queue: room for the largest WRITE after `requestStart`.
    static let requestBufferBytes = BlockLimits.bufferAlignment + maxTransferBytes

    private init(mountPoint: String, fileName: String, descriptor: BlockDescriptor, reactor: Reactor) {
        self.mountPoint = mountPoint
        self.fileName = fileName
        self.descriptor = descriptor
        self.reactor = reactor
    }

    /// Mounts a FUSE filesystem at `mountPoint` (an existing directory) whose one file,
    /// `fileName`, is the device of `descriptor`, and starts `queues` queues on `reactor`.
    public static func mount(
        _ descriptor: BlockDescriptor, at mountPoint: String, fileName: String = "volume", reactor: Reactor, queues: Int = 4
    ) throws -> FUSEBlockFile {
        guard mountPoint.hasPrefix("/") else { throw FUSEBridgeError("the mount point must be an absolute path, not \(mountPoint)") }
        guard queues >= 1, queues <= 64 else { throw FUSEBridgeError("queues must be 1 to 64, not \(queues)") }
        guard !fileName.isEmpty, !fileName.contains("/"), fileName.utf8.count <= 255 else {
            throw FUSEBridgeError("invalid file name \"\(fileName)\"")
        }
        let fd = open("/dev/fuse", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw FUSEBridgeError("cannot open /dev/fuse: \(String(cString: strerror(errno)))") }
        let options = "fd=\(fd),rootmode=40000,user_id=0,group_id=0,allow_other,max_read=\(maxTransferBytes)"
        guard Glibc.mount("hornbill", mountPoint, "fuse.hornbill", UInt(MS_NOSUID | MS_NODEV), options) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw FUSEBridgeError("cannot mount FUSE at \(mountPoint): \(reason)")
        }
        let bridge = FUSEBlockFile(mountPoint: mountPoint, fileName: fileName, descriptor: descriptor, reactor: reactor)
        // The mount's device from the mount table: a stat of the mount point would wait for the
        // queues to answer.
        bridge.connectionID = connectionNumber(of: mountPoint)
        var streams = [ReactorStream(fd: fd, reactor: reactor)]
        for _ in 1..<queues {
            // A new /dev/fuse descriptor bound to the same connection.
            let clone = open("/dev/fuse", O_RDWR | O_CLOEXEC)
            guard clone >= 0, hb_fuse_clone(clone, fd) == 0 else {
                if clone >= 0 { close(clone) }
                break  // fewer queues, still served
            }
            streams.append(ReactorStream(fd: clone, reactor: reactor))
        }
        for stream in streams {
            bridge.queueTasks.append(Task(executorPreference: reactor) { await bridge.serve(stream) })
        }
        return bridge
    }

    /// Detaches the mount, aborts the connection (requests still coming, from a loop device that
    /// holds the file, fail in the kernel instead of waiting) and stops the queues.
    public func unmount() async {
        _ = umount2(mountPoint, Int32(MNT_DETACH))
        if let connectionID { Self.abortConnection(connectionID) }
        for task in queueTasks { await task.value }
        queueTasks = []
    }

    /// The connection's number in the FUSE control filesystem (its superblock's device); nil
    /// when the mount table did not show it.
    private var connectionID: UInt32?

    /// The FUSE connection's number (the kernel's device number of the mount, major << 20 |
    /// minor) from /proc/self/mountinfo: "id parent major:minor root mountpoint ...".
    static func connectionNumber(of mountPoint: String) -> UInt32? {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        // As the table writes it: octal escapes for spaces, tabs, newlines and backslashes. (No
        // URL: making one stats the path, which would wait for the queues.)
        var resolved = mountPoint
        while resolved.count > 1 && resolved.hasSuffix("/") { resolved.removeLast() }
        resolved = resolved.replacingOccurrences(of: "\\", with: "\\134").replacingOccurrences(of: " ", with: "\\040")
            .replacingOccurrences(of: "\t", with: "\\011").replacingOccurrences(of: "\n", with: "\\012")
        for line in table.split(separator: "\n").reversed() {
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4] == resolved else { continue }
            let numbers = fields[2].split(separator: ":").compactMap { UInt32($0) }
            guard numbers.count == 2 else { return nil }
            return numbers[0] << 20 | numbers[1]
        }
        return nil
    }

    /// Writes to the connection's `abort` file in the FUSE control filesystem (mounted at
    /// /sys/fs/fuse/connections first if it is not): every request pending or to come fails with
    /// ENOTCONN, and the queues' reads end.
    static func abortConnection(_ id: UInt32) {
        let directory = "/sys/fs/fuse/connections"
        let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
        if !mounts.contains(" \(directory) fusectl ") {
            _ = Glibc.mount("fusectl", directory, "fusectl", 0, nil)
        }
        let fd = open("\(directory)/\(id)/abort", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = Glibc.write(fd, "1", 1)
        close(fd)
    }

    // MARK: - A queue

    private func serve(_ stream: ReactorStream) async {
        let buffer = IOBuffer(byteCount: Self.requestBufferBytes)
        let requests = UnsafeMutableRawBufferPointer(rebasing: buffer.bytes[Self.requestStart...])
        let reply = IOBuffer(byteCount: 4096)
        let data = IOBuffer(byteCount: Self.maxTransferBytes)
        guard let channel = try? descriptor.makeChannel() else { return }
        while !Task.isCancelled {
            let count = await stream.read(into: requests)
            if count == -EINTR || count == -EAGAIN || count == -ENOENT { continue }  // ENOENT: an interrupted request
            guard count > 0 else { return }  // ENODEV: unmounted or aborted; anything else ends the queue too
            let request = UnsafeRawBufferPointer(rebasing: requests[0..<Int(count)])
            guard let header = FUSERequestHeader(request) else { continue }  // the kernel's own framing: never short
            let body = UnsafeRawBufferPointer(rebasing: request[FUSEWire.inHeaderBytes...])
            if await handle(header, body, stream: stream, channel: channel, reply: reply, data: data) == false { return }
        }
    }

    /// Answers one request; false once the connection is done (DESTROY).
    private func handle(
        _ header: FUSERequestHeader, _ body: UnsafeRawBufferPointer, stream: ReactorStream, channel: any IOChannel,
        reply: IOBuffer, data: IOBuffer
    ) async -> Bool {
        let device = descriptor.device
        let size = device.byteCount
        let blockSize = UInt32(device.blockSize)
        let out = UnsafeMutableRawBufferPointer(rebasing: reply.bytes[FUSEWire.outHeaderBytes...])
        func send(_ length: Int, error: Int32 = 0, payload: UnsafeRawBufferPointer? = nil) {
            let total = FUSEWire.outHeaderBytes + length + (payload?.count ?? 0)
            FUSEReplies.header(reply.bytes, length: total, error: error, unique: header.unique)
            _ = stream.write(UnsafeRawBufferPointer(rebasing: reply.bytes[0..<(FUSEWire.outHeaderBytes + length)]), payload)
        }
        switch FUSEOpcode(rawValue: header.opcode) {
        case .initialize:
            guard let kernel = FUSEInit(body), kernel.major == FUSEWire.majorVersion else { send(0, error: EPROTO); return true }
            send(FUSEReplies.initialize(
                out, kernel: kernel, maxWrite: UInt32(Self.maxTransferBytes),
                maxPages: UInt16(Self.maxTransferBytes / 4096), maxBackground: 128))
        case .lookup:
            let name = body.prefix { $0 != 0 }
            guard header.nodeID == FUSEWire.rootNode, name.elementsEqual(fileName.utf8) else { send(0, error: ENOENT); return true }
            send(FUSEReplies.entry(out, node: FUSEWire.fileNode, size: size, blockSize: blockSize, time: mountedAt, validSeconds: 3600))
        case .getattr:
            guard header.nodeID == FUSEWire.rootNode || header.nodeID == FUSEWire.fileNode else { send(0, error: ENOENT); return true }
            send(FUSEReplies.attributesReply(out, node: header.nodeID, size: size, blockSize: blockSize, time: mountedAt, validSeconds: 3600))
        case .open, .opendir:
            send(FUSEReplies.open(out, flags: 0))
        case .release, .releasedir, .flush, .fsyncdir, .access:
            send(0)
        case .forget, .batchForget, .interrupt:
            break  // no reply
        case .statfs:
            send(FUSEReplies.statfs(out, blocks: size / UInt64(blockSize), blockSize: blockSize))
        case .readdir:
            guard let transfer = FUSETransfer(body) else { send(0, error: EINVAL); return true }
            send(FUSEReplies.directory(out, fileName: fileName, offset: transfer.offset, size: min(Int(transfer.size), out.count)))
        case .read:
            guard let transfer = FUSETransfer(body), header.nodeID == FUSEWire.fileNode else { send(0, error: EINVAL); return true }
            guard transfer.offset < size else { send(0); return true }  // at or past the end: no data
            let length = Int(min(UInt64(transfer.size), size - transfer.offset, UInt64(Self.maxTransferBytes)))
            let destination = UnsafeMutableRawBufferPointer(rebasing: data.bytes[0..<length])
            let error = await transferBlocks(channel, destination, offset: transfer.offset, write: false)
            if error != 0 { send(0, error: error) } else { send(0, payload: UnsafeRawBufferPointer(destination)) }
        case .write:
            guard let transfer = FUSETransfer(body), header.nodeID == FUSEWire.fileNode,
                body.count >= FUSETransfer.bodyBytes + Int(transfer.size)
            else { send(0, error: EINVAL); return true }
            let length = Int(transfer.size)
            guard transfer.offset <= size, UInt64(length) <= size - transfer.offset else { send(0, error: ENOSPC); return true }
            // Page-aligned where the queue reads (`requestStart`): written from where it lies.
            let source = UnsafeMutableRawBufferPointer(
                mutating: UnsafeRawBufferPointer(rebasing: body[FUSETransfer.bodyBytes..<(FUSETransfer.bodyBytes + length)]))
            let error = await transferBlocks(channel, source, offset: transfer.offset, write: true)
            if error != 0 { send(0, error: error) } else { send(FUSEReplies.written(out, size: UInt32(length))) }
        case .fsync:
            do {
                try await channel.flush()
                send(0)
            } catch {
                send(0, error: EIO)
            }
        case .fallocate:
            guard let request = FUSEFallocate(body) else { send(0, error: EINVAL); return true }
            send(0, error: await fallocate(channel, request))
        case .destroy:
            send(0)
            return false
        case .setattr, .readdirplus, .lseek, nil:
            send(0, error: ENOSYS)
        }
        return true
    }

    /// Reads into or writes from `memory` at `offset` through the channel: 0 or an errno. I/O that is
    /// not in whole blocks is refused (EINVAL): the file is for a loop device and other direct
    /// I/O users, whose I/O is block-aligned, as a block device's is.
    private func transferBlocks(
        _ channel: any IOChannel, _ memory: UnsafeMutableRawBufferPointer, offset: UInt64, write: Bool
    ) async -> Int32 {
        let blockSize = UInt64(descriptor.device.blockSize)
        guard offset % blockSize == 0, UInt64(memory.count) % blockSize == 0, !memory.isEmpty else {
            return memory.isEmpty ? 0 : EINVAL  // unaligned I/O: refused (the loop device is block-aligned)
        }
        do {
            let vector = IOVector.single(memory)
            if write {
                try await channel.write(vector, offsetBlocks: offset / blockSize, options: [])
            } else {
                try await channel.read(vector, offsetBlocks: offset / blockSize)
            }
            return 0
        } catch {
            return EIO
        }
    }

    /// FALLOCATE: PUNCH_HOLE | KEEP_SIZE unmaps (zeroes read back); ZERO_RANGE writes zeroes; a
    /// plain allocation of space inside the file is already done.
    private func fallocate(_ channel: any IOChannel, _ request: FUSEFallocate) async -> Int32 {
        let punchHole: UInt32 = 0x02, keepSize: UInt32 = 0x01, zeroRange: UInt32 = 0x10
        let blockSize = UInt64(descriptor.device.blockSize)
        let size = descriptor.device.byteCount
        guard request.offset <= size, request.length <= size - request.offset else { return request.mode & keepSize != 0 ? 0 : EFBIG }
        guard request.mode & (punchHole | zeroRange) != 0 else { return 0 }
        guard request.offset % blockSize == 0, request.length % blockSize == 0 else { return EINVAL }
        do {
            if request.mode & punchHole != 0, descriptor.device.supportedIOTypes.contains(.unmap) {
                try await channel.unmap(offsetBlocks: request.offset / blockSize, blockCount: request.length / blockSize)
            } else {
                try await channel.writeZeroes(offsetBlocks: request.offset / blockSize, blockCount: request.length / blockSize)
            }
            return 0
        } catch {
            return EIO
        }
    }
}
