import BlockCore
import BlockDevices
import RAID
import TestSupport
import Testing

/// The shared block device suite (design/STYLE.md #10) on RAID1 arrays of several shapes.
@Suite struct RAID1ConformanceTests {
    @Test(arguments: [512, 4096])
    func twoMallocLegs(blockSize: Int) async throws {
        try await BlockDeviceConformance(name: "raid1 x2") {
            try RAID1Device(
                name: "raid0",
                baseDevices: [
                    try MallocDevice(name: "Malloc0", blockCount: UInt64(4 * 1024 * 1024 / blockSize), blockSize: blockSize),
                    try MallocDevice(name: "Malloc1", blockCount: UInt64(4 * 1024 * 1024 / blockSize), blockSize: blockSize),
                ])
        }.runAll()
    }

    @Test func oneLeg() async throws {
        try await BlockDeviceConformance(name: "raid1 x1") {
            try RAID1Device(name: "raid0", baseDevices: [try MallocDevice(name: "Malloc0", blockCount: 2048, blockSize: 4096)])
        }.runAll()
    }

    /// Three legs take the task-group fan-out; the array is as large as its smallest leg.
    @Test func threeLegsOfDifferentSizes() async throws {
        try await BlockDeviceConformance(name: "raid1 x3") {
            let raid = try RAID1Device(
                name: "raid0",
                baseDevices: [
                    try MallocDevice(name: "Malloc0", blockCount: 3000, blockSize: 512),
                    try MallocDevice(name: "Malloc1", blockCount: 2048, blockSize: 512),
                    try MallocDevice(name: "Malloc2", blockCount: 4096, blockSize: 512),
                ])
            #expect(raid.blockCount == 2048)
            return raid
        }.runAll()
    }

    /// Legs without write-zeroes or unmap: write-zeroes is emulated with zero-filled writes, and
    /// unmap is not offered.
    @Test func legsWithoutWriteZeroesOrUnmap() async throws {
        try await BlockDeviceConformance(name: "raid1 emulated write-zeroes") {
            try RAID1Device(
                name: "raid0",
                baseDevices: [
                    LimitedDevice(try MallocDevice(name: "Malloc0", blockCount: 4096, blockSize: 4096), without: [.writeZeroes, .unmap]),
                    LimitedDevice(try MallocDevice(name: "Malloc1", blockCount: 4096, blockSize: 4096), without: [.writeZeroes]),
                ])
        }.runAll()
    }

    @Test func onAReactor() async throws {
        try await raidReactor.run {
            try await BlockDeviceConformance(name: "raid1 on a reactor") {
                try RAID1Device(
                    name: "raid0",
                    baseDevices: [
                        try MallocDevice(name: "Malloc0", blockCount: 2048, blockSize: 4096),
                        DelayDevice(
                            wrapping: try MallocDevice(name: "Malloc1", blockCount: 2048, blockSize: 4096), name: "slow",
                            read: .microseconds(50), write: .microseconds(50)),
                    ])
            }.runAll()
        }
    }
}
