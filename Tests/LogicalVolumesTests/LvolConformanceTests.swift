import BlockCore
import BlockDevices
import LogicalVolumes
import TestSupport
import Testing

@Suite struct LvolConformanceTests {
    private static func store(megabytes: Int = 32, blockSize: Int = 4096) async throws -> LogicalVolumeStore {
        try await LogicalVolumeStore.create(
            on: try mallocDevice(megabytes: megabytes, blockSize: blockSize), name: "lvs",
            options: .init(clusterSize: 65536), executor: testReactor)
    }

    @Test(arguments: [512, 4096])
    func thinLvol(blockSize: Int) async throws {
        try await testReactor.run {
            try await BlockDeviceConformance(name: "thin lvol") {
                try await Self.store(blockSize: blockSize).createVolume(name: "thin", sizeBytes: 8 * 1024 * 1024, thinProvisioned: true)
            }.runAll()
        }
    }

    @Test func thickLvol() async throws {
        try await testReactor.run {
            try await BlockDeviceConformance(name: "thick lvol") {
                try await Self.store().createVolume(name: "thick", sizeBytes: 8 * 1024 * 1024, thinProvisioned: false)
            }.runAll()
        }
    }

    @Test func cloneOfASnapshotWithData() async throws {
        try await testReactor.run {
            try await BlockDeviceConformance(name: "clone", options: .init(initiallyZero: false)) {
                let store = try await Self.store()
                let origin = try await store.createVolume(name: "origin", sizeBytes: 8 * 1024 * 1024, thinProvisioned: true)
                try await write(origin, pattern(3, count: 8 * 1024 * 1024), atBlock: 0)
                let snapshot = try await store.snapshot(origin, name: "snap")
                return try await store.clone(snapshot, name: "clone")
            }.runAll()
        }
    }

    @Test func lvolOnAIOFile() async throws {
        let file = try TemporaryFile(size: 32 * 1024 * 1024)
        try await testReactor.run {
            try await BlockDeviceConformance(name: "lvol on aio") {
                let device = try AIODevice(name: "aio-\(Int.random(in: 0..<1_000_000))", path: file.path, blockSize: 4096)
                if let old = try await LogicalVolumeStore.load(from: device, executor: testReactor) { try await old.destroy() }
                let store = try await LogicalVolumeStore.create(
                    on: device, name: "lvs", options: .init(clusterSize: 65536), executor: testReactor)
                return try await store.createVolume(name: "v", sizeBytes: 8 * 1024 * 1024, thinProvisioned: true)
            }.runAll()
        }
        withExtendedLifetime(file) {}
    }
}
