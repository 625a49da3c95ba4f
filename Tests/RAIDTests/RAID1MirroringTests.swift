import BlockCore
import BlockDevices
import Foundation
import RAID
import Testing

/// What a healthy mirror does: every leg holds the same data, bases are claimed, legs come and go.
@Suite struct RAID1MirroringTests {
    @Test func writesLandIdenticallyOnEveryLeg() async throws {
        let mirror = try TestMirror(legs: 3)
        let channel = try mirror.raid.makeChannel()
        let data = (0..<(8 * 512)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        try await write(data, to: channel, at: 100)
        for leg in 0..<3 { #expect(try await mirror.onDisk(leg, block: 100, blocks: 8) == data, "leg \(leg)") }
        #expect(try await read(data.count, from: channel, at: 100) == data)

        try await channel.unmap(offsetBlocks: 101, blockCount: 2)
        try await channel.flush()
        for leg in 0..<3 {
            #expect(try await mirror.onDisk(leg, block: 101, blocks: 2) == filled(0, blocks: 2, blockSize: 512))
            #expect(try await mirror.onDisk(leg, block: 103, blocks: 5) == Array(data[(3 * 512)...]))
        }
    }

    @Test func writeZeroesUsesTheLegsOwnWhenAllHaveIt() async throws {
        let mirror = try TestMirror(legs: 2)
        let channel = try mirror.raid.makeChannel()
        try await write(filled(0xAB, blocks: 16, blockSize: 512), to: channel, at: 0)
        let writesBefore = mirror.writesTaken(by: 0)
        try await channel.writeZeroes(offsetBlocks: 4, blockCount: 8)
        #expect(mirror.writesTaken(by: 0) == writesBefore)  // no zero-filled writes were sent
        for leg in 0..<2 {
            #expect(try await mirror.onDisk(leg, block: 4, blocks: 8) == filled(0, blocks: 8, blockSize: 512))
            #expect(try await mirror.onDisk(leg, block: 12, blocks: 4) == filled(0xAB, blocks: 4, blockSize: 512))
        }
    }

    /// Without write-zeroes on every leg, zeroes are written from a 1 MiB buffer, piece by piece.
    @Test func writeZeroesIsEmulatedWithZeroFilledWrites() async throws {
        let disks = try (0..<2).map { try MallocDevice(name: "Malloc\($0)", blockCount: 1024, blockSize: 4096) }
        let legs = [LimitedDevice(disks[0], without: .writeZeroes), LimitedDevice(disks[1], without: [])]
        let raid = try RAID1Device(name: "raid0", baseDevices: legs)
        #expect(!raid.supportedIOTypes.contains(.writeZeroes))
        let channel = try raid.makeChannel()
        try await write(filled(0x5A, blocks: 700, blockSize: 4096), to: channel, at: 0)
        try await channel.writeZeroes(offsetBlocks: 1, blockCount: 600)  // 2.3 MiB: three writes
        #expect(legs[0].ioControl.statistics.snapshot[.write].operations == 1 + 3)
        for disk in disks {
            #expect(try await readBlocks(disk, block: 1, blocks: 600) == filled(0, blocks: 600, blockSize: 4096))
            #expect(try await readBlocks(disk, block: 0) == filled(0x5A, blocks: 1, blockSize: 4096))
            #expect(try await readBlocks(disk, block: 601, blocks: 99) == filled(0x5A, blocks: 99, blockSize: 4096))
        }
    }

    @Test func advertisesWhatEveryLegSupportsButNeverWriteZeroes() throws {
        let mirror = try TestMirror()
        #expect(mirror.raid.supportedIOTypes == [.read, .write, .unmap, .flush, .reset])
        #expect(mirror.raid.productName == "Raid Volume")

        let noUnmap = LimitedDevice(try MallocDevice(name: "Malloc9", blockCount: 1024, blockSize: 512), without: .unmap)
        let raid = try RAID1Device(
            name: "raid1", baseDevices: [try MallocDevice(name: "Malloc8", blockCount: 1024, blockSize: 512), noUnmap])
        #expect(raid.supportedIOTypes == [.read, .write, .flush, .reset])
    }

    @Test func unmapIsRefusedWhenALegCannotUnmap() async throws {
        let raid = try RAID1Device(
            name: "raid0",
            baseDevices: [
                try MallocDevice(name: "Malloc0", blockCount: 64, blockSize: 512),
                LimitedDevice(try MallocDevice(name: "Malloc1", blockCount: 64, blockSize: 512), without: .unmap),
            ])
        let channel = try raid.makeChannel()
        await #expect(throws: BlockError(.notSupported, "raid raid0 cannot unmap: not every base device supports it")) {
            try await channel.unmap(offsetBlocks: 0, blockCount: 1)
        }
        #expect(raid.snapshot.operationalCount == 2)  // a refused unmap fails no leg
    }

    @Test func geometryIsTheSmallestLegsAndOutOfRangeIOFailsNoLeg() async throws {
        let raid = try RAID1Device(
            name: "raid0",
            baseDevices: [
                try MallocDevice(name: "Malloc0", blockCount: 100, blockSize: 4096),
                try MallocDevice(name: "Malloc1", blockCount: 80, blockSize: 4096),
            ])
        #expect(raid.blockSize == 4096 && raid.blockCount == 80)
        let channel = try raid.makeChannel()
        // Block 90 exists on Malloc0 but not in the array.
        await #expect(throws: BlockError.self) { try await write(filled(1, blocks: 1, blockSize: 4096), to: channel, at: 90) }
        #expect(raid.snapshot.slots.map(\.isConfigured) == [true, true])
        #expect(raid.snapshot.slots.map(\.dataSizeBlocks) == [80, 80])
    }

    @Test func snapshotReportsSlotsAndCounts() async throws {
        let uuid = UUID()
        let disks = try (0..<2).map { try MallocDevice(name: "Malloc\($0)", blockCount: 64, blockSize: 512) }
        let raid = try RAID1Device(name: "engine-a", baseDevices: disks, uuid: uuid)
        var snapshot = raid.snapshot
        #expect(snapshot.name == "engine-a" && snapshot.uuid == uuid && snapshot.state == .online)
        #expect(snapshot.level == "raid1" && snapshot.stripSizeKiB == 0)
        #expect(snapshot.slotCount == 2 && snapshot.discoveredCount == 2 && snapshot.operationalCount == 2)
        #expect(snapshot.slots[1] == .init(name: "Malloc1", uuid: disks[1].uuid, isConfigured: true, dataOffsetBlocks: 0, dataSizeBlocks: 64))

        try await raid.removeBase(named: "Malloc0")
        snapshot = raid.snapshot
        #expect(snapshot.state == .online)
        #expect(snapshot.slotCount == 2 && snapshot.discoveredCount == 1 && snapshot.operationalCount == 1)
        #expect(snapshot.slots[0] == .init(name: nil, uuid: RAID1Snapshot.zeroUUID, isConfigured: false, dataOffsetBlocks: 0, dataSizeBlocks: 64))
    }

    // MARK: - Claims

    @Test func basesAreClaimedWhileMembersAndFreedAfter() async throws {
        let disks = try (0..<3).map { try MallocDevice(name: "Malloc\($0)", blockCount: 64, blockSize: 512) }
        let raid = try RAID1Device(name: "raid0", baseDevices: [disks[0], disks[1]])
        #expect(disks[0].claims.current.claimant == "raid")
        #expect(raid.hasBase(disks[0]) && !raid.hasBase(disks[2]))

        // A base of one array cannot go into another, nor be opened for writing.
        let error = #expect(throws: BlockError.self) { try RAID1Device(name: "raid1", baseDevices: [disks[2], disks[1]]) }
        #expect(error?.code == .claimed)
        #expect(error?.message.contains("raid raid1 cannot use Malloc1") == true)
        #expect(isFree(disks[2]))  // nothing left half-claimed
        #expect(throws: BlockError.self) { try BlockDescriptor(disks[1], writable: true) }

        try await raid.removeBase(named: "Malloc1")
        #expect(isFree(disks[1]))
        _ = try RAID1Device(name: "raid1", baseDevices: [disks[1]])

        raid.delete()
        #expect(isFree(disks[0]))
        #expect(raid.isDeleted && raid.snapshot.state == .offline)
        #expect(throws: BlockError(.notFound, "raid raid0 was deleted")) { try raid.makeChannel() }
    }

    @Test func creationRefusesBadGeometryAndNames() throws {
        let small = try MallocDevice(name: "Malloc0", blockCount: 64, blockSize: 512)
        let large = try MallocDevice(name: "Malloc1", blockCount: 64, blockSize: 4096)
        let mismatch = #expect(throws: BlockError.self) { try RAID1Device(name: "raid0", baseDevices: [small, large]) }
        #expect(mismatch?.code == .invalidArgument)
        #expect(mismatch?.message == "Malloc1 has 4096-byte blocks but raid raid0 uses 512-byte blocks")
        #expect(small.claims.current.claimant == nil && large.claims.current.claimant == nil)

        #expect(throws: BlockError(.invalidArgument, "Malloc0 is listed twice as a base device of raid raid0")) {
            try RAID1Device(name: "raid0", baseDevices: [small, small])
        }
        #expect(throws: BlockError(.invalidArgument, "raid raid0 needs at least one base device")) {
            try RAID1Device(name: "raid0", baseDevices: [])
        }
        let long = String(repeating: "r", count: RAIDLimits.maxNameBytes + 1)
        #expect(throws: BlockError.self) { try RAID1Device(name: long, baseDevices: [small]) }
        #expect(throws: BlockError.self) { try RAID1Device(name: "", baseDevices: [small]) }
        let readOnly = LimitedDevice(try MallocDevice(name: "Malloc2", blockCount: 64, blockSize: 512), without: .write)
        #expect(throws: BlockError(.invalidArgument, "Malloc2 is read-only and cannot be a base device of raid raid0")) {
            try RAID1Device(name: "raid0", baseDevices: [readOnly])
        }
    }

    // MARK: - Growing

    @Test func grownLegFillsTheEmptySlotAndTakesLaterWrites() async throws {
        let mirror = try TestMirror(legs: 2, blockCount: 256)
        let channel = try mirror.raid.makeChannel()
        try await write(filled(1, blocks: 4, blockSize: 512), to: channel, at: 0)
        try await mirror.raid.removeBase(named: mirror.legs[0].name)

        let newcomer = try MallocDevice(name: "Malloc7", blockCount: 300, blockSize: 512)
        try mirror.raid.growBase(newcomer)
        #expect(newcomer.claims.current.claimant == "raid")
        let snapshot = mirror.raid.snapshot
        #expect(snapshot.slotCount == 2 && snapshot.operationalCount == 2)
        #expect(snapshot.slots[0].name == "Malloc7" && snapshot.slots[0].uuid == newcomer.uuid)

        // No rebuild: old data is not copied; new writes reach the newcomer through the old channel.
        #expect(try await readBlocks(newcomer, block: 0) == filled(0, blocks: 1, blockSize: 512))
        try await write(filled(2, blocks: 4, blockSize: 512), to: channel, at: 8)
        #expect(try await readBlocks(newcomer, block: 8, blocks: 4) == filled(2, blocks: 4, blockSize: 512))
        #expect(try await mirror.onDisk(1, block: 8, blocks: 4) == filled(2, blocks: 4, blockSize: 512))
        #expect(try await mirror.onDisk(0, block: 8, blocks: 4) == filled(0, blocks: 4, blockSize: 512))  // removed
        #expect(mirror.events.all.suffix(2) == [
            .baseRemoved(slot: 0, baseName: "EE_Malloc0"), .baseAdded(slot: 0, baseName: "Malloc7"),
        ])
    }

    @Test func growWithoutAnEmptySlotAppendsOne() async throws {
        let first = try MallocDevice(name: "Malloc0", blockCount: 128, blockSize: 512)
        let raid = try RAID1Device(name: "raid0", baseDevices: [first])
        let channel = try raid.makeChannel()
        try await write(filled(3, blocks: 1, blockSize: 512), to: channel, at: 0)
        let second = try MallocDevice(name: "Malloc1", blockCount: 128, blockSize: 512)
        try raid.growBase(second)
        #expect(raid.snapshot.slotCount == 2 && raid.snapshot.operationalCount == 2)
        try await write(filled(4, blocks: 1, blockSize: 512), to: channel, at: 5)
        #expect(try await readBlocks(second, block: 5) == filled(4, blocks: 1, blockSize: 512))
    }

    @Test func growRefusesWhatCannotMirror() throws {
        let mirror = try TestMirror(legs: 2, blockCount: 256)
        let raid = mirror.raid
        let busy = #expect(throws: BlockError.self) { try raid.growBase(mirror.legs[1]) }
        #expect(busy?.code == .busy)
        #expect(busy?.message == "EE_Malloc1 is already a base device of raid raid0 (slot 1)")
        #expect(throws: BlockError(.invalidArgument, "Malloc8 has 255 blocks, fewer than the 256 of raid raid0")) {
            try raid.growBase(try MallocDevice(name: "Malloc8", blockCount: 255, blockSize: 512))
        }
        #expect(throws: BlockError(.invalidArgument, "Malloc9 has 4096-byte blocks but raid raid0 uses 512-byte blocks")) {
            try raid.growBase(try MallocDevice(name: "Malloc9", blockCount: 256, blockSize: 4096))
        }
        #expect(throws: BlockError(.invalidArgument, "raid raid0 cannot be its own base device")) { try raid.growBase(raid) }
        let outsider = try MallocDevice(name: "Malloc5", blockCount: 256, blockSize: 512)
        let other = try RAID1Device(name: "raid1", baseDevices: [outsider])
        let claimed = #expect(throws: BlockError.self) { try raid.growBase(outsider) }
        #expect(claimed?.code == .claimed)
        #expect(raid.snapshot.slotCount == 2 && other.hasBase(outsider))
    }
}
