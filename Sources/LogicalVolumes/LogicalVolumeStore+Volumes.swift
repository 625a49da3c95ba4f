// Lvol control operations: create, delete (with snapshot merge), resize, rename, read-only,
// xattrs, snapshot and clone (spdk.md §3.4). Each is one atomic metadata commit.

import BlockCore
import Foundation

extension LogicalVolumeStore {
    /// Creates an lvol of `sizeBytes` rounded up to whole clusters. A thick lvol gets all its
    /// clusters now, zeroed.
    public func createVolume(
        name: String, sizeBytes: UInt64, thinProvisioned: Bool, clearMethod: ClearMethod? = nil
    ) async throws -> LogicalVolume {
        try Self.validateName(name, what: "lvol")
        return try await control {
            let sizeClusters = try clusters(forBytes: sizeBytes)
            try ensureNameFree(name)
            var header = newHeader(name: name, sizeClusters: sizeClusters, flags: thinProvisioned ? [.thinProvisioned] : [])
            header.clearMethod = clearMethod ?? superblock.clearMethod
            var records: [MetadataRecord] = [.putLvol(header)]
            var reserved: [UInt32] = []
            if !thinProvisioned {
                reserved = try await allocateZeroedClusters(count: Int(sizeClusters), extraBytes: header.encodedBytes)
                records.append(
                    .mapClusters(id: header.id, entries: reserved.enumerated().map { (UInt64($0.offset), $0.element) }))
            } else {
                guard metadataFits(extraClusters: 0, extraBytes: header.encodedBytes + 16) else {
                    throw BlockError(.noSpace, "lvstore \(state.storeName) has no metadata space left for lvol \(name)")
                }
            }
            do {
                try await commit(records)
            } catch {
                unreserveClusters(reserved)
                throw error
            }
            return try registerVolume(id: header.id)
        }
    }

    /// Deletes an lvol. A snapshot with one clone is merged into it; with more, `.busy`.
    public func delete(_ volume: LogicalVolume) async throws {
        try await control {
            let lvol = try metadata(of: volume)
            let clones = state.children(of: lvol.header.id)
            guard clones.count <= 1 else {
                throw BlockError(.busy, "snapshot \(lvol.header.name) has \(clones.count) clones; delete them first")
            }
            // As SPDK's bdev_lvol_delete: the lvol's bdev goes away first, and what sits on it
            // (an export, a namespace, a RAID leg) lets go. Only an opener that cannot be told
            // keeps it busy. A delete that fails from here lets the lvol be opened again.
            await volume.claims.hotRemove()
            var deleted = false
            defer { if !deleted { volume.claims.cancelRemoval() } }
            let claims = volume.claims.current
            guard claims.claimant == nil, claims.writers == 0 else {
                throw BlockError(.busy, "lvol \(lvol.header.name) is open (claimed by \(claims.claimant ?? "a writer"))")
            }
            await volume.fence.freezeAndDrain()
            defer { volume.fence.thaw() }
            var records: [MetadataRecord] = []
            var freed: [UInt32] = []
            if let clone = clones.first {
                let cloneVolume = volumesByID[clone.header.id]!
                await cloneVolume.fence.freezeAndDrain()
                defer { cloneVolume.fence.thaw() }
                for (index, cluster) in lvol.map.enumerated() where cluster != unmappedCluster {
                    if index >= clone.map.count || clone.map[index] != unmappedCluster { freed.append(cluster) }
                }
                var cloneHeader = clone.header
                cloneHeader.parentID = lvol.header.parentID
                // Past the snapshot's end the clone read zeroes; where the new parent reaches
                // further, the clone gets zeroed clusters of its own so its content stays the same.
                let exposed = (min(lvol.map.count, clone.map.count)..<clone.map.count).filter { index in
                    clone.map[index] == unmappedCluster && lvol.header.parentID != 0
                        && resolve(lvol.header.parentID, index: index) != unmappedCluster
                }
                let zeroed = try await allocateZeroedClusters(count: exposed.count)
                if !exposed.isEmpty {
                    records.append(
                        .mapClusters(id: clone.header.id, entries: zip(exposed, zeroed).map { (UInt64($0), $1) }))
                }
                records += [.mergeSnapshot(snapshot: lvol.header.id, clone: clone.header.id), .putLvol(cloneHeader),
                    .deleteLvol(id: lvol.header.id)]
                do {
                    try await commit(records)
                } catch {
                    unreserveClusters(zeroed)
                    throw error
                }
                cloneVolume.refresh()
            } else {
                freed = lvol.map.filter { $0 != unmappedCluster }
                try await commit([.deleteLvol(id: lvol.header.id)])
            }
            deleted = true
            unregisterVolume(volume)
            await releaseClusters(freed, clear: lvol.header.clearMethod)
        }
    }

