// Adding, removing and changing one disk of a node the way Longhorn's UI does it: read the node,
// change its disk map, send the whole map back with `diskUpdate`. The edits here check what the
// command line can know (a disk to add is new, one to change exists, values in range); the API
// checks the rest (paths, scheduling, tags) and says why it refuses.

/// What `node disk update` changes; nil leaves the field as it is.
public struct DiskChange: Sendable, Equatable {
    public var allowScheduling: Bool?
    public var evictionRequested: Bool?
    public var storageReserved: Int64?
    public var tags: [String]?

    public init(
        allowScheduling: Bool? = nil, evictionRequested: Bool? = nil, storageReserved: Int64? = nil,
        tags: [String]? = nil
    ) {
        self.allowScheduling = allowScheduling
        self.evictionRequested = evictionRequested
        self.storageReserved = storageReserved
        self.tags = tags
    }

    public var isEmpty: Bool { self == DiskChange() }
}

/// A node's disk map as `diskUpdate` takes it: `{"disks": {name: spec}}`.
public struct DiskUpdateBody: Codable, Sendable, Equatable {
    public var disks: [String: DiskSpecBody]
    public init(disks: [String: DiskSpecBody]) { self.disks = disks }
}

extension NodeItem {
    /// The specs of the node's disks, as the API gave them.
    public var diskSpecs: [String: DiskSpecBody] { disks.mapValues(\.spec) }

    /// The disk map with `disk` added as `name`; a name already there is refused.
    public func addingDisk(_ name: String, _ disk: DiskSpecBody) throws(ManagerClientError) -> DiskUpdateBody {
        guard !name.isEmpty else { throw ManagerClientError("a disk name must not be empty") }
        guard disks[name] == nil else { throw ManagerClientError("node \(self.name) already has a disk \(name)") }
        guard disk.storageReserved >= 0 else { throw ManagerClientError("--storage-reserved must be at least 0") }
        var specs = diskSpecs
        specs[name] = disk
        return DiskUpdateBody(disks: specs)
    }

    /// The disk map without `name`; a name not there is refused.
    public func removingDisk(_ name: String) throws(ManagerClientError) -> DiskUpdateBody {
        guard disks[name] != nil else { throw ManagerClientError("node \(self.name) has no disk \(name)") }
        var specs = diskSpecs
        specs[name] = nil
        return DiskUpdateBody(disks: specs)
    }

    /// The disk map with `change` applied to `name`; a name not there, or no change, is refused.
    public func changingDisk(_ name: String, _ change: DiskChange) throws(ManagerClientError) -> DiskUpdateBody {
        guard var disk = disks[name]?.spec else { throw ManagerClientError("node \(self.name) has no disk \(name)") }
        guard !change.isEmpty else { throw ManagerClientError("nothing to change: give at least one option") }
        if let value = change.allowScheduling { disk.allowScheduling = value }
        if let value = change.evictionRequested { disk.evictionRequested = value }
        if let value = change.storageReserved {
            guard value >= 0 else { throw ManagerClientError("--storage-reserved must be at least 0") }
            disk.storageReserved = value
        }
        if let value = change.tags { disk.tags = value }
        var specs = diskSpecs
        specs[name] = disk
        return DiskUpdateBody(disks: specs)
    }
}
