import BlockCore
@testable import BlockDevices
import Foundation
import Glibc
import Synchronization
import TestSupport
import Testing

/// The three ways an aio channel runs: io_uring on a reactor, worker threads under a reactor
/// without a ring, and worker threads from a task on no reactor at all.
enum AIOPath: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case ioUring, workersOnReactor, workersOffReactor

    var testDescription: String { rawValue }

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        switch self {
        case .ioUring: return try await uringReactor.run(body)
        case .workersOnReactor: return try await plainReactor.run(body)
        case .workersOffReactor: return try await body()
        }
    }
}

@Suite struct AIODeviceIOTests {
    @Test(arguments: AIOPath.allCases)
    func channelKindFollowsTheCaller(path: AIOPath) async throws {
        let file = try TemporaryFile(size: 1 << 20)
        let device = try AIODevice(name: "aio0", path: file.path)
        let isRing = try await path.run { try device.makeChannel() is AIOUringChannel }
        #expect(isRing == (path == .ioUring))
    }

    @Test(arguments: AIOPath.allCases)
    func unalignedSegmentListsRoundTrip(path: AIOPath) async throws {
        let file = try TemporaryFile(size: 1 << 20)
        let device = try AIODevice(name: "aio0", path: file.path)
        try await path.run {
            let channel = try device.makeChannel()
            // Segments of 100, 3000 and 996 bytes: O_DIRECT cannot take them as they are.
            let source = IOBuffer(byteCount: 4096)
            for index in 0..<4096 { source.bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
            try await withSegments(of: source, cuts: [100, 3000, 996]) { vector in
                try await channel.write(vector, offsetBlocks: 24, options: .forceUnitAccess)
            }
            let target = IOBuffer(byteCount: 4096)
            try await withSegments(of: target, cuts: [996, 3000, 100]) { vector in
                try await channel.read(vector, offsetBlocks: 24)
            }
            #expect(Array(target.bytes) == Array(source.bytes))
        }
    }

    @Test(arguments: AIOPath.allCases)
    func zeroesWrittenByHandWhenFallocateIsRefused(path: AIOPath) async throws {
        let file = try TemporaryFile(size: 1 << 20)
        let device = try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
        device.fallocateWorks.store(false, ordering: .relaxed)
        try await path.run {
            let channel = try device.makeChannel()
            let buffer = IOBuffer(byteCount: 8 * 4096)
            buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0xA5)
            try await channel.write(buffer.vector(), offsetBlocks: 10)
            try await channel.writeZeroes(offsetBlocks: 11, blockCount: 3)
            try await channel.unmap(offsetBlocks: 15, blockCount: 2)
            try await channel.read(buffer.vector(), offsetBlocks: 10)
            for block in 0..<8 {
                let expected: UInt8 = [1, 2, 3, 5, 6].contains(block) ? 0 : 0xA5
                #expect(buffer.bytes[block * 4096..<(block + 1) * 4096].allSatisfy { $0 == expected }, "block \(block)")
            }
        }
    }

    @Test(arguments: AIOPath.allCases)
    func readOnlyRefusesEveryWrite(path: AIOPath) async throws {
        let file = try TemporaryFile(size: 1 << 20)
        let device = try AIODevice(name: "ro", path: file.path, readOnly: true)
        #expect(device.readOnly)
        #expect(device.supportedIOTypes == [.read, .flush, .reset])
        try await path.run {
            let channel = try device.makeChannel()
            let buffer = IOBuffer(byteCount: 4096)
            try await channel.read(buffer.vector(), offsetBlocks: 0)
            try await channel.flush()
            for attempt in 0..<3 {
                do {
                    switch attempt {
                    case 0: try await channel.write(buffer.vector(), offsetBlocks: 0, options: .forceUnitAccess)
                    case 1: try await channel.unmap(offsetBlocks: 0, blockCount: 8)
                    default: try await channel.writeZeroes(offsetBlocks: 0, blockCount: 8)
                    }
                    Issue.record("attempt \(attempt) was accepted")
                } catch let error as BlockError {
                    #expect(error.code == .readOnly)
                    #expect(error.message.contains(file.path))
                }
            }
        }
    }

