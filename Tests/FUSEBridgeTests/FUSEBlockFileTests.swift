// A block device served as a file in a real FUSE mount, with a real loop device (direct I/O) over
// it, used as a user would: mkfs.ext4, mount, files with known checksums, fsck, fio with verify.

import BlockCore
import BlockDevices
import CLinuxIO
import FUSEBridge
import Foundation
import Glibc
import TestSupport
import Testing

@Suite(.serialized) struct FUSEBlockFileTests {
    private func run(_ arguments: [String]) async throws -> String {
        let result = try await offThread { try runCommand(arguments) }
        guard result.status == 0 else {
            throw FUSETestError(description: "\(arguments.joined(separator: " ")) exited \(result.status): \(result.output)")
        }
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aFilesystemOnALoopDeviceOverTheFileKeepsItsData() async throws {
        let reactor = try Reactor(name: "fuse-test")
        defer { reactor.shutdown() }
        let device = try MallocDevice(name: "F\(UUID().uuidString.prefix(6))", blockCount: 32768, blockSize: 4096)
        let descriptor = try BlockDescriptor(device, writable: true)
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("hornbill-fuse-\(UUID().uuidString.prefix(8))").path
        let mountPoint = base + "/bridge", filesystem = base + "/fs"
        for directory in [mountPoint, filesystem] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let bridge = try FUSEBlockFile.mount(descriptor, at: mountPoint, reactor: reactor)
        var loop: String?
        defer {
            // Best effort after a failure: nothing of the test stays mounted or attached.
            _ = try? runCommand(["umount", filesystem])
            if let loop { _ = try? runCommand(["losetup", "-d", loop]) }
        }

        // The file: the device's size; a direct write through it lands on the device.
        let fileSize = try await offThread { (try FileManager.default.attributesOfItem(atPath: bridge.filePath)[.size] as? NSNumber)?.uint64Value }
        #expect(fileSize == device.byteCount)
        let pattern = (0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let path = bridge.filePath
        let written = try await offThread { () -> Int in
            let fd = open(path, O_RDWR | hb_o_direct())
            guard fd >= 0 else { return -Int(errno) }
            defer { close(fd) }
            let buffer = IOBuffer(byteCount: 8192)
            pattern.withUnsafeBytes { buffer.bytes.copyMemory(from: $0) }
            let count = pwrite(fd, buffer.bytes.baseAddress, 8192, 1 << 20)
            return count == 8192 && fsync(fd) == 0 ? count : -Int(errno)
        }
        #expect(written == 8192)
        let onDevice = try await reactor.run {
            let channel = try descriptor.makeChannel()
            let buffer = IOBuffer(byteCount: 8192)
            try await channel.read(buffer.vector(), offsetBlocks: 256)
            return Array(buffer.bytes)
        }
        #expect(onDevice == pattern)

        // A loop device with direct I/O over the file, and a filesystem on it.
        loop = try await run(["losetup", "--find", "--show", "--direct-io=on", "--sector-size", "4096", path])
        let loopDevice = try #require(loop)
        #expect(try await run(["cat", "/sys/block/\((loopDevice as NSString).lastPathComponent)/loop/dio"]) == "1")
        _ = try await run(["mkfs.ext4", "-q", "-F", loopDevice])
        _ = try await run(["mount", loopDevice, filesystem])
        _ = try await run(["dd", "if=/dev/urandom", "of=\(filesystem)/data", "bs=1M", "count=16", "status=none"])
        let checksum = try await run(["sha256sum", "\(filesystem)/data"])
        _ = try await run(["sync"])
        _ = try await run(["umount", filesystem])
        _ = try await run(["fsck.ext4", "-n", loopDevice])
        _ = try await run(["mount", loopDevice, filesystem])
        #expect(try await run(["sha256sum", "\(filesystem)/data"]) == checksum)
        _ = try await run(["umount", filesystem])

        // fio with verify on the raw loop device at QD32.
        _ = try await run([
            "fio", "--name=verify", "--filename=\(loopDevice)", "--direct=1", "--ioengine=io_uring", "--rw=randwrite",
            "--bs=4k", "--iodepth=32", "--size=32M", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1",
            "--output=/dev/null",
        ])
        _ = try await run(["losetup", "-d", loopDevice])
        loop = nil
        await bridge.unmount()
        #expect(!FileManager.default.fileExists(atPath: path))
        descriptor.close()
        try? FileManager.default.removeItem(atPath: base)
    }
}

struct FUSETestError: Error, CustomStringConvertible {
    let description: String
}
