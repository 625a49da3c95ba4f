// SPDK's raid1 bdev (spdk.md §4): a mirror over base devices ("legs"), one per slot. Every write
// goes to every leg; a read goes to one. The array is as large as its smallest base and stays
// online while one leg remains.
//
// Control plane: membership (`RAID1Membership`) and the open descriptors live under a mutex;
// every change bumps `generation`. Data plane: each `RAID1Channel` keeps its own copy of the leg
// set and compares the generation (one relaxed atomic load) per I/O, taking the mutex only when it
// changed. Each leg is opened through a writable descriptor that holds the "raid" claim, so nobody
// else can write underneath the mirror; removing a leg closes the descriptor and frees the base.
// A base that goes away (hot remove: its device deleted or lost) fails its leg the same way.
//
// The last leg gone (failed, removed or hot-removed), the array is deconfigured as SPDK's
// raid_bdev_deconfigure does for raid1: given a registry, it unregisters itself (a hot remove, so
// what sits on it — an export, a namespace, an lvstore — lets go) and leaves every listing, as
// SPDK frees a raid bdev with no base bdev left.
//
// Limitation: removal does not wait for I/O already in flight on the removed leg (SPDK quiesces
// the array first). Such an I/O completes against the base it was sent to.

public import BlockCore
public import Foundation
import Synchronization

public final class RAID1Device: BlockDevice, Sendable {
    /// The claim a RAID takes on each base (shown by `bdev_get_bdevs` as claimed).
    public static let claimModule = "raid"

    public let name: String
    public let uuid: UUID
    public let blockSize: Int
    /// The smallest base's size when the array was created; a base added later must be as large.
    public let blockCount: UInt64
    public let claims = DeviceClaims()
    public let ioControl = DeviceIOControl()
    public var aliases: [String] { [] }
    public var productName: String { "Raid Volume" }

    /// Read and write always; flush, reset and unmap when every leg supports them. Never write
    /// zeroes (as SPDK's raid1): a channel still serves `writeZeroes`, by the legs' own when they all
    /// have it, or else by writing zero-filled buffers.
    public var supportedIOTypes: IOTypes {
        control.withLock { state in
            var types: IOTypes = [.flush, .reset, .unmap]
            for descriptor in state.descriptors.values { types.formIntersection(descriptor.device.supportedIOTypes) }
            return types.union([.read, .write])
        }
    }

    private struct ControlState {
        var membership: RAID1Membership
        /// The open descriptor of each member, by attachment id.
        var descriptors: [UInt64: BlockDescriptor] = [:]
        var nextMemberID: UInt64 = 0
        var eventHandler: (@Sendable (RAID1Event) -> Void)?
    }

    private let control: Mutex<ControlState>
    /// Bumped under `control` on every membership change. Channels read it relaxed, once per I/O.
    let generation = Atomic<UInt64>(0)
    /// Where the array is registered; it unregisters itself there when its last leg goes.
    private let registry: BlockDeviceRegistry?

    /// Creates a mirror over `baseDevices`, in slot order, claiming each.
    ///
    /// - Parameters:
    ///   - uuid: the array's UUID; a random one when nil.
    ///   - registry: where the caller registers the array; it unregisters itself there (a hot
    ///     remove) when its last leg goes.
    /// - Throws: `.invalidArgument` for an empty or too long name, no bases, too many, a base
    ///   listed twice, a read-only base or block sizes that differ; `.claimed`/`.busy` when a base
    ///   is claimed by someone else or open for writing elsewhere. Nothing stays claimed on failure.
    public init(name: String, baseDevices: [any BlockDevice], uuid: UUID? = nil, registry: BlockDeviceRegistry? = nil) throws {
        guard !name.isEmpty, name.utf8.count <= RAIDLimits.maxNameBytes else {
            throw BlockError(.invalidArgument, "a raid name must have 1 to \(RAIDLimits.maxNameBytes) bytes; got \"\(name)\"")
        }
        guard let first = baseDevices.first else {
            throw BlockError(.invalidArgument, "raid \(name) needs at least one base device")
        }
        guard baseDevices.count <= RAIDLimits.maxSlots else {
            throw BlockError(
                .invalidArgument, "raid \(name) can have at most \(RAIDLimits.maxSlots) base devices; got \(baseDevices.count)")
        }
        var seen = Set<String>()
        for device in baseDevices {
            guard seen.insert(device.name).inserted else {
                throw BlockError(.invalidArgument, "\(device.name) is listed twice as a base device of raid \(name)")
            }
            try Self.checkBase(device, raidName: name, blockSize: first.blockSize, minimumBlocks: 0)
        }
        var descriptors: [BlockDescriptor] = []
        do {
            for device in baseDevices { descriptors.append(try Self.open(device, raidName: name)) }
        } catch {
            for descriptor in descriptors { descriptor.close() }
            throw error
        }
        var state = ControlState(membership: RAID1Membership(raidName: name))
        for descriptor in descriptors {
            let member = RAID1Membership.Member(
                id: state.nextMemberID, name: descriptor.device.name, uuid: descriptor.device.uuid)
            state.nextMemberID += 1
            // Cannot fail: the names are distinct and the count is within the limit.
            _ = try state.membership.onEvent(.attach(member))
            state.descriptors[member.id] = descriptor
        }
        self.name = name
        self.uuid = uuid ?? UUID()
        self.blockSize = first.blockSize
        self.blockCount = baseDevices.map(\.blockCount).min()!
        self.control = Mutex(state)
        self.registry = registry
        for (member, descriptor) in state.descriptors { watchRemoval(of: descriptor, memberID: member) }
    }