    /// A file cut short behind the device's back: the read that reaches end of file fails, it is
    /// never reported as a success with part of the buffer untouched.
    @Test(arguments: AIOPath.allCases)
    func readsPastEndOfFileAreErrors(path: AIOPath) async throws {
        let file = try TemporaryFile(size: 1 << 20)
        let device = try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
        #expect(truncate(file.path, 512 * 1024) == 0)
        try await path.run {
            let channel = try device.makeChannel()
            let buffer = IOBuffer(byteCount: 4 * 4096)
            do {
                try await channel.read(buffer.vector(), offsetBlocks: 126)  // bytes 504 KiB..<520 KiB
                Issue.record("a read past the end of the file succeeded")
            } catch let error as BlockError {
                #expect(error.code == .ioError)
            }
            // After a rescan the range checks see the new size.
            try device.rescan()
            #expect(device.blockCount == 128)
            do {
                try await channel.read(buffer.vector(), offsetBlocks: 126)
                Issue.record("an out-of-range read succeeded")
            } catch let error as BlockError {
                #expect(error.code == .outOfRange)
            }
        }
    }

    @Test func missingFileErrorNamesThePath() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hornbill-missing-\(UUID()).img").path
        do {
            _ = try AIODevice(name: "aio0", path: path)
            Issue.record("a missing file was opened")
        } catch let error as BlockError {
            #expect(error.code == .notFound)
            #expect(error.message.contains(path))
            #expect(error.systemErrno == ENOENT)
        }
    }

    @Test func explicitBlockSizeBelowTheDetectedOneIsRefused() throws {
        let file = try TemporaryFile(size: 1 << 20)
        #expect(throws: BlockError.self) { try AIODevice(name: "a", path: file.path, blockSize: 256) }
        #expect(try AIODevice(name: "a", path: file.path, blockSize: 8192).blockCount == 128)
    }

    /// 32 reads issued at once by a task group on one reactor are all in the kernel together.
    @Test func thirtyTwoReadsAreInFlightTogether() async throws {
        let file = try TemporaryFile(size: 16 << 20)
        let device = try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
        let reactor = try Reactor(name: "qd32")
        defer { reactor.shutdown() }
        #expect(reactor.usesIOUring)
        let highWater = try await reactor.run {
            let buffers = (0..<32).map { _ in IOBuffer(byteCount: 4096) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (task, buffer) in buffers.enumerated() {
                    group.addTask {
                        let channel = try device.makeChannel()
                        try await channel.read(buffer.vector(), offsetBlocks: UInt64(task * 64))
                    }
                }
                try await group.waitForAll()
            }
            #expect(reactor.requests.inUse == 0)
            return reactor.requests.highWater
        }
        #expect(highWater == 32)
    }

    /// More concurrent I/Os than the reactor has requests: the extra submitters park and go on as
    /// requests are released; nothing fails and the in-flight count never passes the pool.
    @Test func requestPoolExhaustionParksSubmitters() async throws {
        let file = try TemporaryFile(size: 16 << 20)
        let device = try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
        let reactor = try Reactor(name: "small", options: .init(ringEntries: 8))
        defer { reactor.shutdown() }
        let highWater = try await reactor.run {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<64 {
                    group.addTask {
                        let channel = try device.makeChannel()
                        let buffer = IOBuffer(byteCount: 4096)
                        buffer.bytes.initializeMemory(as: UInt8.self, repeating: UInt8(task))
                        try await channel.write(buffer.vector(), offsetBlocks: UInt64(task))
                        buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0)
                        try await channel.read(buffer.vector(), offsetBlocks: UInt64(task))
                        #expect(buffer.bytes.allSatisfy { $0 == UInt8(task) })
                    }
                }
                try await group.waitForAll()
            }
            return reactor.requests.highWater
        }
        #expect(highWater == 8)
    }
}

/// Presents `buffer` as a segment list cut at the given lengths.
func withSegments(of buffer: IOBuffer, cuts: [Int], _ body: (IOVector) async throws -> Void) async throws {
    let table = UnsafeMutableBufferPointer<UnsafeMutableRawBufferPointer>.allocate(capacity: cuts.count)
    defer { table.deallocate() }
    var offset = 0
    for (index, length) in cuts.enumerated() {
        table[index] = UnsafeMutableRawBufferPointer(rebasing: buffer.bytes[offset..<(offset + length)])
        offset += length
    }
    precondition(offset == buffer.count)
    try await body(.segments(UnsafeBufferPointer(table)))
}
