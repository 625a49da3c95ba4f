import BlockCore
@testable import BlockDevices
import Foundation
import TestSupport
import Testing

@Suite struct AIODeviceTests {
    @Test func opensFilesWithDirectIOAndDetectsGeometry() throws {
        let file = try TemporaryFile(size: 8 * 1024 * 1024 + 100)
        let device = try AIODevice(name: "aio0", path: file.path)
        #expect(device.blockSize == 512)
        #expect(device.blockCount == UInt64(8 * 1024 * 1024 / 512))  // the partial block is not used
        #expect(device.productName == "AIO disk")
        #expect(device.filename == file.path)
        #expect(!device.isBlockDevice)
        let big = try AIODevice(name: "aio1", path: file.path, blockSize: 4096)
        #expect(big.blockCount == 2048)
    }

    @Test func badPathsAndSizesGiveClearErrors() throws {
        #expect(throws: BlockError.self) { try AIODevice(name: "a", path: "/nonexistent/disk.img") }
        do {
            _ = try AIODevice(name: "a", path: "/nonexistent/disk.img")
        } catch let error as BlockError {
            #expect(error.code == .notFound)
            #expect(error.message.contains("/nonexistent/disk.img"))
        }
        do {
            _ = try AIODevice(name: "a", path: NSTemporaryDirectory())
            Issue.record("a directory was accepted")
        } catch let error as BlockError {
            #expect(error.code == .invalidArgument && error.message.contains("directory"))
        }
        let file = try TemporaryFile(size: 1 << 20)
        for size in [0, 256, 1000, 3072] {
            #expect(throws: BlockError.self) { try AIODevice(name: "a", path: file.path, blockSize: size) }
        }
        let tiny = try TemporaryFile(size: 100)
        #expect(throws: BlockError.self) { try AIODevice(name: "a", path: tiny.path) }
    }

    @Test func readOnlyDevicesRefuseWrites() async throws {
        let file = try TemporaryFile(size: 1 << 20)
        let device = try AIODevice(name: "ro", path: file.path, readOnly: true)
        #expect(!device.supportedIOTypes.contains(.write))
        for reactor in [uringReactor, plainReactor] {
            try await reactor.run {
                let channel = try device.makeChannel()
                let buffer = IOBuffer(byteCount: 4096)
                try await channel.read(buffer.vector(), offsetBlocks: 0)
                await #expect(throws: BlockError.self) { try await channel.write(buffer.vector(), offsetBlocks: 0) }
                await #expect(throws: BlockError.self) { try await channel.unmap(offsetBlocks: 0, blockCount: 8) }
            }
        }
    }

    @Test func rescanSeesAGrownFile() throws {
        let file = try TemporaryFile(size: 1 << 20)
        let device = try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
        #expect(device.blockCount == 256)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file.path))
        try handle.truncate(atOffset: 3 << 20)
        try handle.close()
        try device.rescan()
        #expect(device.blockCount == 768)
    }

    @Test func manyReadsAreInFlightAtOnce() async throws {
        let file = try TemporaryFile(size: 64 << 20)
        let device = try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
        let reactor = try Reactor(name: "qd")
        defer { reactor.shutdown() }
        let highWater = try await reactor.run {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<32 {
                    group.addTask {
                        let channel = try device.makeChannel()
                        let buffer = IOBuffer(byteCount: 4096)
                        for round in 0..<20 {
                            try await channel.read(buffer.vector(), offsetBlocks: UInt64((task * 97 + round * 31) % 16384))
                        }
                    }
                }
                try await group.waitForAll()
            }
            return reactor.requests.highWater
        }
        // Every task's read was submitted before any completed: the queue depth was real.
        #expect(highWater >= 16, "only \(highWater) I/Os were ever in flight together")
    }

    @Test func misalignedMemoryIsBouncedForDirectIO() async throws {
        let file = try TemporaryFile(size: 1 << 20)
        let device = try AIODevice(name: "aio0", path: file.path)
        try await uringReactor.run {
            let channel = try device.makeChannel()
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096 + 3, alignment: 1)
            defer { raw.deallocate() }
            let unaligned = UnsafeMutableRawBufferPointer(rebasing: raw[3..<(4096 + 3)])
            for index in 0..<4096 { unaligned[index] = UInt8(truncatingIfNeeded: index * 7) }
            try await channel.write(.single(unaligned), offsetBlocks: 8)
            let back = IOBuffer(byteCount: 4096)
            try await channel.read(back.vector(), offsetBlocks: 8)
            #expect(Array(back.bytes) == Array(unaligned))
        }
    }
}
