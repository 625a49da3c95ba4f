import BlockCore
@testable import BlockDevices
import Foundation
import Synchronization
import TestSupport
import Testing

/// aio over a real block device: a loop device over a temporary file. It needs root and changes
/// system state (attaches a loop device), so it runs only when HORNBILL_LOOP_TESTS=1.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["HORNBILL_LOOP_TESTS"] == "1"))
struct AIOBlockDeviceTests {
    @Test(arguments: AIOPath.allCases)
    func loopDeviceGeometryAndZeroing(path: AIOPath) async throws {
        let file = try TemporaryFile(size: 8 << 20)
        let loop = try LoopDevice(backing: file.path)
        defer { loop.detach() }
        let device = try AIODevice(name: "loop", path: loop.path)
        #expect(device.isBlockDevice)
        #expect(device.blockSize == 512)
        #expect(device.byteCount == 8 << 20)
        device.fallocateWorks.store(path != .workersOffReactor, ordering: .relaxed)  // one path tries BLKZEROOUT
        try await path.run {
            let channel = try device.makeChannel()
            let buffer = IOBuffer(byteCount: 16 * 512)
            buffer.bytes.initializeMemory(as: UInt8.self, repeating: 0x5A)
            try await channel.write(buffer.vector(), offsetBlocks: 32, options: .forceUnitAccess)
            try await channel.unmap(offsetBlocks: 34, blockCount: 2)
            try await channel.writeZeroes(offsetBlocks: 40, blockCount: 4)
            try await channel.flush()
            try await channel.read(buffer.vector(), offsetBlocks: 32)
            for block in 0..<16 {
                let expected: UInt8 = [2, 3, 8, 9, 10, 11].contains(block) ? 0 : 0x5A
                #expect(buffer.bytes[block * 512..<(block + 1) * 512].allSatisfy { $0 == expected }, "block \(block)")
            }
        }
    }
}

/// A loop device attached with losetup for the life of a test.
struct LoopDevice {
    let path: String

    init(backing file: String) throws {
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/losetup")
        process.arguments = ["--find", "--show", file]
        process.standardOutput = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else { throw BlockError(.ioError, "losetup failed for \(file)") }
        path = text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func detach() {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/losetup")
        process.arguments = ["--detach", path]
        try? process.run()
        process.waitUntilExit()
    }
}
