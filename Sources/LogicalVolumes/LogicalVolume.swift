// An lvol as a block device: name = its UUID, alias = "<lvstore>/<lvol>" (spdk.md §2.0, §3.5).

public import BlockCore
public import Foundation
import Synchronization

/// Approximate size of a LogicalVolume object with its fence and identity.
private let class_getInstanceSizeEstimate = 256

public final class LogicalVolume: BlockDevice, @unchecked Sendable {
    public let uuid: UUID
    public let claims = DeviceClaims()
    public let ioControl = DeviceIOControl()
    let id: UInt64
    /// Strong: an lvol keeps its store open. The store drops its lvols when closed.
    let store: LogicalVolumeStore
    let fence = IOFence()

    private struct Identity {
        var lvolName: String
        var storeName: String
        /// `storeName/lvolName`, kept with them.
        var alias: String
        var blockCount: UInt64
        var flags: LvolFlags
        var gone: Bool
    }

    private let identity: Mutex<Identity>

    init(store: LogicalVolumeStore, header: LvolHeader) {
        self.store = store
        self.id = header.id
        let uuid = header.uuid.withUnsafeBytes { UUID(uuid: $0.loadUnaligned(as: uuid_t.self)) }
        self.uuid = uuid
        self.name = uuid.uuidString.lowercased()
        self.identity = Mutex(
            Identity(
                lvolName: header.name, storeName: store.state.storeName,
                alias: "\(store.state.storeName)/\(header.name)",
                blockCount: header.sizeClusters * UInt64(store.superblock.clusterSize / store.superblock.blockSize),
                flags: header.flags, gone: false))
    }

    /// Refreshes the identity fields after a metadata change (runs on the store's executor).
    func refresh() {
        guard let header = store.state.lvols[id]?.header else { return }
        let storeName = store.state.storeName
        let blocks = header.sizeClusters * UInt64(store.superblock.clusterSize / store.superblock.blockSize)
        identity.withLock {
            $0.lvolName = header.name
            $0.storeName = storeName
            $0.alias = "\(storeName)/\(header.name)"
            $0.blockCount = blocks
            $0.flags = header.flags
        }
    }

    func markGone() { identity.withLock { $0.gone = true } }

    /// Its UUID, lowercased (made once: the registry sorts and finds devices by name).
    public let name: String
    public var aliases: [String] { identity.withLock { [$0.alias] } }
    public func hasAlias(_ key: String) -> Bool { identity.withLock { $0.alias == key } }
    /// The lvol's own name (without the lvstore prefix).
    public var lvolName: String { identity.withLock { $0.lvolName } }
    public var productName: String { "Logical Volume" }
    public var blockSize: Int { store.superblock.blockSize }
    public var blockCount: UInt64 { identity.withLock { $0.blockCount } }
    public var isThinProvisioned: Bool { identity.withLock { $0.flags.contains(.thinProvisioned) } }
    public var isReadOnly: Bool { identity.withLock { $0.flags.contains(.readOnly) } }
    public var isSnapshot: Bool { identity.withLock { $0.flags.contains(.snapshot) } }
    /// False once the lvol was deleted or its store closed.
    public var exists: Bool { identity.withLock { !$0.gone } }
    public var lvstore: LogicalVolumeStore { store }

    public var supportedIOTypes: IOTypes {
        var types: IOTypes = [.read, .flush, .reset, .seekData, .seekHole]
        if !isReadOnly { types.formUnion([.write, .unmap, .writeZeroes]) }
        return types
    }

    public func makeChannel() throws -> any IOChannel {
        guard exists else { throw BlockError(.notFound, "lvol \(name) no longer exists") }
        return LogicalVolumeChannel(volume: self)
    }

    // MARK: - Metadata views (any thread)

    /// Clusters owned by this lvol alone (SPDK's `num_allocated_clusters`).
    public var allocatedClusters: UInt64 { store.onExecutorOrLocked { UInt64($0.state.lvols[id]?.allocatedCount ?? 0) } }
    /// The parent snapshot, for clones.
    public var parent: LogicalVolume? {
        store.onExecutorOrLocked { store in
            store.state.lvols[id].flatMap { store.volumesByID[$0.header.parentID] }
        }
    }
    /// Clones of this snapshot.
    public var clones: [LogicalVolume] {
        store.onExecutorOrLocked { store in store.state.children(of: id).compactMap { store.volumesByID[$0.header.id] } }
    }
    public var isClone: Bool { parent != nil }
    /// RFC 3339 UTC creation time, e.g. 2026-11-25T01:02:03Z.
    public var creationTime: String { store.onExecutorOrLocked { $0.state.lvols[id]?.header.creationTime ?? "" } }
    public var clearMethod: ClearMethod {
        store.onExecutorOrLocked { $0.state.lvols[id]?.header.clearMethod ?? .none }
    }

    /// An xattr's value: user xattrs and the built-in `name`, `uuid` and `creation_time`.
    public func xattr(_ key: String) -> [UInt8]? {
        switch key {
        case "name": return Array(lvolName.utf8)
        case "uuid": return Array(name.utf8)
        case "creation_time": return Array(creationTime.utf8)
        default: return store.onExecutorOrLocked { $0.state.lvols[id]?.header.xattrs[key] }
        }
    }

    /// Names of the user xattrs.
    public var xattrNames: [String] {
        store.onExecutorOrLocked { $0.state.lvols[id]?.header.xattrs.keys.sorted() ?? [] }
    }

    /// Bytes of memory this lvol's metadata takes: its cluster map (4 bytes a cluster) and header.
    public var metadataMemoryBytes: Int {
        store.onExecutorOrLocked { store in
            guard let lvol = store.state.lvols[id] else { return 0 }
            return lvol.map.capacity * MemoryLayout<UInt32>.stride + lvol.header.encodedBytes
                + MemoryLayout<LvolMetadata>.stride + class_getInstanceSizeEstimate
        }
    }

    /// Index `i` set when this lvol itself owns lvol cluster `i`.
    public var ownedClusterMap: [Bool] {
        store.onExecutorOrLocked { $0.state.lvols[id]?.map.map { $0 != unmappedCluster } ?? [] }
    }
}
