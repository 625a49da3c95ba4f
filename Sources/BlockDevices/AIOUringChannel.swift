// The aio channel of a reactor with io_uring: one SQE per I/O, submitted in the reactor's next
// batch; the caller's task suspends on the request's continuation and resumes on completion.

import BlockCore
import CLinuxIO
import Glibc
import Synchronization

final class AIOUringChannel: IOChannel {
    let device: AIODevice
    let reactor: Reactor

    init(device: AIODevice, reactor: Reactor) {
        self.device = device
        self.reactor = reactor
    }

    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        guard reactor.isCurrent else {
            return try await withTaskExecutorPreference(reactor) { try await self.read(data, offsetBlocks: offsetBlocks) }
        }
        try device.check(data, offsetBlocks: offsetBlocks, writing: false)
        try await transfer(data, offsetBlocks: offsetBlocks, write: false, flags: 0)
    }

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        guard reactor.isCurrent else {
            return try await withTaskExecutorPreference(reactor) {
                try await self.write(data, offsetBlocks: offsetBlocks, options: options)
            }
        }
        try device.check(data, offsetBlocks: offsetBlocks, writing: true)
        let flags = options.contains(.forceUnitAccess) ? hb_rwf_dsync() : 0
        try await transfer(data, offsetBlocks: offsetBlocks, write: true, flags: flags)
    }

    nonisolated(nonsending) func flush() async throws {
        guard reactor.isCurrent else {
            return try await withTaskExecutorPreference(reactor) { try await self.flush() }
        }
        let fd = device.fd
        let result = await perform { ring, userData in hb_uring_prep_fsync(&ring, fd, 1, userData) }
        if result < 0 { throw device.translate(result, "flush") }
    }

    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await zero(offsetBlocks: offsetBlocks, blockCount: blockCount, mode: hb_falloc_punch_hole())
    }

    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await zero(offsetBlocks: offsetBlocks, blockCount: blockCount, mode: hb_falloc_zero_range())
    }

    // MARK: -

    /// Submits one request and waits for its result.
    @inline(__always)
    private nonisolated(nonsending) func perform(_ prepare: (inout hb_uring, UInt64) -> Int32) async -> Int32 {
        let request = await reactor.requests.acquire()
        defer { reactor.requests.release(request) }
        return await withUnsafeContinuation { continuation in
            request.continuation = continuation
            let userData = request.userData
            reactor.submit { ring in prepare(&ring, userData) }
        }
    }

    private nonisolated(nonsending) func transfer(_ data: IOVector, offsetBlocks: UInt64, write: Bool, flags: Int32) async throws {
        let offset = offsetBlocks * UInt64(device.blockSize)
        let total = data.byteCount
        guard device.isAligned(data) else {
            // O_DIRECT needs aligned memory: bounce through an aligned buffer.
            let bounce = IOBuffer(byteCount: total)
            if write { data.copyOut(from: 0, count: total, into: bounce.bytes.baseAddress!) }
            try await transfer(bounce.vector(), offsetBlocks: offsetBlocks, write: write, flags: flags)
            if !write { data.copyIn(at: 0, count: total, from: bounce.bytes.baseAddress!) }
            return
        }
        var done = 0
        while done < total {
            let result: Int32
            let fd = device.fd
            switch data {
            case .single(let buffer):
                let address = UInt64(UInt(bitPattern: buffer.baseAddress! + done))
                let length = UInt32(total - done)
                let opcode = UInt8(write ? HB_OP_WRITE : HB_OP_READ)
                let position = offset + UInt64(done)
                result = await perform { ring, userData in
                    hb_uring_prep_rw(&ring, opcode, fd, address, length, position, flags, userData)
                }
            case .segments:
                guard done == 0 else {
                    // A short vectored transfer: finish through a slice of the remainder.
                    try await transferRemainder(data, from: done, offset: offset, write: write, flags: flags)
                    return
                }
                let request = await reactor.requests.acquire()
                defer { reactor.requests.release(request) }
                var count = 0
                data.forEachSegment { segment, _ in
                    precondition(count < BlockLimits.maxSegmentsPerIO, "more than \(BlockLimits.maxSegmentsPerIO) segments")
                    request.iovecs[count] = iovec(iov_base: segment.baseAddress, iov_len: segment.count)
                    count += 1
                }
                let address = UInt64(UInt(bitPattern: request.iovecs))
                let opcode = UInt8(write ? HB_OP_WRITEV : HB_OP_READV)
                let segments = UInt32(count)
                result = await withUnsafeContinuation { continuation in
                    request.continuation = continuation
                    let userData = request.userData
                    reactor.submit { ring in hb_uring_prep_rw(&ring, opcode, fd, address, segments, offset, flags, userData) }
                }
            }
            if result < 0 { throw device.translate(result, write ? "write" : "read") }
            if result == 0 { throw BlockError(.ioError, "\(write ? "write" : "read") on \(device.name) stopped at byte \(done) of \(total) (end of file)") }
            done += Int(result)
        }
    }

    private nonisolated(nonsending) func transferRemainder(_ data: IOVector, from done: Int, offset: UInt64, write: Bool, flags: Int32) async throws {
        let rest = data.byteCount - done
        let bounce = IOBuffer(byteCount: rest)
        if write { data.copyOut(from: done, count: rest, into: bounce.bytes.baseAddress!) }
        try await transfer(bounce.vector(), offsetBlocks: (offset + UInt64(done)) / UInt64(device.blockSize), write: write, flags: flags)
        if !write { data.copyIn(at: done, count: rest, from: bounce.bytes.baseAddress!) }
    }

    private nonisolated(nonsending) func zero(offsetBlocks: UInt64, blockCount: UInt64, mode: Int32) async throws {
        guard reactor.isCurrent else {
            return try await withTaskExecutorPreference(reactor) {
                try await self.zero(offsetBlocks: offsetBlocks, blockCount: blockCount, mode: mode)
            }
        }
        if device.readOnly { throw BlockError(.readOnly, "\(device.name) (\(device.filename)) is read-only") }
        try device.geometry.checkRange(offsetBlocks: offsetBlocks, blockCount: blockCount)
        let offset = offsetBlocks * UInt64(device.blockSize)
        let length = blockCount * UInt64(device.blockSize)
        if device.fallocateWorks.load(ordering: .relaxed) {
            let fd = device.fd
            let fullMode = mode | hb_falloc_keep_size()
            var result = await perform { ring, userData in hb_uring_prep_fallocate(&ring, fd, fullMode, offset, length, userData) }
            if result == -EOPNOTSUPP || result == -EINVAL, mode == hb_falloc_zero_range() {
                // Some file systems (tmpfs) punch holes but do not zero ranges.
                let punch = hb_falloc_punch_hole() | hb_falloc_keep_size()
                result = await perform { ring, userData in hb_uring_prep_fallocate(&ring, fd, punch, offset, length, userData) }
            }
            if result == 0 { return }
            guard result == -EOPNOTSUPP || result == -EINVAL else { throw device.translate(result, "fallocate") }
            device.fallocateWorks.store(false, ordering: .relaxed)
        }
        if device.isBlockDevice {
            // An ioctl blocks, so it runs on a worker; the task comes back to this reactor after.
            let fd = device.fd
            let result = await device.workers.run { Int(hb_block_device_zeroout(fd, offset, length)) }
            if result == 0 { return }
            guard result == -Int(EOPNOTSUPP) || result == -Int(EINVAL) else {
                throw device.translate(Int32(result), "BLKZEROOUT")
            }
        }
        // Write zeroes by hand.
        let chunk = IOBuffer(byteCount: min(DeviceLimits.zeroChunkBytes, Int(length)))
        var done: UInt64 = 0
        while done < length {
            let count = Int(min(UInt64(chunk.count), length - done))
            try await transfer(chunk.vector(byteCount: count), offsetBlocks: (offset + done) / UInt64(device.blockSize), write: true, flags: 0)
            done += UInt64(count)
        }
    }
}
