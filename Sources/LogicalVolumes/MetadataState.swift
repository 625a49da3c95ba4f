// The lvstore's metadata as a value: every lvol's header and cluster map, and the store's own
// name and size. It changes only by applying `MetadataRecord`s, the same records the journal
// persists, so the state rebuilt by replay after a crash is the state that was acknowledged.
//
// Invariants (checked by `validate()` after load, and in tests after every operation):
// - every mapped cluster lies in the data region and is mapped by exactly one lvol at one index;
// - every parent exists and is a snapshot or read-only lvol; parent chains have no cycles;
// - names are unique within the store.

import BlockCore
import StorageKit

/// Sentinel of an unmapped cluster in a cluster map.
let unmappedCluster = UInt32.max

/// Flags of an lvol.
struct LvolFlags: OptionSet, Sendable, Equatable {
    let rawValue: UInt8
    static let thinProvisioned = LvolFlags(rawValue: 1)
    static let readOnly = LvolFlags(rawValue: 2)
    static let snapshot = LvolFlags(rawValue: 4)
}

/// Everything about an lvol except its cluster map.
struct LvolHeader: Sendable, Equatable {
    var id: UInt64
    var uuid: [UInt8]  // 16 bytes
    var name: String
    var flags: LvolFlags
    var sizeClusters: UInt64
    var parentID: UInt64  // 0: none
    var clearMethod: ClearMethod
    var creationTime: String
    var xattrs: [String: [UInt8]]
}

struct LvolMetadata: Sendable, Equatable {
    var header: LvolHeader
    /// Device cluster of each lvol cluster, `unmappedCluster` where none.
    var map: [UInt32]
    var allocatedCount: Int

    /// The device cluster of lvol cluster `index` and the parent to ask when it is unmapped
    /// (0 past the end: the lvol reads zeroes there).
    @inline(__always)
    func clusterOrParent(_ index: Int) -> (cluster: UInt32, parent: UInt64) {
        guard index < map.count else { return (unmappedCluster, 0) }
        return (map[index], header.parentID)
    }
}

enum MetadataRecord: Sendable, Equatable {
    /// Creates an lvol, or replaces its header (rename, read-only, xattrs, parent, size).
    /// A smaller size frees the clusters beyond it.
    case putLvol(LvolHeader)
    /// Deletes an lvol and frees its clusters.
    case deleteLvol(id: UInt64)
    /// Maps clusters (`cluster == unmappedCluster` frees the mapping).
    case mapClusters(id: UInt64, entries: [(index: UInt64, cluster: UInt32)])
    /// Moves every cluster of `from` to `to` (snapshot: the snapshot takes the lvol's clusters).
    case transferClusters(from: UInt64, to: UInt64)
    /// The clone takes each snapshot cluster it lacks; the snapshot keeps the rest (freed by the
    /// deleteLvol that follows).
    case mergeSnapshot(snapshot: UInt64, clone: UInt64)
    case renameStore(String)
    case setTotalClusters(UInt64)
    /// Written when a store is opened: marks the journal dirty so an unclean stop is detected.
    case opened

    static func == (lhs: MetadataRecord, rhs: MetadataRecord) -> Bool {
        switch (lhs, rhs) {
        case (.putLvol(let a), .putLvol(let b)): return a == b
        case (.deleteLvol(let a), .deleteLvol(let b)): return a == b
        case (.mapClusters(let a, let x), .mapClusters(let b, let y)):
            return a == b && x.count == y.count && zip(x, y).allSatisfy { $0.index == $1.index && $0.cluster == $1.cluster }
        case (.transferClusters(let a, let b), .transferClusters(let c, let d)): return a == c && b == d
        case (.mergeSnapshot(let a, let b), .mergeSnapshot(let c, let d)): return a == c && b == d
        case (.renameStore(let a), .renameStore(let b)): return a == b
        case (.setTotalClusters(let a), .setTotalClusters(let b)): return a == b
        case (.opened, .opened): return true
        default: return false
        }
    }
}

struct MetadataState: Sendable, Equatable {
    var storeName: String
    var totalClusters: UInt64
    /// First cluster of the data region (clusters before it hold metadata).
    var firstDataCluster: UInt64
    var nextLvolID: UInt64
    var lvols: [UInt64: LvolMetadata]

    var allocatedClusters: Int { lvols.values.reduce(0) { $0 + $1.allocatedCount } }

    func lvol(named name: String) -> LvolMetadata? { lvols.values.first { $0.header.name == name } }

    func children(of id: UInt64) -> [LvolMetadata] {
        lvols.values.filter { $0.header.parentID == id }.sorted { $0.header.id < $1.header.id }
    }

