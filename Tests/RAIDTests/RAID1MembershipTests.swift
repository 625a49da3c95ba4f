import BlockCore
import Foundation
@testable import RAID
import Testing

/// The slot state machine alone, without devices (design/STYLE.md #6).
@Suite struct RAID1MembershipTests {
    typealias Member = RAID1Membership.Member

    func member(_ id: UInt64, _ name: String) -> Member { Member(id: id, name: name, uuid: UUID()) }

    @Test func attachFillsEmptySlotsBeforeAppending() throws {
        var membership = RAID1Membership(raidName: "r")
        let a = member(0, "a")
        let b = member(1, "b")
        #expect(try membership.onEvent(.attach(a)).attachedSlot == 0)
        #expect(try membership.onEvent(.attach(b)).attachedSlot == 1)
        #expect(membership.state == .online && membership.operationalCount == 2)

        let removal = try membership.onEvent(.remove(name: "a"))
        #expect(removal == .init(released: [a], events: [.baseRemoved(slot: 0, baseName: "a")]))
        #expect(membership.slots == [nil, b])

        let action = try membership.onEvent(.attach(member(2, "c")))
        #expect(action.attachedSlot == 0 && action.events == [.baseAdded(slot: 0, baseName: "c")])
        #expect(membership.slots.map { $0?.name } == ["c", "b"])
        #expect(try membership.onEvent(.attach(member(3, "d"))).attachedSlot == 2)
    }

    @Test func aNameSitsInOneSlotOnly() throws {
        var membership = RAID1Membership(raidName: "r")
        _ = try membership.onEvent(.attach(member(0, "a")))
        #expect(throws: BlockError(.busy, "a is already a base device of raid r (slot 0)")) {
            try membership.onEvent(.attach(member(1, "a")))
        }
    }

    @Test func failureIsIgnoredForALegAlreadyGone() throws {
        var membership = RAID1Membership(raidName: "r")
        _ = try membership.onEvent(.attach(member(0, "a")))
        _ = try membership.onEvent(.attach(member(1, "b")))
        let first = try membership.onEvent(.fail(memberID: 1, reason: "EIO"))
        #expect(first.events == [.baseFailed(slot: 1, baseName: "b", reason: "EIO")])
        #expect(try membership.onEvent(.fail(memberID: 1, reason: "EIO")) == .none)  // reported twice
        // "b" comes back as a new attachment: a late report about the old one leaves it alone.
        _ = try membership.onEvent(.attach(member(2, "b")))
        #expect(try membership.onEvent(.fail(memberID: 1, reason: "late")) == .none)
        #expect(membership.operationalCount == 2)
    }

    @Test func losingTheLastMemberIsFinal() throws {
        var membership = RAID1Membership(raidName: "r")
        _ = try membership.onEvent(.attach(member(0, "a")))
        let action = try membership.onEvent(.fail(memberID: 0, reason: "gone"))
        #expect(action.events == [.baseFailed(slot: 0, baseName: "a", reason: "gone"), .wentOffline])
        #expect(membership.state == .offline && membership.slots.count == 1)
        #expect(throws: BlockError.self) { try membership.onEvent(.attach(member(1, "b"))) }
    }

    @Test func deleteReleasesEveryMemberOnce() throws {
        var membership = RAID1Membership(raidName: "r")
        let a = member(0, "a")
        let b = member(1, "b")
        _ = try membership.onEvent(.attach(a))
        _ = try membership.onEvent(.attach(b))
        #expect(try membership.onEvent(.delete) == .init(released: [a, b], events: [.deleted]))
        #expect(try membership.onEvent(.delete) == .none)
        #expect(membership.state == .offline && membership.isDeleted)
        #expect(try membership.onEvent(.fail(memberID: 0, reason: "x")) == .none)
        #expect(throws: BlockError(.notFound, "raid r was deleted")) { try membership.onEvent(.remove(name: "a")) }
        #expect(throws: BlockError(.notFound, "raid r was deleted")) { try membership.onEvent(.attach(member(2, "c"))) }
    }

    @Test func slotsAreBounded() throws {
        var membership = RAID1Membership(raidName: "r")
        for index in 0..<RAIDLimits.maxSlots { _ = try membership.onEvent(.attach(member(UInt64(index), "b\(index)"))) }
        let error = #expect(throws: BlockError.self) { try membership.onEvent(.attach(member(999, "extra"))) }
        #expect(error?.code == .noSpace)
    }
}

@Suite struct RAIDLimitsTests {
    @Test func limitsHangTogether() {
        #expect(RAIDLimits.maxSlots == Int(UInt8.max))  // SPDK's uint8_t slot count
        #expect(RAIDLimits.maxNameBytes == 63)  // SPDK's 64-byte superblock name with its NUL
        #expect(RAIDLimits.zeroChunkBytes >= BlockLimits.maxBlockSize)  // a zero write holds a whole block
        #expect(RAIDLimits.zeroChunkBytes <= BlockLimits.maxIOBytes)  // and is one legal I/O
        #expect(RAIDLimits.zeroChunkBytes % BlockLimits.bufferAlignment == 0)
    }
}
