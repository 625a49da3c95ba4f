import BlockCore
import BlockDevices
import RAID
import Testing

/// Reads spread over the legs: the least-loaded leg first, round-robin among equals.
@Suite struct RAID1ReadBalancingTests {
    @Test func readsAtQueueDepthOneAlternateBetweenLegs() async throws {
        let mirror = try TestMirror(legs: 2)
        let channel = try mirror.raid.makeChannel()
        for block in 0..<100 as Range<UInt64> { _ = try await read(512, from: channel, at: block) }
        #expect(mirror.readsServed(by: 0) == 50)
        #expect(mirror.readsServed(by: 1) == 50)
    }

    @Test func threeLegsShareReadsEvenly() async throws {
        let mirror = try TestMirror(legs: 3)
        let channel = try mirror.raid.makeChannel()
        for block in 0..<90 as Range<UInt64> { _ = try await read(1024, from: channel, at: block) }
        #expect((0..<3).map(mirror.readsServed(by:)) == [30, 30, 30])
    }

    /// While a slow read is in flight on one leg, the other (idle) leg serves every read.
    @Test func readsAvoidALegWithReadsInFlight() async throws {
        let slow = DelayDevice(
            wrapping: try MallocDevice(name: "Malloc0", blockCount: 256, blockSize: 512), name: "slow",
            read: .milliseconds(300), write: .zero)
        let fast = try MallocDevice(name: "Malloc1", blockCount: 256, blockSize: 512)
        let raid = try RAID1Device(name: "raid0", baseDevices: [slow, fast])
        try await raidReactor.run {
            let channel = SharedOnReactor(value: try raid.makeChannel())
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { _ = try await read(512, from: channel.value, at: 0) }  // slot 0: both idle
                try await Task.sleep(for: .milliseconds(50))  // lets it start
                for block in 1..<11 as Range<UInt64> { _ = try await read(512, from: channel.value, at: block) }
                try await group.waitForAll()
            }
        }
        #expect(slow.ioControl.statistics.snapshot[.read].operations == 1)
        #expect(fast.ioControl.statistics.snapshot[.read].operations == 10)
    }
}