    /// Applies a record. Records come from this process or from the journal; a record that does
    /// not fit the state is corruption (a journal written by a correct store never holds one).
    mutating func apply(_ record: MetadataRecord) throws {
        switch record {
        case .putLvol(let header):
            guard header.sizeClusters <= totalClusters * LvolLimits.maxOverprovisionFactor else {
                throw BlockError(.corrupted, "lvol \(header.name) claims \(header.sizeClusters) clusters")
            }
            if var existing = lvols[header.id] {
                let newSize = Int(header.sizeClusters)
                if newSize < existing.map.count {
                    for index in newSize..<existing.map.count where existing.map[index] != unmappedCluster {
                        existing.allocatedCount -= 1
                    }
                    existing.map.removeLast(existing.map.count - newSize)
                } else if newSize > existing.map.count {
                    existing.map.append(contentsOf: repeatElement(unmappedCluster, count: newSize - existing.map.count))
                }
                existing.header = header
                lvols[header.id] = existing
            } else {
                lvols[header.id] = LvolMetadata(
                    header: header, map: [UInt32](repeating: unmappedCluster, count: Int(header.sizeClusters)),
                    allocatedCount: 0)
                nextLvolID = max(nextLvolID, header.id + 1)
            }
        case .deleteLvol(let id):
            guard lvols.removeValue(forKey: id) != nil else {
                throw BlockError(.corrupted, "journal deletes lvol \(id), which does not exist")
            }
        case .mapClusters(let id, let entries):
            guard var lvol = lvols[id] else {
                throw BlockError(.corrupted, "journal maps clusters of lvol \(id), which does not exist")
            }
            lvols[id] = nil  // keep the array uniquely referenced while editing
            for entry in entries {
                guard entry.index < UInt64(lvol.map.count) else {
                    throw BlockError(.corrupted, "journal maps cluster index \(entry.index) past the end of lvol \(id)")
                }
                let index = Int(entry.index)
                let wasMapped = lvol.map[index] != unmappedCluster
                let isMapped = entry.cluster != unmappedCluster
                if isMapped {
                    guard UInt64(entry.cluster) >= firstDataCluster, UInt64(entry.cluster) < totalClusters else {
                        throw BlockError(.corrupted, "journal maps device cluster \(entry.cluster) outside the data region")
                    }
                }
                lvol.map[index] = entry.cluster
                lvol.allocatedCount += (isMapped ? 1 : 0) - (wasMapped ? 1 : 0)
            }
            lvols[id] = lvol
        case .transferClusters(let from, let to):
            guard var source = lvols[from], var target = lvols[to] else {
                throw BlockError(.corrupted, "journal transfers clusters between missing lvols \(from) and \(to)")
            }
            guard target.allocatedCount == 0, target.map.count == source.map.count else {
                throw BlockError(.corrupted, "journal transfers clusters into lvol \(to), which is not empty or not the same size")
            }
            target.map = source.map
            target.allocatedCount = source.allocatedCount
            source.map = [UInt32](repeating: unmappedCluster, count: source.map.count)
            source.allocatedCount = 0
            lvols[from] = source
            lvols[to] = target
        case .mergeSnapshot(let snapshotID, let cloneID):
            guard var snapshot = lvols[snapshotID], var clone = lvols[cloneID] else {
                throw BlockError(.corrupted, "journal merges missing lvols \(snapshotID) into \(cloneID)")
            }
            lvols[cloneID] = nil
            lvols[snapshotID] = nil
            for index in 0..<min(snapshot.map.count, clone.map.count)
            where clone.map[index] == unmappedCluster && snapshot.map[index] != unmappedCluster {
                clone.map[index] = snapshot.map[index]
                clone.allocatedCount += 1
                snapshot.map[index] = unmappedCluster
                snapshot.allocatedCount -= 1
            }
            lvols[cloneID] = clone
            lvols[snapshotID] = snapshot
        case .renameStore(let name):
            storeName = name
        case .setTotalClusters(let count):
            guard count >= totalClusters, count <= LvolLimits.maxClusters else {
                throw BlockError(.corrupted, "journal shrinks the store from \(totalClusters) to \(count) clusters")
            }
            totalClusters = count
        case .opened:
            break
        }
    }

    /// The allocation bitmap implied by the maps; throws when a cluster is mapped twice.
    func allocationBitmap() throws -> Bitset {
        guard totalClusters <= LvolLimits.maxClusters, firstDataCluster < totalClusters else {
            throw BlockError(.corrupted, "\(totalClusters) clusters with data from cluster \(firstDataCluster)")
        }
        var used = Bitset(count: Int(totalClusters))
        for cluster in 0..<Int(firstDataCluster) { used[cluster] = true }
        for lvol in lvols.values {
            for cluster in lvol.map where cluster != unmappedCluster {
                guard UInt64(cluster) < totalClusters, UInt64(cluster) >= firstDataCluster else {
                    throw BlockError(.corrupted, "lvol \(lvol.header.name) maps device cluster \(cluster) outside the data region")
                }
                guard !used[Int(cluster)] else {
                    throw BlockError(.corrupted, "device cluster \(cluster) is mapped twice (lvol \(lvol.header.name))")
                }
                used[Int(cluster)] = true
            }
        }
        return used
    }

    /// Checks the structural invariants; throws `.corrupted` naming the first violation.
    func validate() throws {
        var names = Set<String>()
        for lvol in lvols.values {
            guard names.insert(lvol.header.name).inserted else {
                throw BlockError(.corrupted, "two lvols are named \(lvol.header.name)")
            }
            guard lvol.map.count == Int(lvol.header.sizeClusters) else {
                throw BlockError(.corrupted, "lvol \(lvol.header.name) has a map of \(lvol.map.count) clusters for size \(lvol.header.sizeClusters)")
            }
            guard lvol.allocatedCount == lvol.map.lazy.filter({ $0 != unmappedCluster }).count else {
                throw BlockError(.corrupted, "lvol \(lvol.header.name) miscounts its clusters")
            }
            var seen = Set<UInt64>([lvol.header.id])
            var parent = lvol.header.parentID
            while parent != 0 {
                guard let ancestor = lvols[parent] else {
                    throw BlockError(.corrupted, "lvol \(lvol.header.name) has a missing parent \(parent)")
                }
                guard ancestor.header.flags.contains(.readOnly) else {
                    throw BlockError(.corrupted, "lvol \(lvol.header.name) has a writable parent \(ancestor.header.name)")
                }
                guard seen.insert(parent).inserted else {
                    throw BlockError(.corrupted, "lvol \(lvol.header.name) has a cycle in its parent chain")
                }
                parent = ancestor.header.parentID
            }
        }
        _ = try allocationBitmap()
    }
}