    /// Resizes an lvol to `sizeBytes` rounded up to clusters (0 included). Shrinking frees the
    /// clusters past the end and is refused with `.busy` while the lvol is open for writing;
    /// growing a thick lvol allocates and zeroes new clusters.
    public func resize(_ volume: LogicalVolume, sizeBytes: UInt64) async throws {
        try await control {
            let lvol = try metadata(of: volume)
            guard !lvol.header.flags.contains(.readOnly) else {
                throw BlockError(.readOnly, "lvol \(lvol.header.name) is read-only and cannot be resized")
            }
            let newSize = try clusters(forBytes: sizeBytes)
            // As in SPDK (a bdev with open descriptors cannot shrink), an lvol that something
            // holds open for writing (an export, a RAID, an NVMe-oF namespace) only grows.
            let claims = volume.claims.current
            guard newSize >= lvol.header.sizeClusters || (claims.claimant == nil && claims.writers == 0) else {
                throw BlockError(
                    .busy, "lvol \(lvol.header.name) is open (claimed by \(claims.claimant ?? "a writer")) and cannot shrink")
            }
            await volume.fence.freezeAndDrain()
            defer { volume.fence.thaw() }
            var header = lvol.header
            header.sizeClusters = newSize
            if newSize < lvol.header.sizeClusters {
                let freed = lvol.map[Int(newSize)...].filter { $0 != unmappedCluster }
                try await commit([.putLvol(header)])
                await releaseClusters(Array(freed), clear: lvol.header.clearMethod)
            } else if newSize > lvol.header.sizeClusters {
                var records: [MetadataRecord] = [.putLvol(header)]
                var reserved: [UInt32] = []
                if !lvol.header.flags.contains(.thinProvisioned) {
                    reserved = try await allocateZeroedClusters(count: Int(newSize - lvol.header.sizeClusters))
                    let first = lvol.header.sizeClusters
                    records.append(
                        .mapClusters(
                            id: header.id,
                            entries: reserved.enumerated().map { (first + UInt64($0.offset), $0.element) }))
                }
                do {
                    try await commit(records)
                } catch {
                    unreserveClusters(reserved)
                    throw error
                }
            }
            volume.refresh()
        }
    }

    /// Renames an lvol within its store (its bdev name, the UUID, stays).
    public func rename(_ volume: LogicalVolume, to newName: String) async throws {
        try Self.validateName(newName, what: "lvol")
        try await control {
            var header = try metadata(of: volume).header
            guard header.name != newName else { return }
            try ensureNameFree(newName)
            header.name = newName
            try await commit([.putLvol(header)])
            volume.refresh()
        }
    }

    /// Makes an lvol read-only (it can then be cloned).
    public func setReadOnly(_ volume: LogicalVolume) async throws {
        try await control {
            var header = try metadata(of: volume).header
            guard !header.flags.contains(.readOnly) else { return }
            await volume.fence.freezeAndDrain()
            defer { volume.fence.thaw() }
            header.flags.insert(.readOnly)
            try await commit([.putLvol(header)])
            volume.refresh()
        }
    }

