// A logical volume store (SPDK's lvstore) on one block device.
//
// Model: the metadata is a value (`MetadataState`) changed only by records. A change is made
// durable by appending one journal entry holding its records (one write with FUA) before it is
// applied in memory and acknowledged; concurrent changes share an entry (group commit). When the
// journal is full the whole state is written as a checkpoint into the other of two slots, and the
// journal starts again under the next epoch. Load = newest valid checkpoint + replay of the
// journal entries of its epoch, in sequence, up to the first torn one.
//
// Durability contract (docs/lvstore-format.md):
// - a metadata operation that returned is durable (its entry was written with FUA);
// - a data write that returned is durable after a later flush (or at once with FUA), and so is the
//   cluster allocation it caused: allocations are committed before the write returns;
// - a newly allocated cluster is filled (zeroes, or the parent's data) and flushed before its
//   mapping is committed, so no lvol ever sees another lvol's old data, even after a crash;
// - after an unclean stop the allocation bitmap is rebuilt from the cluster maps;
// - every structure is checksummed; damage that is not a torn tail is refused with `.corrupted`.
//
// Concurrency: all state is confined to one executor (a reactor). Public methods hop onto it;
// I/O channels take a fast path when already there.

public import BlockCore
public import Foundation
import StorageKit

public final class LogicalVolumeStore: @unchecked Sendable {
    /// Options of `create`.
    public struct CreateOptions: Sendable {
        public var clusterSize: Int
        public var clearMethod: ClearMethod
        /// SPDK's `num_md_pages_per_cluster_ratio`.
        public var metadataPagesPerClusterPercent: Int

        public init(
            clusterSize: Int = LvolLimits.defaultClusterSize, clearMethod: ClearMethod = .unmap,
            metadataPagesPerClusterPercent: Int = LvolLimits.defaultMetadataPagesPerClusterPercent
        ) {
            self.clusterSize = clusterSize
            self.clearMethod = clearMethod
            self.metadataPagesPerClusterPercent = metadataPagesPerClusterPercent
        }
    }

    public let baseDevice: any BlockDevice
    public let uuid: UUID
    public let executor: any IOExecutor
    let descriptor: BlockDescriptor
    let superblock: Superblock
    let registry: BlockDeviceRegistry?

    var state: MetadataState
    var used: Bitset
    var freeClusterCount: Int
    var epoch: UInt64
    var nextSequence: UInt64
    var journalUsedBytes: UInt64
    var metadataChannel: (any IOChannel)?
    var volumesByID: [UInt64: LogicalVolume] = [:]
    var allocationsInFlight: [AllocationKey: [UnsafeContinuation<Void, Never>]] = [:]
    var allocationHint = 0
    /// Cluster-sized buffers for copy-on-write; at most this many copies run at once.
    lazy var copyBuffers = IOBufferPool(bufferSize: superblock.clusterSize, capacity: LvolLimits.copyOnWriteBuffers)
    let controlLock = AsyncMutex()
    var isOpen = true
    /// False when the last load found the store not cleanly closed (its journal was replayed).
    public private(set) var wasCleanlyClosed: Bool

    // Group commit.
    var pendingRecords: [MetadataRecord] = []
    var pendingWaiters: [UnsafeContinuation<Void, any Error>] = []
    var commitInProgress = false

    struct AllocationKey: Hashable {
        var lvol: UInt64
        var index: Int
    }

    init(
        baseDevice: any BlockDevice, descriptor: BlockDescriptor, superblock: Superblock, state: MetadataState,
        epoch: UInt64, nextSequence: UInt64, journalUsedBytes: UInt64, executor: any IOExecutor,
        registry: BlockDeviceRegistry?, wasCleanlyClosed: Bool
    ) throws {
        self.baseDevice = baseDevice
        self.descriptor = descriptor
        self.superblock = superblock
        self.state = state
        self.used = try state.allocationBitmap()
        self.freeClusterCount = Int(state.totalClusters) - used.setCount
        self.epoch = epoch
        self.nextSequence = nextSequence
        self.journalUsedBytes = journalUsedBytes
        self.executor = executor
        self.registry = registry
        self.wasCleanlyClosed = wasCleanlyClosed
        self.uuid = superblock.storeUUID.withUnsafeBytes { raw in
            UUID(uuid: raw.loadUnaligned(as: uuid_t.self))
        }
    }

    // MARK: - Properties

