// Crash consistency: a seeded workload of metadata operations and data writes runs on a disk that
// loses or tears whatever was not flushed when its power is cut; the cut falls at hundreds of
// points. After each cut the lvstore is loaded from what survived and checked against the
// durability contract of docs/lvstore-format.md.

import BlockCore
import BlockDevices
@testable import LogicalVolumes
import Simulation
import StorageKit
import Testing

/// What the workload knows was acknowledged, and what may or may not have landed.
private struct Acknowledged {
    struct Volume {
        var blocks: Int
        var readOnly: Bool
        /// Per block: the tag that is durable, and tags written since the last flush.
        var durable: [UInt64]
        var pending: [Set<UInt64>]
        var xattr: String?
    }

    var storeCreated = false
    var volumes: [String: Volume] = [:]
    /// The operation under way when the power went: its outcome may be either.
    var inFlight: InFlight?

    enum InFlight {
        case create(String)
        case delete(String)
        case snapshot(of: String, name: String)
        case resize(String, from: Int, to: Int)
        case xattr(String, value: String)
        case other
    }

    mutating func flushAll() {
        for name in volumes.keys {
            for block in 0..<volumes[name]!.blocks where !volumes[name]!.pending[block].isEmpty {
                // Sequential workload: the last pending tag is the newest.
                volumes[name]!.durable[block] = volumes[name]!.pending[block].max()!
                volumes[name]!.pending[block] = []
            }
        }
    }
}

private let blockSize = 4096
private let clusterSize = 65536
private let blocksPerCluster = clusterSize / blockSize

/// Tags are unique and increasing, so the newest pending write is the largest tag.
private func fill(_ buffer: IOBuffer, tag: UInt64) {
    var random = SeededRandom(seed: tag)
    random.fill(buffer.bytes)
    buffer.bytes.storeBytes(of: tag.littleEndian, toByteOffset: 0, as: UInt64.self)
}