    /// Sets a user xattr. Read-only lvols (snapshots) refuse with `.readOnly`.
    public func setXattr(_ volume: LogicalVolume, name key: String, value: [UInt8]) async throws {
        guard !key.isEmpty, key.utf8.count <= LvolLimits.maxNameBytes else {
            throw BlockError(.invalidArgument, "xattr name must be 1 to \(LvolLimits.maxNameBytes) bytes")
        }
        guard !["name", "uuid", "creation_time"].contains(key) else {
            throw BlockError(.invalidArgument, "xattr \(key) is built in and cannot be set")
        }
        guard value.count <= LvolLimits.maxXattrValueBytes else {
            throw BlockError(.invalidArgument, "xattr value is \(value.count) bytes; the limit is \(LvolLimits.maxXattrValueBytes)")
        }
        try await control {
            var header = try metadata(of: volume).header
            guard !header.flags.contains(.readOnly) else {
                throw BlockError(.readOnly, "lvol \(header.name) is read-only; its xattrs cannot change")
            }
            header.xattrs[key] = value
            guard metadataFits(extraClusters: 0, extraBytes: key.utf8.count + value.count + 8) else {
                throw BlockError(.noSpace, "lvstore \(state.storeName) has no metadata space left for xattr \(key)")
            }
            try await commit([.putLvol(header)])
        }
    }

    /// Takes a snapshot: a new read-only lvol takes every cluster of `volume`, which becomes its
    /// thin clone. Returns the snapshot. A read-only `volume` (a snapshot) is refused.
    public func snapshot(_ volume: LogicalVolume, name: String, xattrs: [String: [UInt8]] = [:]) async throws
        -> LogicalVolume
    {
        try Self.validateName(name, what: "snapshot")
        return try await control {
            var origin = try metadata(of: volume).header
            try ensureNameFree(name)
            // SPDK's blobstore refuses to snapshot a read-only blob (a snapshot, or an lvol made
            // read-only) with EINVAL: its clusters are already frozen.
            guard !origin.flags.contains(.readOnly) else {
                throw BlockError(.invalidArgument, "lvol \(origin.name) is read-only; a snapshot cannot be taken of it")
            }
            var snapshot = newHeader(
                name: name, sizeClusters: origin.sizeClusters, flags: [.thinProvisioned, .readOnly, .snapshot])
            snapshot.parentID = origin.parentID
            snapshot.clearMethod = origin.clearMethod
            snapshot.xattrs = xattrs
            guard metadataFits(extraClusters: 0, extraBytes: snapshot.encodedBytes + 16) else {
                throw BlockError(.noSpace, "lvstore \(state.storeName) has no metadata space left for snapshot \(name)")
            }
            await volume.fence.freezeAndDrain()
            defer { volume.fence.thaw() }
            origin.parentID = snapshot.id
            origin.flags.insert(.thinProvisioned)
            try await commit([
                .putLvol(snapshot), .transferClusters(from: origin.id, to: snapshot.id), .putLvol(origin),
            ])
            volume.refresh()
            return try registerVolume(id: snapshot.id)
        }
    }

    /// Creates a thin clone of a read-only lvol (normally a snapshot).
    public func clone(_ snapshot: LogicalVolume, name: String) async throws -> LogicalVolume {
        try Self.validateName(name, what: "clone")
        return try await control {
            let parent = try metadata(of: snapshot).header
            guard parent.flags.contains(.readOnly) else {
                throw BlockError(.invalidArgument, "lvol \(parent.name) is not read-only; only snapshots can be cloned")
            }
            try ensureNameFree(name)
            var clone = newHeader(name: name, sizeClusters: parent.sizeClusters, flags: [.thinProvisioned])
            clone.parentID = parent.id
            clone.clearMethod = parent.clearMethod
            guard metadataFits(extraClusters: 0, extraBytes: clone.encodedBytes + 16) else {
                throw BlockError(.noSpace, "lvstore \(state.storeName) has no metadata space left for clone \(name)")
            }
            try await commit([.putLvol(clone)])
            return try registerVolume(id: clone.id)
        }
    }

