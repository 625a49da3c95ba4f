// Fuzzing the metadata decoders: random and mutated bytes in the superblock, checkpoints and
// journal must give a load that either succeeds with a valid state or throws `.corrupted` (or
// finds no lvstore); never a trap, a hang or an invalid state.

import BlockCore
import BlockDevices
@testable import LogicalVolumes
import Simulation
import StorageKit
import Testing

@Suite struct MetadataFuzzTests {
    @Test func randomBytesNeverCrashTheDecoders() {
        var random = SeededRandom(seed: 42)
        for length in [0, 1, 7, 8, 64, 200, 4096] {
            for _ in 0..<300 {
                var bytes = [UInt8](repeating: 0, count: length)
                bytes.withUnsafeMutableBytes { random.fill($0) }
                _ = try? MetadataState.decode(bytes, context: "fuzz")
                var reader = MetadataReader(bytes, context: "fuzz")
                _ = try? MetadataRecord.decode(from: &reader)
                _ = try? Superblock.decode(FormatConstants.superblockMagic + bytes, deviceName: "fuzz")
            }
        }
    }

    @Test func mutatedEncodingsAreRefusedOrValid() throws {
        var state = MetadataState(storeName: "lvs", totalClusters: 64, firstDataCluster: 2, nextLvolID: 1, lvols: [:])
        let header = LvolHeader(
            id: 1, uuid: Array(repeating: 7, count: 16), name: "v", flags: [.thinProvisioned], sizeClusters: 8,
            parentID: 0, clearMethod: .unmap, creationTime: "2026-11-25T00:00:00Z", xattrs: ["k": [1, 2, 3]])
        try state.apply(.putLvol(header))
        try state.apply(.mapClusters(id: 1, entries: [(0, 5), (3, 9)]))
        let encoded = state.encode()
        #expect(try MetadataState.decode(encoded, context: "round trip") == state)
        var random = SeededRandom(seed: 7)
        for _ in 0..<3000 {
            var mutated = encoded
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                mutated[Int.random(in: 0..<mutated.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if Bool.random(using: &random) { mutated.removeLast(Int.random(in: 0..<mutated.count, using: &random)) }
            if let decoded = try? MetadataState.decode(mutated, context: "fuzz") {
                // Decoding is structural; validation is what load relies on.
                _ = try? decoded.validate()
            }
        }
    }

    @Test func damagedMetadataRegionsLoadOrAreRefused() async throws {
        let disk = CrashableDisk(name: "disk", blockCount: 4096, blockSize: 4096)
        let store = try await LogicalVolumeStore.create(
            on: disk, name: "lvs", options: .init(clusterSize: 65536), executor: testReactor)
        let volume = try await store.createVolume(name: "a", sizeBytes: 1 << 20, thinProvisioned: true)
        try await write(volume, pattern(1, count: 65536), atBlock: 0)
        _ = try await store.snapshot(volume, name: "s")
        try await store.setXattr(volume, name: "k", value: [1, 2, 3])
        let superblock = store.superblock
        store.abandon()
        let metadataBlocks = Int((superblock.journalOffset + superblock.journalBytes) / 4096)

        var random = SeededRandom(seed: 99)
        var loaded = 0
        var refused = 0
        for _ in 0..<150 {
            let copy = disk.cleanCopy()
            let channel = try copy.makeChannel()
            let buffer = IOBuffer(byteCount: 4096)
            // Damage one to three metadata pages: a flipped byte, or the page overwritten with noise.
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let block = UInt64(Int.random(in: 0..<min(metadataBlocks, 40), using: &random))
                try await channel.read(buffer.vector(), offsetBlocks: block)
                if Bool.random(using: &random) {
                    buffer.bytes[Int.random(in: 0..<4096, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                } else {
                    random.fill(buffer.bytes)
                }
                try await channel.write(buffer.vector(), offsetBlocks: block)
            }
            do {
                if let survivor = try await LogicalVolumeStore.load(from: copy, executor: testReactor) {
                    try await withTaskExecutorPreference(testReactor) { try survivor.state.validate() }
                    loaded += 1
                    survivor.abandon()
                }
            } catch let error as BlockError {
                #expect(error.code == .corrupted, "unexpected \(error)")
                refused += 1
            }
        }
        #expect(loaded > 0 && refused > 0)
    }
}
