import BlockCore
import BlockDevices
import Simulation
import Synchronization
import TestSupport
import Testing

/// Reactors for the aio tests: one with io_uring, one without (the worker-thread fallback).
let uringReactor: Reactor = {
    do { return try Reactor(name: "aio-uring") } catch { fatalError("\(error)") }
}()
let plainReactor: Reactor = {
    do { return try Reactor(name: "aio-plain", options: .init(useIOUring: false)) } catch { fatalError("\(error)") }
}()

@Suite struct ConformanceTests {
    @Test(arguments: [512, 4096])
    func malloc(blockSize: Int) async throws {
        try await BlockDeviceConformance(name: "malloc") {
            try MallocDevice(name: "Malloc0", blockCount: UInt64(8 * 1024 * 1024 / blockSize), blockSize: blockSize)
        }.runAll()
    }

    @Test func crashableDisk() async throws {
        try await BlockDeviceConformance(name: "crashable") {
            CrashableDisk(name: "disk", blockCount: 2048, blockSize: 4096)
        }.runAll()
    }

    @Test func aioThroughIOUring() async throws {
        #expect(uringReactor.usesIOUring, "io_uring unavailable: \(uringReactor.ioUringUnavailableReason ?? "")")
        let files = FileKeeper()
        try await uringReactor.run {
            try await BlockDeviceConformance(name: "aio io_uring") {
                let file = try files.keep(TemporaryFile(size: 16 * 1024 * 1024))
                return try AIODevice(name: "aio0", path: file.path, blockSize: 4096)
            }.runAll()
        }
    }

    @Test func aioThroughWorkerThreads() async throws {
        let files = FileKeeper()
        try await plainReactor.run {
            try await BlockDeviceConformance(name: "aio workers") {
                let file = try files.keep(TemporaryFile(size: 16 * 1024 * 1024))
                return try AIODevice(name: "aio0", path: file.path, blockSize: 512)
            }.runAll()
        }
    }

    @Test func aioOffAnyReactor() async throws {
        let files = FileKeeper()
        try await BlockDeviceConformance(name: "aio no reactor") {
            let file = try files.keep(TemporaryFile(size: 4 * 1024 * 1024))
            return try AIODevice(name: "aio0", path: file.path)
        }.runAll()
    }
}

/// Keeps temporary files alive until the test ends.
final class FileKeeper: Sendable {
    private let files = Mutex<[TemporaryFile]>([])

    func keep(_ file: TemporaryFile) -> TemporaryFile {
        files.withLock { $0.append(file) }
        return file
    }
}