    public var name: String { onExecutorOrLocked { $0.state.storeName } }
    public var clusterSize: Int { superblock.clusterSize }
    public var blockSize: Int { superblock.blockSize }
    public var clearMethod: ClearMethod { superblock.clearMethod }
    /// Clusters available to lvols (SPDK's `total_data_clusters`).
    public var totalDataClusters: UInt64 { onExecutorOrLocked { $0.state.totalClusters - $0.state.firstDataCluster } }
    /// Clusters not owned by any lvol (SPDK's `free_clusters`).
    public var freeClusters: UInt64 { onExecutorOrLocked { UInt64($0.freeClusterCount) } }
    /// The lvols of this store, sorted by name.
    public var volumes: [LogicalVolume] {
        onExecutorOrLocked { store in store.volumesByID.values.sorted { $0.lvolName < $1.lvolName } }
    }

    public func volume(named name: String) -> LogicalVolume? { volumes.first { $0.lvolName == name } }

    /// Reads a property from any thread. Properties change only on the executor, between awaits,
    /// so a reader elsewhere sees a value that was true at some instant; values are small.
    let propertyLock = NSLock()
    func onExecutorOrLocked<T>(_ body: (LogicalVolumeStore) -> T) -> T {
        if executor.isCurrent { return body(self) }
        propertyLock.lock()
        defer { propertyLock.unlock() }
        return body(self)
    }

    /// Runs a state change on the executor while holding the property lock, so off-executor readers
    /// never observe a torn value.
    func mutateProperties(_ body: () throws -> Void) rethrows {
        propertyLock.lock()
        defer { propertyLock.unlock() }
        try body()
    }

    // MARK: - Running on the executor

