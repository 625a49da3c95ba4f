// Kills a real process doing I/O on an lvol and checks, after reopening the lvstore, that every
// write reported durable is there and nothing else is wrong.

import BlockCore
import BlockDevices
import Foundation
import LogicalVolumes
import StorageKit
import TestSupport
import Testing

/// Path of a product built next to the test bundle.
func builtProduct(_ name: String) -> URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    if directory.lastPathComponent == "MacOS" {  // inside an .xctest bundle
        directory = directory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
    return directory.appendingPathComponent(name)
}

@Suite struct ProcessKillTests {
    @Test(arguments: [11, 12] as [UInt64])
    func sigkillDuringWritesLosesNothingDurable(seed: UInt64) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hornbill-kill-\(getpid())-\(seed).img").path
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 64 * 1024 * 1024)
        try handle.close()

        let worker = Process()
        worker.executableURL = builtProduct("hornbill-crash-worker")
        worker.arguments = [path, "\(seed)"]
        let output = Pipe()
        worker.standardOutput = output
        try worker.run()

        // Read progress lines until enough writes are durable, then kill at an arbitrary moment.
        var durable: UInt64 = 0
        var blocks: UInt64 = 0
        var pending = ""
        let target = 600 + seed * 37
        while durable < target {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            pending += String(decoding: chunk, as: UTF8.self)
            while let newline = pending.firstIndex(of: "\n") {
                let line = pending[..<newline]
                pending = String(pending[pending.index(after: newline)...])
                let words = line.split(separator: " ")
                if words.first == "ready" { blocks = UInt64(words[1])! }
                if words.first == "durable" { durable = UInt64(words[1])! }
            }
        }
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
        #expect(worker.terminationReason == .uncaughtSignal)
        #expect(durable >= target, "the worker stopped early")
        #expect(blocks > 0)

        // Regenerate the workload: which write each block last had by the durable point, and
        // which later writes may also have landed.
        var random = SeededRandom(seed: seed)
        var lastDurable: [UInt64: UInt64] = [:]
        var later: [UInt64: Set<UInt64>] = [:]
        for sequence in 1...(durable + 10_000) {
            let block = random.next() % blocks
            if sequence <= durable { lastDurable[block] = sequence } else { later[block, default: []].insert(sequence) }
        }

        let (blockCount, durableByBlock, laterByBlock) = (blocks, lastDurable, later)
        let reactor = try Reactor(name: "kill-check")
        defer { reactor.shutdown() }
        try await reactor.run {
            let device = try AIODevice(name: "aio0", path: path, blockSize: 4096)
            let store = try #require(try await LogicalVolumeStore.load(from: device, executor: reactor))
            #expect(!store.wasCleanlyClosed)
            let lvol = try #require(store.volume(named: "v"))
            let channel = try lvol.makeChannel()
            let buffer = IOBuffer(byteCount: 4096)
            let expectedBuffer = IOBuffer(byteCount: 4096)
            var checked = 0
            for block in 0..<blockCount {
                try await channel.read(buffer.vector(), offsetBlocks: block)
                let sequence = UInt64(littleEndian: buffer.bytes.load(fromByteOffset: 0, as: UInt64.self))
                let allowed = (durableByBlock[block].map { [$0] } ?? [0]) + (laterByBlock[block] ?? [])
                guard allowed.contains(sequence) else {
                    Issue.record("block \(block) holds write \(sequence); allowed \(allowed.sorted().prefix(5))")
                    continue
                }
                if sequence == 0 {
                    #expect(buffer.bytes.allSatisfy { $0 == 0 }, "block \(block) never written must be zero")
                } else {
                    CrashRecord.fill(expectedBuffer.bytes, block: block, sequence: sequence)
                    #expect(Array(buffer.bytes) == Array(expectedBuffer.bytes), "block \(block) write \(sequence) damaged")
                    checked += 1
                }
            }
            #expect(checked > 100)
            try await store.close()
        }
    }
}
