import BlockCore
import BlockDevices
import RAID
import Synchronization
import Testing

/// How often a stacked module was told its device went away.
private final class RemovalCount: Sendable {
    let value = Atomic<Int>(0)
    var count: Int { value.load(ordering: .relaxed) }
}

/// Legs that fail: the array drops them and carries on while one leg remains.
@Suite struct RAID1FailureTests {
    @Test func aLegThatFailsAWriteIsRemovedAndIOCarriesOn() async throws {
        let mirror = try TestMirror(legs: 2)
        let channel = try mirror.raid.makeChannel()
        mirror.legs[1].inject(.write, count: 1)
        let data = filled(0x42, blocks: 4, blockSize: 512)
        try await write(data, to: channel, at: 10)  // succeeds on leg 0

        let snapshot = mirror.raid.snapshot
        #expect(snapshot.state == .online && snapshot.operationalCount == 1 && snapshot.slotCount == 2)
        #expect(snapshot.slots[1] == .init(name: nil, uuid: RAID1Snapshot.zeroUUID, isConfigured: false, dataOffsetBlocks: 0, dataSizeBlocks: 1024))
        #expect(mirror.events.all == [.baseFailed(slot: 1, baseName: "EE_Malloc1", reason: "injected I/O error")])
        #expect(mirror.legs[1].claims.current.claimant == nil)  // released

        // The survivor serves everything; the failed leg gets nothing more.
        for _ in 0..<4 { #expect(try await read(data.count, from: channel, at: 10) == data) }
        try await write(filled(0x43, blocks: 1, blockSize: 512), to: channel, at: 20)
        #expect(try await mirror.onDisk(0, block: 20) == filled(0x43, blocks: 1, blockSize: 512))
        #expect(try await mirror.onDisk(1, block: 20) == filled(0, blocks: 1, blockSize: 512))
        #expect(mirror.readsServed(by: 1) == 0)
    }

    @Test func anotherChannelStopsUsingAFailedLeg() async throws {
        let mirror = try TestMirror(legs: 2)
        let first = try mirror.raid.makeChannel()
        let second = try mirror.raid.makeChannel()
        try await write(filled(1, blocks: 1, blockSize: 512), to: second, at: 0)  // second has both legs open
        mirror.legs[0].inject(.write, count: 1)
        try await write(filled(2, blocks: 1, blockSize: 512), to: first, at: 0)
        let writesToLeg0 = mirror.writesTaken(by: 0)
        try await write(filled(3, blocks: 1, blockSize: 512), to: second, at: 1)
        #expect(mirror.writesTaken(by: 0) == writesToLeg0)
        #expect(try await mirror.onDisk(1, block: 1) == filled(3, blocks: 1, blockSize: 512))
    }

    @Test func aWriteFailingOnEveryLegFailsAndTakesTheArrayOffline() async throws {
        let mirror = try TestMirror(legs: 2)
        let channel = try mirror.raid.makeChannel()
        for leg in mirror.legs { leg.inject(.write, count: 1) }
        let error = await #expect(throws: BlockError.self) {
            try await write(filled(9, blocks: 1, blockSize: 512), to: channel, at: 0)
        }
        #expect(error?.code == .ioError)
        #expect(error?.message.hasPrefix("write on raid raid0 failed on every base device: slot 0 (EE_Malloc0)") == true)
        #expect(mirror.raid.snapshot.state == .offline)
        #expect(mirror.events.all.last == .wentOffline)
        await #expect(throws: BlockError(.ioError, "raid raid0 is offline: no operational base device remains")) {
            _ = try await read(512, from: channel, at: 0)
        }
    }

    @Test func threeLegsSurviveTwoFailures() async throws {
        let mirror = try TestMirror(legs: 3)
        let channel = try mirror.raid.makeChannel()
        mirror.legs[0].inject(.write, count: 1)
        mirror.legs[2].inject(.write, count: 1)
        let data = filled(0x77, blocks: 2, blockSize: 512)
        try await write(data, to: channel, at: 3)
        #expect(mirror.raid.snapshot.slots.map(\.isConfigured) == [false, true, false])
        #expect(try await read(data.count, from: channel, at: 3) == data)
    }

    @Test func aFailedReadIsServedByAnotherLegAndTheLegIsRemoved() async throws {
        let mirror = try TestMirror(legs: 2)
        let channel = try mirror.raid.makeChannel()
        let data = filled(0x31, blocks: 2, blockSize: 512)
        try await write(data, to: channel, at: 7)
        mirror.legs[0].inject(.read, count: 1)  // the first read of a channel goes to slot 0
        #expect(try await read(data.count, from: channel, at: 7) == data)
        #expect(mirror.readsServed(by: 1) == 1)
        #expect(mirror.events.all == [.baseFailed(slot: 0, baseName: "EE_Malloc0", reason: "injected I/O error")])
        #expect(mirror.raid.snapshot.operationalCount == 1)
    }

    @Test func aReadNoLegCanServeFailsAndRemovesOnlyTheFirstChoice() async throws {
        let mirror = try TestMirror(legs: 2)
        let channel = try mirror.raid.makeChannel()
        for leg in mirror.legs { leg.inject(.read, count: 1) }
        let error = await #expect(throws: BlockError.self) { _ = try await read(512, from: channel, at: 0) }
        #expect(error?.code == .ioError)
        #expect(error?.message.contains("slot 1 (EE_Malloc1): injected I/O error") == true)
        #expect(mirror.raid.snapshot.slots.map(\.isConfigured) == [false, true])
        _ = try await read(512, from: channel, at: 0)  // the other leg serves again
    }

    @Test func flushAndUnmapFailuresRemoveTheLegButSucceed() async throws {
        let mirror = try TestMirror(legs: 3)
        let channel = try mirror.raid.makeChannel()
        mirror.legs[1].inject(.flush, count: 1)
        try await channel.flush()
        mirror.legs[2].inject(.unmap, count: 1)
        try await channel.unmap(offsetBlocks: 0, blockCount: 8)
        #expect(mirror.raid.snapshot.slots.map(\.isConfigured) == [true, false, false])
        #expect(mirror.events.all.map { if case .baseFailed(let slot, _, _) = $0 { slot } else { -1 } } == [1, 2])
    }

    @Test func removingTheLastLegTakesTheArrayOffline() async throws {
        let mirror = try TestMirror(legs: 2)
        let channel = try mirror.raid.makeChannel()
        try await write(filled(5, blocks: 1, blockSize: 512), to: channel, at: 0)
        try await mirror.raid.removeBase(named: "EE_Malloc1")
        #expect(try await read(512, from: channel, at: 0) == filled(5, blocks: 1, blockSize: 512))
        try await mirror.raid.removeBase(named: "EE_Malloc0")
        #expect(mirror.raid.snapshot.state == .offline && mirror.raid.snapshot.slotCount == 2)
        #expect(mirror.events.all == [
            .baseRemoved(slot: 1, baseName: "EE_Malloc1"), .baseRemoved(slot: 0, baseName: "EE_Malloc0"), .wentOffline,
        ])
        await #expect(throws: BlockError(.ioError, "raid raid0 is offline: no operational base device remains")) {
            try await channel.flush()
        }
        // An offline array lost its data: a base added now would join empty.
        let late = #expect(throws: BlockError.self) {
            try mirror.raid.growBase(try MallocDevice(name: "Malloc9", blockCount: 1024, blockSize: 512))
        }
        #expect(late?.code == .invalidArgument)
        await #expect(throws: BlockError(.notFound, "EE_Malloc0 is not a base device of raid raid0")) {
            try await mirror.raid.removeBase(named: "EE_Malloc0")
        }
    }

    @Test func losingTheLastLegUnregistersTheArrayAndWhatSitsOnIt() async throws {
        // As SPDK deconfigures a raid1 with no base left: its bdev unregistered (a hot remove of
        // the array, so an export on it goes), the array freed from every listing.
        let registry = BlockDeviceRegistry()
        let disks = try (0..<2).map { try MallocDevice(name: "Last\($0)", blockCount: 256, blockSize: 512) }
        for disk in disks { try registry.register(disk) }
        let raid = try RAID1Device(name: "last", baseDevices: disks, registry: registry)
        try registry.register(raid)
        let told = RemovalCount()
        let export = try BlockDescriptor(raid, writable: true, onRemove: { told.value.add(1, ordering: .relaxed) })
        try export.claim(module: "nbd")
        try await registry.remove(name: "Last0")
        #expect(registry.lookup("last") === raid && told.count == 0)
        try await registry.remove(name: "Last1")
        #expect(registry.lookup("last") == nil)
        #expect(told.count == 1)
        export.close()
        #expect(disks.allSatisfy { $0.claims.current.claimant == nil && $0.claims.current.writers == 0 })
        // An operator removing the last base does the same.
        let other = try MallocDevice(name: "Last2", blockCount: 256, blockSize: 512)
        let single = try RAID1Device(name: "single", baseDevices: [other], registry: registry)
        try registry.register(single)
        try await single.removeBase(named: "Last2")
        #expect(registry.lookup("single") == nil)
    }

    @Test func aHotRemovedBaseFailsItsLegAndTheArrayCarriesOn() async throws {
        let mirror = try TestMirror(legs: 2)
        let channel = try mirror.raid.makeChannel()
        try await write(filled(6, blocks: 1, blockSize: 512), to: channel, at: 0)
        await mirror.legs[1].claims.hotRemove()
        #expect(mirror.raid.snapshot.state == .online && mirror.raid.snapshot.operationalCount == 1)
        #expect(isFree(mirror.legs[1]))
        #expect(mirror.events.all.map { if case .baseFailed(let slot, _, _) = $0 { slot } else { -1 } } == [1])
        #expect(try await read(512, from: channel, at: 0) == filled(6, blocks: 1, blockSize: 512))
        try await write(filled(7, blocks: 1, blockSize: 512), to: channel, at: 1)
        #expect(mirror.writesTaken(by: 1) == 1)
        await mirror.legs[0].claims.hotRemove()
        #expect(mirror.raid.snapshot.state == .offline)
    }

    @Test func deletingFailsChannelsAndReleasesBases() async throws {
        let mirror = try TestMirror(legs: 2)
        let channel = try mirror.raid.makeChannel()
        try await channel.flush()
        mirror.raid.delete()
        mirror.raid.delete()  // twice is harmless
        #expect(mirror.legs.map(isFree) == [true, true])
        await #expect(throws: BlockError(.ioError, "raid raid0 is offline: it was deleted")) {
            try await write(filled(1, blocks: 1, blockSize: 512), to: channel, at: 0)
        }
        #expect(mirror.events.all == [.deleted])
        await #expect(throws: BlockError(.notFound, "raid raid0 was deleted")) { try await mirror.raid.removeBase(named: "EE_Malloc0") }
    }

    @Test func aCancelledWriteFailsNoLeg() async throws {
        let slow = DelayDevice(
            wrapping: try MallocDevice(name: "Malloc1", blockCount: 64, blockSize: 512), name: "slow", read: .zero,
            write: .seconds(30))
        let raid = try RAID1Device(name: "raid0", baseDevices: [try MallocDevice(name: "Malloc0", blockCount: 64, blockSize: 512), slow])
        let task = Task {
            let channel = try raid.makeChannel()
            try await write(filled(1, blocks: 1, blockSize: 512), to: channel, at: 0)
        }
        try await Task.sleep(for: .milliseconds(50))
        task.cancel()
        _ = await task.result  // the fast leg succeeded, so the write may well succeed
        #expect(raid.snapshot.operationalCount == 2)
    }
}