    func onExecutor<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        if executor.isCurrent { return try await body() }
        return try await withTaskExecutorPreference(executor) { try await body() }
    }

    /// Runs a control operation: on the executor, serialized with other control operations.
    func control<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await onExecutor {
            await controlLock.lock()
            defer { controlLock.unlock() }
            guard isOpen else { throw BlockError(.closed, "lvstore \(state.storeName) is closed") }
            return try await body()
        }
    }

    // MARK: - Metadata I/O

    func metadata() throws -> any IOChannel {
        if let metadataChannel { return metadataChannel }
        let channel = try descriptor.makeChannel()
        metadataChannel = channel
        return channel
    }

    func readBytes(at offset: UInt64, count: Int) async throws -> [UInt8] {
        let buffer = IOBuffer(byteCount: count)
        try await metadata().read(buffer.vector(), offsetBlocks: offset / UInt64(superblock.blockSize))
        return Array(buffer.bytes)
    }

    func writeBytes(_ bytes: [UInt8], at offset: UInt64, options: WriteOptions) async throws {
        let buffer = IOBuffer(byteCount: bytes.count)
        bytes.withUnsafeBytes { buffer.bytes.copyMemory(from: $0) }
        try await metadata().write(buffer.vector(), offsetBlocks: offset / UInt64(superblock.blockSize), options: options)
    }

    /// Writes the whole state as the checkpoint of `newEpoch`; durable on return.
    func writeCheckpoint(_ snapshot: MetadataState, epoch newEpoch: UInt64, clean: Bool) async throws {
        let payload = snapshot.encode()
        let header = FrameHeader(
            magic: FormatConstants.checkpointMagic, storeUUID: superblock.storeUUID, epoch: newEpoch, sequence: 0,
            clean: clean, payloadBytes: UInt32(payload.count))
        let framed = header.frame(payload, pageSize: superblock.pageSize)
        guard UInt64(framed.count) <= superblock.checkpointBytes else {
            throw BlockError(
                .noSpace,
                "lvstore \(snapshot.storeName): metadata needs \(framed.count) bytes, more than the \(superblock.checkpointBytes) reserved at create")
        }
        try await writeBytes(framed, at: superblock.checkpointSlotOffset(epoch: newEpoch), options: .forceUnitAccess)
    }

    /// Makes `records` durable and applies them, in order, together with any records other tasks
    /// commit meanwhile (one journal entry or checkpoint for all).
    func commit(_ records: [MetadataRecord]) async throws {
        precondition(executor.isCurrent, "lvstore metadata is confined to its executor")
        pendingRecords.append(contentsOf: records)
        if commitInProgress {
            try await withUnsafeThrowingContinuation { pendingWaiters.append($0) }
            return
        }
        commitInProgress = true
        defer { commitInProgress = false }
        var ownResult: Result<Void, any Error>?
        while !pendingRecords.isEmpty {
            let batch = pendingRecords
            let waiters = pendingWaiters
            pendingRecords = []
            pendingWaiters = []
            let result: Result<Void, any Error>
            do {
                try await persist(batch)
                result = .success(())
            } catch {
                result = .failure(error)
            }
            if ownResult == nil {
                ownResult = result
            }
            for waiter in waiters { waiter.resume(with: result) }
        }
        try ownResult!.get()
    }

    /// Writes one batch durably and applies it.
    private func persist(_ batch: [MetadataRecord]) async throws {
        var writer = MetadataWriter(reservingCapacity: batch.reduce(4) { $0 + $1.encodedBytes })
        writer.u32(UInt32(batch.count))
        for record in batch { record.encode(into: &writer) }
        let framedBytes = FrameHeader.framedBytes(payloadBytes: writer.bytes.count, pageSize: superblock.pageSize)
        if journalUsedBytes + UInt64(framedBytes) <= superblock.journalBytes {
            let header = FrameHeader(
                magic: FormatConstants.journalMagic, storeUUID: superblock.storeUUID, epoch: epoch,
                sequence: nextSequence, clean: false, payloadBytes: UInt32(writer.bytes.count))
            let framed = header.frame(writer.bytes, pageSize: superblock.pageSize)
            try await writeBytes(framed, at: superblock.journalOffset + journalUsedBytes, options: .forceUnitAccess)
            journalUsedBytes += UInt64(framed.count)
            nextSequence += 1
            try mutateProperties {
                for record in batch { try state.apply(record) }
            }
        } else {
            var next = state
            for record in batch { try next.apply(record) }
            try await writeCheckpoint(next, epoch: epoch + 1, clean: false)
            epoch += 1
            nextSequence = 1
            journalUsedBytes = 0
            mutateProperties { state = next }
        }
    }

    /// Whether the checkpoint can still hold the state after `extraClusters` more allocations.
    func metadataFits(extraClusters: Int, extraBytes: Int = 0) -> Bool {
        let needed = FrameHeader.framedBytes(
            payloadBytes: state.encodedBytes + 8 * extraClusters + extraBytes, pageSize: superblock.pageSize)
        return UInt64(needed) <= superblock.checkpointBytes
    }

    // MARK: - Cluster allocation

    /// Takes a free cluster (in memory only; the caller commits or releases it).
    func reserveCluster() throws -> UInt32 {
        guard freeClusterCount > 0,
            let cluster = used.firstClear(from: allocationHint) ?? used.firstClear(from: Int(state.firstDataCluster))
        else {
            throw BlockError(.noSpace, "lvstore \(state.storeName) has no free clusters")
        }
        mutateProperties {
            used[cluster] = true
            freeClusterCount -= 1
        }
        allocationHint = cluster + 1
        return UInt32(cluster)
    }

    /// Returns clusters to the free pool after applying the clear method to them.
    func releaseClusters(_ clusters: [UInt32], clear: ClearMethod) async {
        for run in Self.runs(of: clusters) {
            let blocksPerCluster = UInt64(superblock.clusterSize / superblock.blockSize)
            let start = UInt64(run.lowerBound) * blocksPerCluster
            let count = UInt64(run.count) * blocksPerCluster
            // A failed clear is harmless: allocation fills every new cluster before use.
            switch clear {
            case .none: break
            case .unmap: try? await metadata().unmap(offsetBlocks: start, blockCount: count)
            case .writeZeroes: try? await metadata().writeZeroes(offsetBlocks: start, blockCount: count)
            }
        }
        mutateProperties {
            for cluster in clusters {
                precondition(used[Int(cluster)], "release of a free cluster \(cluster)")
                used[Int(cluster)] = false
            }
            freeClusterCount += clusters.count
        }
        if let lowest = clusters.min() { allocationHint = min(allocationHint, Int(lowest)) }
    }

    /// Unreserves clusters that were never committed.
    func unreserveClusters(_ clusters: [UInt32]) {
        mutateProperties {
            for cluster in clusters { used[Int(cluster)] = false }
            freeClusterCount += clusters.count
        }
    }

    static func runs(of clusters: [UInt32]) -> [Range<UInt32>] {
        var runs: [Range<UInt32>] = []
        for cluster in clusters.sorted() {
            if let last = runs.last, last.upperBound == cluster {
                runs[runs.count - 1] = last.lowerBound..<(cluster + 1)
            } else {
                runs.append(cluster..<(cluster + 1))
            }
        }
        return runs
    }

    /// The device cluster holding lvol cluster `index` of `id`, walking the parent chain;
    /// `unmappedCluster` when no ancestor owns it (it reads as zeroes).
    @inline(__always)
    func resolve(_ id: UInt64, index: Int) -> UInt32 {
        var current = id
        while current != 0, let cluster = state.lvols[current]?.clusterOrParent(index) {
            if cluster.cluster != unmappedCluster { return cluster.cluster }
            current = cluster.parent
        }
        return unmappedCluster
    }
}