    deinit {
        control.withLock { state in
            for descriptor in state.descriptors.values { descriptor.close() }
        }
    }

    public func makeChannel() throws -> any IOChannel {
        guard !isDeleted else { throw BlockError(.notFound, "raid \(name) was deleted") }
        return RAID1Channel(device: self)
    }

    // MARK: - Control

    /// Calls `handler` after every membership change, on the thread that caused it (for a failed
    /// leg, the reactor whose I/O failed): it must be quick and must not block.
    public func setEventHandler(_ handler: (@Sendable (RAID1Event) -> Void)?) {
        control.withLock { $0.eventHandler = handler }
    }

    /// Removes the base named `baseName` (SPDK's bdev_raid_remove_base_bdev): its slot stays, empty,
    /// and the base is released. Removing the last base takes the array offline and unregisters
    /// it (see the file's comment) before this returns.
    ///
    /// - Throws: `.notFound` when no slot holds a base of that name, or the array was deleted.
    public func removeBase(named baseName: String) async throws {
        if try change(.remove(name: baseName)) { await withdraw() }
    }

    /// Adds `device` as a new leg (SPDK fork's bdev_raid_grow_base_bdev): into the first empty slot,
    /// or a new slot at the end. Nothing is copied: the caller must have brought its data up to
    /// date; it receives every write from now on.
    ///
    /// - Throws: `.busy` when a base of the same name is a member already; `.invalidArgument` for
    ///   a different block size, a base smaller than the array, a read-only base, the array itself,
    ///   or an array that went offline; `.claimed`/`.busy` when someone else holds the base;
    ///   `.notFound` when the array was deleted.
    public func growBase(_ device: any BlockDevice) throws {
        guard device !== self else { throw BlockError(.invalidArgument, "raid \(name) cannot be its own base device") }
        try Self.checkBase(device, raidName: name, blockSize: blockSize, minimumBlocks: blockCount)
        // Check membership before opening: a second writable open of a member would fail on its
        // claim with a less helpful message.
        let member = try control.withLock { state throws(BlockError) -> RAID1Membership.Member in
            if state.membership.isDeleted { throw BlockError(.notFound, "raid \(name) was deleted") }
            if let taken = state.membership.slot(named: device.name) {
                throw BlockError(.busy, "\(device.name) is already a base device of raid \(name) (slot \(taken))")
            }
            defer { state.nextMemberID += 1 }
            return RAID1Membership.Member(id: state.nextMemberID, name: device.name, uuid: device.uuid)
        }
        let descriptor = try Self.open(device, raidName: name)
        do {
            try change(.attach(member), opening: descriptor)
        } catch {
            descriptor.close()
            throw error
        }
        watchRemoval(of: descriptor, memberID: member.id)
    }

    /// A base device going away fails its leg (SPDK's raid_bdev_remove_base_bdev on a hot remove):
    /// the array runs on without it, or goes offline and unregisters when it was the last. The
    /// leg's descriptor was opened with `.handlerFollows`: a removal that began while the array
    /// was being made or grown has waited for this.
    private func watchRemoval(of descriptor: BlockDescriptor, memberID: UInt64) {
        let baseName = descriptor.device.name
        descriptor.onRemove { [weak self] in
            guard let self else { return }
            let error = BlockError(.notFound, "base device \(baseName) was removed")
            if (try? change(.fail(memberID: memberID, reason: "\(error)"))) == true { await withdraw() }
        }
    }

    /// The last leg went: unregisters the array, and what sits on it lets go (hot remove).
    private func withdraw() async {
        guard let registry, registry.lookup(name) === self else { return }
        _ = try? await registry.remove(name: name)
    }

    /// Deletes the array (SPDK's bdev_raid_delete): releases every base. Channels fail their I/O
    /// from then on and no new channel can be opened. Deleting twice does nothing.
    public func delete() {
        _ = try? change(.delete)
    }

    /// True when `device` is one of the array's current legs.
    public func hasBase(_ device: any BlockDevice) -> Bool {
        control.withLock { state in state.descriptors.values.contains { $0.device === device } }
    }

