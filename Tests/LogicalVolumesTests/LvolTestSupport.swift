import BlockCore
import BlockDevices
import Foundation
import LogicalVolumes
import StorageKit

/// A reactor shared by the tests of this file set; lvstores are confined to it.
let testReactor: Reactor = {
    do { return try Reactor(name: "lvol-tests") } catch { fatalError("cannot start the test reactor: \(error)") }
}()

/// A malloc device of `megabytes` MiB.
func mallocDevice(megabytes: Int, blockSize: Int = 4096, name: String = "Malloc0") throws -> MallocDevice {
    try MallocDevice(name: name, blockCount: UInt64(megabytes * 1024 * 1024 / blockSize), blockSize: blockSize)
}

/// Writes `bytes` at `offsetBlocks` through a fresh channel.
func write(_ device: any BlockDevice, _ bytes: [UInt8], atBlock offsetBlocks: UInt64) async throws {
    let buffer = IOBuffer(byteCount: bytes.count)
    bytes.withUnsafeBytes { buffer.bytes.copyMemory(from: $0) }
    let channel = try device.makeChannel()
    for start in stride(from: 0, to: bytes.count, by: BlockLimits.maxIOBytes) {
        let count = min(BlockLimits.maxIOBytes, bytes.count - start)
        let piece = UnsafeMutableRawBufferPointer(rebasing: buffer.bytes[start..<(start + count)])
        try await channel.write(.single(piece), offsetBlocks: offsetBlocks + UInt64(start / device.blockSize))
    }
}

/// Reads `count` bytes at `offsetBlocks` through a fresh channel.
func read(_ device: any BlockDevice, count: Int, atBlock offsetBlocks: UInt64) async throws -> [UInt8] {
    let buffer = IOBuffer(byteCount: count)
    let channel = try device.makeChannel()
    for start in stride(from: 0, to: count, by: BlockLimits.maxIOBytes) {
        let length = min(BlockLimits.maxIOBytes, count - start)
        let piece = UnsafeMutableRawBufferPointer(rebasing: buffer.bytes[start..<(start + length)])
        try await channel.read(.single(piece), offsetBlocks: offsetBlocks + UInt64(start / device.blockSize))
    }
    return Array(buffer.bytes)
}

func pattern(_ seed: UInt64, count: Int) -> [UInt8] {
    var random = SeededRandom(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { random.fill($0) }
    return bytes
}

extension BlockError.Code {
    /// Matches an error thrown by `body` against this code.
    func matches(_ error: any Error) -> Bool { (error as? BlockError)?.code == self }
}

/// The BlockError code `body` throws, or nil when it does not throw.
func errorCode(_ body: () async throws -> Void) async -> BlockError.Code? {
    do {
        try await body()
        return nil
    } catch let error as BlockError {
        return error.code
    } catch {
        return .ioError
    }
}
