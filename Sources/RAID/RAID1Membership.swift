// Which base device sits in which slot of a RAID1 array, as a value that takes events and returns
// actions (design/STYLE.md #6). It holds no descriptors and does no I/O: `RAID1Device` applies the
// actions (opens or releases base devices, tells its channels, notifies its owner).
//
// Model (spdk.md §4): an array has a fixed number of slots, grown only by `attach` when no slot is
// empty. A member leaves its slot when its I/O fails or an operator removes it; the slot keeps its
// position with no name and a zero UUID. The array is online while at least one member remains.
// Once the last member left, the array is offline for good: a base added afterwards would hold no
// data, so `attach` is refused. `delete` releases every member and refuses everything after it.
//
// Failure modes handled here: a failure reported twice (two channels saw the same leg fail) or
// for a member an operator already removed changes nothing; a name may sit in one slot only.

import BlockCore
import Foundation

/// What happened to a RAID1 array, for its owner (e.g. Longhorn's engine wants to know that a
/// replica left the array).
public enum RAID1Event: Sendable, Equatable {
    /// The base in `slot` failed an I/O and was removed from the array; `reason` is the error text.
    case baseFailed(slot: Int, baseName: String, reason: String)
    /// An operator removed the base in `slot`.
    case baseRemoved(slot: Int, baseName: String)
    /// A base joined the array in `slot`.
    case baseAdded(slot: Int, baseName: String)
    /// No operational base remains: every I/O fails from now on.
    case wentOffline
    /// The array was deleted and released its bases.
    case deleted
}

/// The slots of one RAID1 array and who occupies them.
struct RAID1Membership: Sendable, Equatable {
    /// A base device in a slot. `id` names this attachment: a device removed and added again gets
    /// a new one, so a late failure report about its old attachment is ignored.
    struct Member: Sendable, Equatable {
        var id: UInt64
        var name: String
        var uuid: UUID
    }

    enum Event: Sendable {
        /// Put a base into the first empty slot, or into a new slot at the end.
        case attach(Member)
        /// The member with this attachment id failed an I/O.
        case fail(memberID: UInt64, reason: String)
        /// An operator asks to remove the member with this name.
        case remove(name: String)
        /// Release every member; the array is gone.
        case delete
    }

    /// What the owner must do after an event.
    struct Action: Sendable, Equatable {
        /// The slot a new member went into: start I/O to it.
        var attachedSlot: Int?
        /// Members that left: stop I/O to them and release them.
        var released: [Member] = []
        /// What to tell the array's owner, in order.
        var events: [RAID1Event] = []

        static let none = Action()
    }

    enum State: String, Sendable {
        case online, offline
    }

    let raidName: String
    /// One entry per slot; nil when the slot is empty.
    private(set) var slots: [Member?] = []
    private(set) var isDeleted = false
    /// Set once the last member left.
    private(set) var lostAllMembers = false

    init(raidName: String) {
        self.raidName = raidName
    }

    var members: [Member] { slots.compactMap { $0 } }
    var operationalCount: Int { slots.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
    var state: State { isDeleted || operationalCount == 0 ? .offline : .online }

    func slot(named name: String) -> Int? { slots.firstIndex { $0?.name == name } }

    mutating func onEvent(_ event: Event) throws(BlockError) -> Action {
        switch event {
        case .attach(let member): return try attach(member)
        case .fail(let id, let reason): return fail(id, reason: reason)
        case .remove(let name): return try remove(name)
        case .delete: return delete()
        }
    }

    private mutating func attach(_ member: Member) throws(BlockError) -> Action {
        guard !isDeleted else { throw BlockError(.notFound, "raid \(raidName) was deleted") }
        guard !lostAllMembers else {
            throw BlockError(
                .invalidArgument,
                "raid \(raidName) is offline: it lost every base device, so \(member.name) would join without data")
        }
        if let taken = slot(named: member.name) {
            throw BlockError(.busy, "\(member.name) is already a base device of raid \(raidName) (slot \(taken))")
        }
        let index: Int
        if let empty = slots.firstIndex(where: { $0 == nil }) {
            index = empty
            slots[index] = member
        } else {
            guard slots.count < RAIDLimits.maxSlots else {
                throw BlockError(.noSpace, "raid \(raidName) already has the maximum of \(RAIDLimits.maxSlots) slots")
            }
            index = slots.count
            slots.append(member)
        }
        return Action(attachedSlot: index, events: [.baseAdded(slot: index, baseName: member.name)])
    }

    private mutating func fail(_ id: UInt64, reason: String) -> Action {
        guard !isDeleted, let index = slots.firstIndex(where: { $0?.id == id }) else { return .none }
        return vacate(index, event: .baseFailed(slot: index, baseName: slots[index]!.name, reason: reason))
    }

    private mutating func remove(_ name: String) throws(BlockError) -> Action {
        guard !isDeleted else { throw BlockError(.notFound, "raid \(raidName) was deleted") }
        guard let index = slot(named: name) else {
            throw BlockError(.notFound, "\(name) is not a base device of raid \(raidName)")
        }
        return vacate(index, event: .baseRemoved(slot: index, baseName: name))
    }

    private mutating func vacate(_ index: Int, event: RAID1Event) -> Action {
        let member = slots[index]!
        slots[index] = nil
        var action = Action(released: [member], events: [event])
        if operationalCount == 0 {
            lostAllMembers = true
            action.events.append(.wentOffline)
        }
        return action
    }

    private mutating func delete() -> Action {
        guard !isDeleted else { return .none }
        let released = members
        isDeleted = true
        slots = slots.map { _ in nil }
        return Action(released: released, events: [.deleted])
    }
}