    public var isDeleted: Bool { control.withLock { $0.membership.isDeleted } }

    /// The array's state for `bdev_get_bdevs` and `bdev_raid_get_bdevs`.
    public var snapshot: RAID1Snapshot {
        control.withLock { control in
            let membership = control.membership
            let slots = membership.slots.map { member in
                RAID1Snapshot.Slot(
                    name: member?.name, uuid: member?.uuid ?? RAID1Snapshot.zeroUUID, isConfigured: member != nil,
                    dataOffsetBlocks: 0, dataSizeBlocks: blockCount)
            }
            let state: RAID1Snapshot.State = membership.state == .online ? .online : .offline
            return RAID1Snapshot(
                name: name, uuid: uuid, state: state, blockCount: blockCount, slots: slots,
                operationalCount: membership.operationalCount)
        }
    }

    // MARK: - Data path support

    /// The legs a channel sends I/O to, as of `generation`.
    struct LegSet {
        struct Leg {
            var id: UInt64
            var slot: Int
            var descriptor: BlockDescriptor
        }

        var generation: UInt64
        /// In slot order.
        var legs: [Leg]
        /// What every leg supports (empty set when there is no leg).
        var commonTypes: IOTypes
        var isDeleted: Bool
    }

    func legSet() -> LegSet {
        control.withLock { state in
            var legs: [LegSet.Leg] = []
            var types = IOTypes(rawValue: .max)
            for (slot, member) in state.membership.slots.enumerated() {
                guard let member, let descriptor = state.descriptors[member.id] else { continue }
                legs.append(LegSet.Leg(id: member.id, slot: slot, descriptor: descriptor))
                types.formIntersection(descriptor.device.supportedIOTypes)
            }
            if legs.isEmpty { types = [] }
            return LegSet(
                generation: generation.load(ordering: .relaxed), legs: legs, commonTypes: types,
                isDeleted: state.membership.isDeleted)
        }
    }

    /// A channel saw the leg `memberID` fail: remove it from the array (SPDK's
    /// raid_bdev_fail_base_bdev). Reported twice, or after the leg left, it changes nothing.
    func legFailed(memberID: UInt64, error: any Error) {
        guard (try? change(.fail(memberID: memberID, reason: "\(error)"))) == true else { return }
        Task { await self.withdraw() }  // the caller is a reactor's I/O path: unregister off it
    }

    // MARK: - Helpers

    /// Applies a membership event: records the new descriptor or closes released ones, bumps the
    /// generation, then (outside the lock) tells the owner. Returns whether the array lost its
    /// last leg with this event.
    @discardableResult
    private func change(_ event: RAID1Membership.Event, opening descriptor: BlockDescriptor? = nil) throws -> Bool {
        let (released, events, handler) = try control.withLock {
            state throws(BlockError) -> ([BlockDescriptor], [RAID1Event], (@Sendable (RAID1Event) -> Void)?) in
            let action = try state.membership.onEvent(event)
            if action.attachedSlot != nil, case .attach(let member) = event, let descriptor {
                state.descriptors[member.id] = descriptor
            }
            let released = action.released.compactMap { state.descriptors.removeValue(forKey: $0.id) }
            if action != .none { generation.wrappingAdd(1, ordering: .relaxed) }
            return (released, action.events, state.eventHandler)
        }
        for descriptor in released { descriptor.close() }
        if let handler { for event in events { handler(event) } }
        return events.contains(.wentOffline)
    }

    private static func checkBase(
        _ device: any BlockDevice, raidName: String, blockSize: Int, minimumBlocks: UInt64
    ) throws(BlockError) {
        guard device.blockSize == blockSize else {
            throw BlockError(
                .invalidArgument,
                "\(device.name) has \(device.blockSize)-byte blocks but raid \(raidName) uses \(blockSize)-byte blocks")
        }
        guard device.blockCount >= minimumBlocks else {
            throw BlockError(
                .invalidArgument,
                "\(device.name) has \(device.blockCount) blocks, fewer than the \(minimumBlocks) of raid \(raidName)")
        }
        guard device.supportedIOTypes.isSuperset(of: [.read, .write]) else {
            throw BlockError(.invalidArgument, "\(device.name) is read-only and cannot be a base device of raid \(raidName)")
        }
    }

    /// Opens `device` for writing and claims it for the RAID module.
    private static func open(_ device: any BlockDevice, raidName: String) throws -> BlockDescriptor {
        do {
            // The removal handler follows once the leg is a member (`watchRemoval`).
            let descriptor = try BlockDescriptor(device, writable: true, removal: .handlerFollows)
            do {
                try descriptor.claim(module: claimModule)
            } catch {
                descriptor.close()
                throw error
            }
            return descriptor
        } catch let error as BlockError {
            throw BlockError(error.code, "raid \(raidName) cannot use \(device.name): \(error.message)", errno: error.systemErrno)
        }
    }
}
