// The aio channel without io_uring: each I/O is a blocking preadv/pwritev/fdatasync/fallocate on
// a worker thread. Usable from any task, on a reactor or not.

import BlockCore
import CLinuxIO
import Glibc
import Synchronization

final class AIOThreadChannel: IOChannel {
    let device: AIODevice

    init(device: AIODevice) { self.device = device }

    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        try device.check(data, offsetBlocks: offsetBlocks, writing: false)
        try await transfer(data, offset: offsetBlocks * UInt64(device.blockSize), write: false, fua: false)
    }

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        try device.check(data, offsetBlocks: offsetBlocks, writing: true)
        try await transfer(
            data, offset: offsetBlocks * UInt64(device.blockSize), write: true,
            fua: options.contains(.forceUnitAccess))
    }

    nonisolated(nonsending) func flush() async throws {
        let fd = device.fd
        let result = await device.workers.run { fdatasync(fd) == 0 ? 0 : -Int(errno) }
        if result < 0 { throw device.translate(Int32(result), "flush") }
    }

    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await zero(offsetBlocks: offsetBlocks, blockCount: blockCount, mode: hb_falloc_punch_hole())
    }

    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await zero(offsetBlocks: offsetBlocks, blockCount: blockCount, mode: hb_falloc_zero_range())
    }

    private nonisolated(nonsending) func transfer(_ data: IOVector, offset: UInt64, write: Bool, fua: Bool) async throws {
        let total = data.byteCount
        let fd = device.fd
        let result: Int
        if device.isAligned(data) {
            // The kernel reads and writes the caller's memory directly (preadv/pwritev for lists).
            result = await device.workers.run {
                Self.blockingTransfer(fd: fd, data: data, offset: offset, write: write, fua: fua)
            }
        } else {
            // O_DIRECT needs aligned memory: bounce through an aligned buffer.
            let bounce = IOBuffer(byteCount: total)
            if write { data.copyOut(from: 0, count: total, into: bounce.bytes.baseAddress!) }
            let aligned = bounce.vector()
            result = await device.workers.run {
                Self.blockingTransfer(fd: fd, data: aligned, offset: offset, write: write, fua: fua)
            }
            if result == total && !write { data.copyIn(at: 0, count: total, from: bounce.bytes.baseAddress!) }
            withExtendedLifetime(bounce) {}
        }
        if result < 0 { throw device.translate(Int32(result), write ? "write" : "read") }
        if result < total {
            throw BlockError(
                .ioError,
                "\(write ? "write" : "read") on \(device.name) (\(device.filename)) stopped at byte \(result) of \(total) (end of file)")
        }
    }

    /// Runs on a worker: transfers every byte of `data`, continuing after short transfers.
    /// Returns the bytes moved (fewer than asked only at end of file) or -errno.
    private static func blockingTransfer(fd: Int32, data: IOVector, offset: UInt64, write: Bool, fua: Bool) -> Int {
        let total = data.byteCount
        var done = 0
        switch data {
        case .single(let buffer):
            while done < total {
                let position = off_t(offset) + off_t(done)
                let count =
                    write
                    ? pwrite(fd, buffer.baseAddress! + done, total - done, position)
                    : pread(fd, buffer.baseAddress! + done, total - done, position)
                if count < 0 {
                    if errno == EINTR { continue }
                    return -Int(errno)
                }
                if count == 0 { return done }
                done += count
            }
        case .segments(let list):
            precondition(list.count <= BlockLimits.maxSegmentsPerIO, "more than \(BlockLimits.maxSegmentsPerIO) segments")
            let moved = withUnsafeTemporaryAllocation(of: iovec.self, capacity: list.count) { table -> Int in
                for (index, segment) in list.enumerated() {
                    table[index] = iovec(iov_base: segment.baseAddress, iov_len: segment.count)
                }
                var first = 0
                while done < total {
                    let position = off_t(offset) + off_t(done)
                    let remaining = Int32(list.count - first)
                    let base = table.baseAddress! + first
                    var count = write ? pwritev(fd, base, remaining, position) : preadv(fd, base, remaining, position)
                    if count < 0 {
                        if errno == EINTR { continue }
                        return -Int(errno)
                    }
                    if count == 0 { return done }
                    done += count
                    // Step past what moved: whole segments, then into the first partial one.
                    while count > 0 && first < list.count {
                        if count >= table[first].iov_len {
                            count -= table[first].iov_len
                            first += 1
                        } else {
                            table[first].iov_base += count
                            table[first].iov_len -= count
                            count = 0
                        }
                    }
                }
                return done
            }
            if moved < total { return moved }
        }
        if write && fua && fdatasync(fd) != 0 { return -Int(errno) }
        return done
    }

    private nonisolated(nonsending) func zero(offsetBlocks: UInt64, blockCount: UInt64, mode: Int32) async throws {
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
        if device.isBlockDevice {
            let result = await device.workers.run { Int(hb_block_device_zeroout(fd, UInt64(offset), UInt64(length))) }
            if result == 0 { return }
            guard result == -Int(EOPNOTSUPP) || result == -Int(EINVAL) else {
                throw device.translate(Int32(result), "BLKZEROOUT")
            }
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