private func runWorkload(disk: any BlockDevice, seed: UInt64, log: inout Acknowledged) async throws {
    var random = SeededRandom(seed: seed)
    var tag: UInt64 = 0
    let store = try await LogicalVolumeStore.create(
        on: disk, name: "crash", options: .init(clusterSize: clusterSize), executor: testReactor)
    log.storeCreated = true
    let buffer = IOBuffer(byteCount: blockSize)
    var nextName = 0
    for _ in 0..<60 {
        let writable = log.volumes.filter { !$0.value.readOnly }.map(\.key).sorted()
        let choice = Int.random(in: 0..<100, using: &random)
        if writable.isEmpty || (choice < 10 && log.volumes.count < 5) {
            let name = "v\(nextName)"
            nextName += 1
            log.inFlight = .create(name)
            _ = try await store.createVolume(name: name, sizeBytes: UInt64(4 * clusterSize), thinProvisioned: true)
            log.volumes[name] = .init(
                blocks: 4 * blocksPerCluster, readOnly: false, durable: Array(repeating: 0, count: 4 * blocksPerCluster),
                pending: Array(repeating: [], count: 4 * blocksPerCluster))
        } else if choice < 70 {
            let name = writable[Int.random(in: 0..<writable.count, using: &random)]
            let block = Int.random(in: 0..<log.volumes[name]!.blocks, using: &random)
            tag += 1
            fill(buffer, tag: tag)
            log.inFlight = .other
            log.volumes[name]!.pending[block].insert(tag)
            let volume = try #require(store.volume(named: name))
            try await volume.makeChannel().write(buffer.vector(), offsetBlocks: UInt64(block))
        } else if choice < 82 {
            let name = writable[Int.random(in: 0..<writable.count, using: &random)]
            log.inFlight = .other
            try await #require(store.volume(named: name)).makeChannel().flush()
            log.flushAll()
        } else if choice < 88, log.volumes.count < 6 {
            let name = writable[Int.random(in: 0..<writable.count, using: &random)]
            let snapshot = "s\(nextName)"
            nextName += 1
            log.inFlight = .snapshot(of: name, name: snapshot)
            _ = try await store.snapshot(try #require(store.volume(named: name)), name: snapshot)
            var copy = log.volumes[name]!
            copy.readOnly = true
            copy.xattr = nil
            log.volumes[snapshot] = copy
        } else if choice < 93 {
            // Delete a snapshot with at most one clone, or a writable lvol without clones.
            let candidates = log.volumes.keys.sorted().filter { name in
                let volume = store.volume(named: name)!
                return volume.clones.count <= (volume.isSnapshot ? 1 : 0)
            }
            guard let name = candidates.first else { continue }
            log.inFlight = .delete(name)
            try await store.delete(try #require(store.volume(named: name)))
            log.volumes[name] = nil
        } else if choice < 97 {
            let name = writable[Int.random(in: 0..<writable.count, using: &random)]
            let old = log.volumes[name]!.blocks
            guard old < 8 * blocksPerCluster else { continue }
            let new = old + blocksPerCluster
            log.inFlight = .resize(name, from: old, to: new)
            try await store.resize(try #require(store.volume(named: name)), sizeBytes: UInt64(new * blockSize))
            log.volumes[name]!.blocks = new
            log.volumes[name]!.durable += Array(repeating: 0, count: blocksPerCluster)
            log.volumes[name]!.pending += Array(repeating: [], count: blocksPerCluster)
        } else {
            let name = writable[Int.random(in: 0..<writable.count, using: &random)]
            let value = "x\(tag)"
            log.inFlight = .xattr(name, value: value)
            try await store.setXattr(try #require(store.volume(named: name)), name: "user", value: Array(value.utf8))
            log.volumes[name]!.xattr = value
        }
        log.inFlight = nil
    }
    try await store.close()
}

/// Checks a store loaded after a power cut against what was acknowledged.
private func check(_ store: LogicalVolumeStore?, against log: Acknowledged, context: String) async throws {
    guard log.storeCreated else {
        if let store { #expect(store.volumes.isEmpty, "\(context): a store whose create never returned has lvols") }
        return
    }
    let store = try #require(store, "\(context): an acknowledged store did not load")
    try await withTaskExecutorPreference(testReactor) { try store.state.validate() }
    let loaded = Dictionary(uniqueKeysWithValues: store.volumes.map { ($0.lvolName, $0) })
    var expected = log.volumes
    switch log.inFlight {
    case .create(let name):
        if loaded[name] != nil {
            expected[name] = .init(
                blocks: 4 * blocksPerCluster, readOnly: false, durable: Array(repeating: 0, count: 4 * blocksPerCluster),
                pending: Array(repeating: [], count: 4 * blocksPerCluster))
        }
    case .delete(let name):
        if loaded[name] == nil { expected[name] = nil }
    case .snapshot(let origin, let name):
        if loaded[name] != nil {
            var copy = log.volumes[origin]!
            copy.readOnly = true
            copy.xattr = nil
            expected[name] = copy
        }
    case .resize(let name, _, let to):
        if let volume = loaded[name], volume.blockCount == UInt64(to) {
            let added = to - expected[name]!.blocks
            expected[name]!.blocks = to
            expected[name]!.durable += Array(repeating: 0, count: added)
            expected[name]!.pending += Array(repeating: [], count: added)
        }
    case .xattr(let name, let value):
        if let volume = loaded[name], volume.xattr("user") == Array(value.utf8) { expected[name]!.xattr = value }
    case .other, nil:
        break
    }
    #expect(Set(loaded.keys) == Set(expected.keys), "\(context): lvols")
    let buffer = IOBuffer(byteCount: blockSize)
    for (name, want) in expected {
        guard let volume = loaded[name] else { continue }
        #expect(volume.blockCount == UInt64(want.blocks), "\(context): size of \(name)")
        #expect(volume.isReadOnly == want.readOnly, "\(context): read-only \(name)")
        #expect(volume.xattr("user").map { String(decoding: $0, as: UTF8.self) } == want.xattr, "\(context): xattr of \(name)")
        let channel = try volume.makeChannel()
        for block in 0..<want.blocks {
            try await channel.read(buffer.vector(), offsetBlocks: UInt64(block))
            let tag = UInt64(littleEndian: buffer.bytes.load(as: UInt64.self))
            let allowed = want.pending[block].union([want.durable[block]])
            guard allowed.contains(tag) else {
                Issue.record("\(context): \(name) block \(block) holds tag \(tag); allowed \(allowed.sorted())")
                return
            }
            if tag == 0 {
                #expect(buffer.bytes.allSatisfy { $0 == 0 }, "\(context): \(name) block \(block) not zero")
            } else {
                let reference = IOBuffer(byteCount: blockSize)
                fill(reference, tag: tag)
                #expect(Array(buffer.bytes) == Array(reference.bytes), "\(context): \(name) block \(block) damaged")
            }
        }
    }
}

@Suite struct LvolCrashTests {
    /// Seeds × cut points per seed: 100 × 5 = 500 power cuts.
    static let seeds: [UInt64] = Array(1...100)
    static let cutsPerSeed = 5

    @Test(arguments: seeds)
    func powerCutsKeepTheDurabilityContract(seed: UInt64) async throws {
        // One uncut run counts the device operations the workload makes.
        let reference = CrashableDisk(name: "disk", blockCount: UInt64(16 * 1024 * 1024 / blockSize), blockSize: blockSize)
        var uncut = Acknowledged()
        try await runWorkload(disk: reference, seed: seed, log: &uncut)
        let operations = reference.operationCount
        try await check(
            try await LogicalVolumeStore.load(from: reference, executor: testReactor), against: uncut,
            context: "seed \(seed) uncut")

        var random = SeededRandom(seed: seed &* 7919)
        for cut in 0..<Self.cutsPerSeed {
            let cutAfter = Int.random(in: 0..<operations, using: &random)
            let disk = CrashableDisk(name: "disk", blockCount: UInt64(16 * 1024 * 1024 / blockSize), blockSize: blockSize)
            disk.powerCutAfter(operations: cutAfter)
            var log = Acknowledged()
            do {
                try await runWorkload(disk: disk, seed: seed, log: &log)
            } catch let error as BlockError where error.code == .ioError {
                // The power cut.
            }
            let survivor = disk.afterPowerCut(seed: seed &* 31 &+ UInt64(cut))
            let context = "seed \(seed) cut \(cut) after \(cutAfter) of \(operations) operations"
            let store: LogicalVolumeStore?
            do {
                store = try await LogicalVolumeStore.load(from: survivor, executor: testReactor)
            } catch {
                Issue.record("\(context): load failed: \(error)")
                continue
            }
            try await check(store, against: log, context: context)
            store?.abandon()
        }
    }
}
