// The aio channel without io_uring: each I/O is a blocking preadv/pwritev/fdatasync/fallocate on
// a worker thread. Usable from any task, on a reactor or not.

import BlockCore
import CLinuxIO
import Glibc
import Synchronization

final class AIOThreadChannel: IOChannel {
    let device: AIODevice

    init(device: AIODevice) { self.device = device }

    func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        try device.check(data, offsetBlocks: offsetBlocks, writing: false)
        try await transfer(data, offset: offsetBlocks * UInt64(device.blockSize), write: false, fua: false)
    }

    func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        try device.check(data, offsetBlocks: offsetBlocks, writing: true)
        try await transfer(
            data, offset: offsetBlocks * UInt64(device.blockSize), write: true,
            fua: options.contains(.forceUnitAccess))
    }

    func flush() async throws {
        let fd = device.fd
        let result = await device.workers.run { fdatasync(fd) == 0 ? 0 : -Int(errno) }
        if result < 0 { throw device.translate(Int32(result), "flush") }
    }

    func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await zero(offsetBlocks: offsetBlocks, blockCount: blockCount, mode: hb_falloc_punch_hole())
    }

    func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await zero(offsetBlocks: offsetBlocks, blockCount: blockCount, mode: hb_falloc_zero_range())
    }

    private func transfer(_ data: IOVector, offset: UInt64, write: Bool, fua: Bool) async throws {
        let total = data.byteCount
        // One aligned buffer keeps the worker's job simple and O_DIRECT-safe.
        let bounce: IOBuffer?
        let base: UnsafeMutableRawPointer
        if case .single(let buffer) = data, device.isAligned(data) {
            bounce = nil
            base = buffer.baseAddress!
        } else {
            bounce = IOBuffer(byteCount: total)
            base = bounce!.bytes.baseAddress!
            if write { data.copyOut(from: 0, count: total, into: base) }
        }
        let fd = device.fd
        let address = Int(bitPattern: base)
        let result = await device.workers.run {
            let pointer = UnsafeMutableRawPointer(bitPattern: address)!
            var done = 0
            while done < total {
                let count = write
                    ? pwrite(fd, pointer + done, total - done, off_t(offset) + off_t(done))
                    : pread(fd, pointer + done, total - done, off_t(offset) + off_t(done))
                if count < 0 {
                    if errno == EINTR { continue }
                    return -Int(errno)
                }
                if count == 0 { return done }
                done += count
            }
            if write && fua && fdatasync(fd) != 0 { return -Int(errno) }
            return done
        }
        if result < 0 { throw device.translate(Int32(result), write ? "write" : "read") }
        if result < total {
            throw BlockError(.ioError, "\(write ? "write" : "read") on \(device.name) stopped at byte \(result) of \(total) (end of file)")
        }
        if let bounce, !write { data.copyIn(at: 0, count: total, from: bounce.bytes.baseAddress!) }
        withExtendedLifetime(bounce) {}
    }

    private func zero(offsetBlocks: UInt64, blockCount: UInt64, mode: Int32) async throws {
        if device.readOnly { throw BlockError(.readOnly, "\(device.name) (\(device.filename)) is read-only") }
        try device.geometry.checkRange(offsetBlocks: offsetBlocks, blockCount: blockCount)
        let offset = off_t(offsetBlocks * UInt64(device.blockSize))
        let length = off_t(blockCount * UInt64(device.blockSize))
        let fd = device.fd
        if device.fallocateWorks.load(ordering: .relaxed) {
            var result = await device.workers.run {
                Int(hb_fallocate(fd, mode | hb_falloc_keep_size(), Int64(offset), Int64(length)))
            }
            if result == -Int(EOPNOTSUPP) || result == -Int(EINVAL), mode == hb_falloc_zero_range() {
                result = await device.workers.run {
                    Int(hb_fallocate(fd, hb_falloc_punch_hole() | hb_falloc_keep_size(), Int64(offset), Int64(length)))
                }
            }
            if result == 0 { return }
            guard result == -Int(EOPNOTSUPP) || result == -Int(EINVAL) else {
                throw device.translate(Int32(result), "fallocate")
            }
            device.fallocateWorks.store(false, ordering: .relaxed)
        }
        let chunk = IOBuffer(byteCount: min(DeviceLimits.zeroChunkBytes, Int(length)))
        var done: off_t = 0
        while done < length {
            let count = Int(min(off_t(chunk.count), length - done))
            try await transfer(chunk.vector(byteCount: count), offset: UInt64(offset + done), write: true, fua: false)
            done += off_t(count)
        }
    }
}
