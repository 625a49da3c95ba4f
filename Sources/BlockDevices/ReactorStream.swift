// A character device or pipe driven by a reactor: each read is an io_uring READ that suspends its
// task until the kernel has something (the kernel waits for it in a worker, or polls the file,
// so the reactor never blocks), and a reply is written with one write(2), which such devices take
// without waiting. Used for /dev/fuse, where each read returns one whole request. Without
// io_uring, a read blocks on a thread of its own and the result comes back on the reactor.
//
// One read may be in flight per stream; several streams over clones of one device (FUSE's queues)
// read in parallel.

import BlockCore
import CLinuxIO
import Foundation
import Glibc

public final class ReactorStream: @unchecked Sendable {  // reads confined to the reactor
    public let fd: Int32
    public let reactor: Reactor
    private let readRequest = RingRequest()
    private static let opRead: UInt8 = 22

    /// Takes ownership of `fd`.
    public init(fd: Int32, reactor: Reactor) {
        self.fd = fd
        self.reactor = reactor
    }

    deinit { close(fd) }

    /// Reads up to `buffer.count` bytes: how many, or -errno.
    public nonisolated(nonsending) func read(into buffer: UnsafeMutableRawBufferPointer) async -> Int32 {
        let fd = self.fd
        let address = UInt64(UInt(bitPattern: buffer.baseAddress))
        let length = buffer.count
        guard reactor.usesIOUring else {
            return await Reactor.blocking {
                let result = Glibc.read(fd, UnsafeMutableRawPointer(bitPattern: UInt(address)), length)
                return result < 0 ? -errno : Int32(result)
            }
        }
        guard reactor.isCurrent else {
            return await reactor.run {
                await self.read(into: UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: UInt(address)), count: length))
            }
        }
        return await reactor.perform(on: readRequest) { ring, userData in
            hb_uring_prep_rw(&ring, Self.opRead, fd, address, UInt32(length), 0, 0, userData)
        }
    }

    /// Writes `first` and then `second` in one writev(2): how many bytes, or -errno.
    public func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer? = nil) -> Int {
        withUnsafeTemporaryAllocation(of: iovec.self, capacity: 2) { vectors in
            vectors[0] = iovec(iov_base: UnsafeMutableRawPointer(mutating: first.baseAddress), iov_len: first.count)
            var count: Int32 = 1
            if let second, second.count > 0 {
                vectors[1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress), iov_len: second.count)
                count = 2
            }
            let result = writev(fd, vectors.baseAddress, count)
            return result < 0 ? -Int(errno) : result
        }
    }
}