    // MARK: - Helpers

    func metadata(of volume: LogicalVolume) throws -> LvolMetadata {
        guard volume.store === self, let lvol = state.lvols[volume.id], volume.exists else {
            throw BlockError(.notFound, "lvol \(volume.name) does not exist in lvstore \(state.storeName)")
        }
        return lvol
    }

    /// Whole clusters for `bytes`, rounded up. Zero is a valid size, as in SPDK's blobstore: an
    /// lvol of 0 clusters owns nothing, and every read or write of it is out of range.
    func clusters(forBytes bytes: UInt64) throws -> UInt64 {
        let clusterSize = UInt64(superblock.clusterSize)
        let (rounded, overflow) = bytes.addingReportingOverflow(clusterSize - 1)
        let count = rounded / clusterSize
        let limit = min(UInt64(UInt32.max - 1), state.totalClusters * LvolLimits.maxOverprovisionFactor)
        guard !overflow, count <= limit else {
            throw BlockError(
                .invalidArgument,
                "lvol size \(bytes) bytes is too large: at most \(LvolLimits.maxOverprovisionFactor)× the lvstore (\(limit) clusters)")
        }
        return count
    }

    func ensureNameFree(_ name: String) throws {
        if state.lvol(named: name) != nil {
            throw BlockError(.alreadyExists, "lvstore \(state.storeName) already has an lvol named \(name)")
        }
    }

    func newHeader(name: String, sizeClusters: UInt64, flags: LvolFlags) -> LvolHeader {
        let id = state.nextLvolID
        state.nextLvolID += 1
        let uuid = withUnsafeBytes(of: UUID().uuid) { Array($0) }
        return LvolHeader(
            id: id, uuid: uuid, name: name, flags: flags, sizeClusters: sizeClusters, parentID: 0,
            clearMethod: superblock.clearMethod, creationTime: Self.timestamp(), xattrs: [:])
    }

    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// Reserves `count` clusters and writes zeroes over them (durable); the caller commits them.
    func allocateZeroedClusters(count: Int, extraBytes: Int = 0) async throws -> [UInt32] {
        guard count > 0 else { return [] }
        guard count <= freeClusterCount else {
            throw BlockError(
                .noSpace, "lvstore \(state.storeName) has \(freeClusterCount) free clusters; \(count) are needed")
        }
        guard metadataFits(extraClusters: count, extraBytes: extraBytes + 16) else {
            throw BlockError(.noSpace, "lvstore \(state.storeName) has no metadata space left for \(count) clusters")
        }
        var reserved: [UInt32] = []
        do {
            for _ in 0..<count { reserved.append(try reserveCluster()) }
            let blocksPerCluster = UInt64(superblock.clusterSize / superblock.blockSize)
            for run in Self.runs(of: reserved) {
                try await metadata().writeZeroes(
                    offsetBlocks: UInt64(run.lowerBound) * blocksPerCluster, blockCount: UInt64(run.count) * blocksPerCluster)
            }
            try await metadata().flush()
        } catch {
            unreserveClusters(reserved)
            throw error
        }
        return reserved
    }

    @discardableResult
    func registerVolume(id: UInt64) throws -> LogicalVolume {
        let volume = LogicalVolume(store: self, header: state.lvols[id]!.header)
        mutateProperties { volumesByID[id] = volume }
        try registry?.register(volume)
        return volume
    }

    func unregisterVolume(_ volume: LogicalVolume) {
        volume.markGone()
        mutateProperties { volumesByID[volume.id] = nil }
        if let registry { _ = try? registry.unregister(name: volume.name) }
    }
}
