// A RAID1 array's state at one moment, with the fields SPDK reports in the `raid` object of
// bdev_get_bdevs and in bdev_raid_get_bdevs (spdk.md §2.2). The RPC edge turns it into JSON.

public import Foundation

public struct RAID1Snapshot: Sendable, Equatable {
    /// SPDK's raid states. Arrays here are never `configuring`: they are created with every base
    /// present or not at all.
    public enum State: String, Sendable {
        case online, offline
    }

    /// One slot of the array.
    public struct Slot: Sendable, Equatable {
        /// The base device's name; nil when the slot is empty (its base failed or was removed).
        public var name: String?
        /// The base device's UUID; all zeroes when the slot is empty.
        public var uuid: UUID
        /// True while a base occupies the slot and takes I/O.
        public var isConfigured: Bool
        /// Where the array's data starts on the base: 0, as there is no superblock.
        public var dataOffsetBlocks: UInt64
        /// How much of the base the array uses: the array's size.
        public var dataSizeBlocks: UInt64

        public init(name: String?, uuid: UUID, isConfigured: Bool, dataOffsetBlocks: UInt64, dataSizeBlocks: UInt64) {
            self.name = name
            self.uuid = uuid
            self.isConfigured = isConfigured
            self.dataOffsetBlocks = dataOffsetBlocks
            self.dataSizeBlocks = dataSizeBlocks
        }
    }

    /// The UUID an empty slot reports.
    public static let zeroUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    public var name: String
    public var uuid: UUID
    public var state: State
    public var blockCount: UInt64
    public var slots: [Slot]
    /// Slots whose base takes I/O (SPDK's num_base_bdevs_operational).
    public var operationalCount: Int

    /// SPDK's `raid_level` name.
    public var level: String { "raid1" }
    /// Mirrors are not striped: always 0.
    public var stripSizeKiB: UInt32 { 0 }
    /// SPDK's num_base_bdevs: slots, occupied or not.
    public var slotCount: Int { slots.count }
    /// SPDK's num_base_bdevs_discovered: bases present. Without a configuring state this equals
    /// the operational count.
    public var discoveredCount: Int { slots.reduce(0) { $0 + ($1.isConfigured ? 1 : 0) } }
}
