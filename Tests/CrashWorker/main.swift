// A child process for the kill test: writes numbered blocks to an lvol on a file, flushing every
// few writes and reporting on stdout which writes are durable, and snapshots now and then, until
// it is killed. `CrashWorkload` in the test regenerates the same sequence from the seed.

import BlockCore
import BlockDevices
import Foundation
import LogicalVolumes
import StorageKit
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

nonisolated func runWorker() async throws {
    let arguments = CommandLine.arguments
    guard arguments.count == 3, let seed = UInt64(arguments[2]) else {
        FileHandle.standardError.write(Data("usage: hornbill-crash-worker PATH SEED\n".utf8))
        exit(2)
    }
    let reactor = try Reactor(name: "crash-worker")
    try await reactor.run {
        let device = try AIODevice(name: "aio0", path: arguments[1], blockSize: 4096)
        let store = try await LogicalVolumeStore.create(
            on: device, name: "crash", options: .init(clusterSize: 65536), executor: reactor)
        let lvol = try await store.createVolume(name: "v", sizeBytes: 16 * 1024 * 1024, thinProvisioned: true)
        let blocks = lvol.blockCount
        let channel = try lvol.makeChannel()
        let buffer = IOBuffer(byteCount: 4096)
        var random = SeededRandom(seed: seed)
        var snapshots: [LogicalVolume] = []
        emit("ready \(blocks)")
        var sequence: UInt64 = 0
        while true {
            sequence += 1
            let block = random.next() % blocks
            CrashRecord.fill(buffer.bytes, block: block, sequence: sequence)
            try await channel.write(buffer.vector(), offsetBlocks: block)
            if sequence % 8 == 0 {
                try await channel.flush()
                emit("durable \(sequence)")
            }
            if sequence % 200 == 0 {
                snapshots.append(try await store.snapshot(lvol, name: "snap\(sequence)"))
                if snapshots.count > 2 { try await store.delete(snapshots.removeFirst()) }
                emit("snapshot \(sequence)")
            }
        }
    }
}

func emit(_ line: String) {
    print(line)
    fflush(nil)
}


try await runWorker()
