// Model-based test: seeded random operations on an lvstore, checked after every step against a
// plain in-memory model of what each lvol must read back.

import BlockCore
import BlockDevices
@testable import LogicalVolumes
import StorageKit
import Testing

/// What one lvol must contain.
private struct ModelVolume {
    var content: [UInt8]
    var parent: String?
    var readOnly: Bool
    var thick: Bool
}

private struct Model {
    var volumes: [String: ModelVolume] = [:]

    func clones(of name: String) -> [String] { volumes.filter { $0.value.parent == name }.map(\.key).sorted() }
}

@Suite struct LvolModelTests {
    static let clusterSize = 8192
    static let blockSize = 512

    @Test(arguments: Array(1...8) as [UInt64])
    func randomOperationsMatchTheModel(seed: UInt64) async throws {
        var random = SeededRandom(seed: seed)
        let device = try MallocDevice(name: "Malloc\(seed)", blockCount: 8 * 1024 * 1024 / 512, blockSize: Self.blockSize)
        var store = try await LogicalVolumeStore.create(
            on: device, name: "model",
            options: .init(clusterSize: Self.clusterSize, clearMethod: .unmap, metadataPagesPerClusterPercent: 5),
            executor: testReactor)
        var model = Model()
        var nextName = 0
        var operations = 0

        func volume(_ name: String) throws -> LogicalVolume { try #require(store.volume(named: name)) }
        func pick(_ filter: (ModelVolume) -> Bool) -> String? {
            let names = model.volumes.filter { filter($0.value) }.map(\.key).sorted()
            return names.isEmpty ? nil : names[Int.random(in: 0..<names.count, using: &random)]
        }
        func randomRange(size: Int) -> (offset: Int, count: Int) {
            let blocks = size / Self.blockSize
            let start = Int.random(in: 0..<blocks, using: &random)
            let count = Int.random(in: 1...min(blocks - start, 3 * Self.clusterSize / Self.blockSize), using: &random)
            return (start * Self.blockSize, count * Self.blockSize)
        }

        for _ in 0..<400 {
            operations += 1
            let choice = Int.random(in: 0..<100, using: &random)
            switch choice {
            case 0..<10 where model.volumes.count < 12:
                let name = "v\(nextName)"
                nextName += 1
                let clusters = Int.random(in: 1...8, using: &random)
                let thick = Bool.random(using: &random)
                _ = try await store.createVolume(
                    name: name, sizeBytes: UInt64(clusters * Self.clusterSize - Int.random(in: 0..<512, using: &random)),
                    thinProvisioned: !thick)
                model.volumes[name] = ModelVolume(
                    content: [UInt8](repeating: 0, count: clusters * Self.clusterSize), parent: nil, readOnly: false,
                    thick: thick)
            case 0..<45:
                guard let name = pick({ !$0.readOnly }) else { continue }
                let (offset, count) = randomRange(size: model.volumes[name]!.content.count)
                var data = [UInt8](repeating: 0, count: count)
                data.withUnsafeMutableBytes { random.fill($0) }
                try await write(try volume(name), data, atBlock: UInt64(offset / Self.blockSize))
                model.volumes[name]!.content.replaceSubrange(offset..<(offset + count), with: data)
            case 45..<60:
                guard let name = pick({ _ in true }) else { continue }
                let (offset, count) = randomRange(size: model.volumes[name]!.content.count)
                let data = try await read(try volume(name), count: count, atBlock: UInt64(offset / Self.blockSize))
                #expect(data == Array(model.volumes[name]!.content[offset..<(offset + count)]), "read \(name) seed \(seed) op \(operations)")
            case 60..<68:
                guard let name = pick({ !$0.readOnly }) else { continue }
                let (offset, count) = randomRange(size: model.volumes[name]!.content.count)
                let channel = try volume(name).makeChannel()
                if Bool.random(using: &random) {
                    try await channel.unmap(offsetBlocks: UInt64(offset / Self.blockSize), blockCount: UInt64(count / Self.blockSize))
                } else {
                    try await channel.writeZeroes(offsetBlocks: UInt64(offset / Self.blockSize), blockCount: UInt64(count / Self.blockSize))
                }
                model.volumes[name]!.content.replaceSubrange(offset..<(offset + count), with: repeatElement(0, count: count))
            case 68..<75 where model.volumes.count < 12:
                guard let name = pick({ !$0.readOnly }) else { continue }
                let snapshotName = "s\(nextName)"
                nextName += 1
                _ = try await store.snapshot(try volume(name), name: snapshotName)
                let origin = model.volumes[name]!
                model.volumes[snapshotName] = ModelVolume(content: origin.content, parent: origin.parent, readOnly: true, thick: false)
                model.volumes[name]!.parent = snapshotName
                model.volumes[name]!.thick = false
            case 75..<80 where model.volumes.count < 12:
                guard let name = pick({ $0.readOnly }) else { continue }
                let cloneName = "c\(nextName)"
                nextName += 1
                _ = try await store.clone(try volume(name), name: cloneName)
                model.volumes[cloneName] = ModelVolume(content: model.volumes[name]!.content, parent: name, readOnly: false, thick: false)
            case 80..<86:
                guard let name = pick({ !$0.readOnly }) else { continue }
                let clusters = Int.random(in: 1...8, using: &random)
                try await store.resize(try volume(name), sizeBytes: UInt64(clusters * Self.clusterSize))
                var entry = model.volumes[name]!
                let newSize = clusters * Self.clusterSize
                if newSize < entry.content.count {
                    entry.content.removeLast(entry.content.count - newSize)
                } else {
                    // Grown space shows the parent's data where the parent reaches, else zeroes.
                    for offset in entry.content.count..<newSize {
                        if let parent = entry.parent, let parentContent = model.volumes[parent]?.content,
                            offset < parentContent.count
                        {
                            entry.content.append(parentContent[offset])
                        } else {
                            entry.content.append(0)
                        }
                    }
                }
                model.volumes[name] = entry
            case 86..<94:
                guard let name = pick({ _ in true }) else { continue }
                let clones = model.clones(of: name)
                if clones.count >= 2 {
                    #expect(await errorCode { try await store.delete(try volume(name)) } == .busy)
                    continue
                }
                try await store.delete(try volume(name))
                if let clone = clones.first { model.volumes[clone]!.parent = model.volumes[name]!.parent }
                model.volumes[name] = nil
            case 94..<97:
                try await store.close()
                store = try #require(try await LogicalVolumeStore.load(from: device, executor: testReactor))
                #expect(store.wasCleanlyClosed)
            case 97..<100:
                store.abandon()
                store = try #require(try await LogicalVolumeStore.load(from: device, executor: testReactor))
                #expect(!store.wasCleanlyClosed)
            default:
                continue
            }
            try await verify(store: store, model: model, context: "seed \(seed) op \(operations)")
        }
    }

    private func verify(store: LogicalVolumeStore, model: Model, context: String) async throws {
        let volumes = store.volumes
        #expect(Set(volumes.map(\.lvolName)) == Set(model.volumes.keys), "\(context): lvol set")
        var owned: UInt64 = 0
        for volume in volumes {
            guard let expected = model.volumes[volume.lvolName] else { continue }
            owned += volume.allocatedClusters
            #expect(volume.byteCount == UInt64(expected.content.count), "\(context): size of \(volume.lvolName)")
            #expect(volume.isReadOnly == expected.readOnly, "\(context): read-only \(volume.lvolName)")
            #expect(volume.parent?.lvolName == expected.parent, "\(context): parent of \(volume.lvolName)")
            if expected.thick { #expect(volume.allocatedClusters == UInt64(expected.content.count / Self.clusterSize)) }
            let data = try await read(volume, count: expected.content.count, atBlock: 0)
            if data != expected.content {
                let first = zip(data, expected.content).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1
                Issue.record("\(context): \(volume.lvolName) differs first at byte \(first)")
            }
        }
        #expect(store.freeClusters == store.totalDataClusters - owned, "\(context): free clusters")
        try await withTaskExecutorPreference(store.executor) { try store.state.validate() }
    }
}
