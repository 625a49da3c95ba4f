// Create, load (examine), rename, grow, close and destroy of an lvstore.

public import BlockCore
import Foundation
import StorageKit

extension LogicalVolumeStore {
    /// The claim an lvstore takes on its base device.
    static let claimModule = "lvol"

    /// Creates an empty lvstore on `device`, claiming it. Any data on the device is lost.
    ///
    /// - Throws: `.invalidArgument` for a bad name or cluster size, `.noSpace` for a device too
    ///   small, `.claimed` when another module holds the device.
    public static func create(
        on device: any BlockDevice, name: String, options: CreateOptions = .init(), executor: any IOExecutor,
        registry: BlockDeviceRegistry? = nil
    ) async throws -> LogicalVolumeStore {
        try validateName(name, what: "lvstore")
        let clusterSize = options.clusterSize
        guard clusterSize >= LvolLimits.minClusterSize, clusterSize <= LvolLimits.maxClusterSize else {
            throw BlockError(
                .invalidArgument,
                "cluster size \(clusterSize) must be between \(LvolLimits.minClusterSize) and \(LvolLimits.maxClusterSize) bytes")
        }
        guard clusterSize % device.blockSize == 0, clusterSize % LvolLimits.metadataPageSize == 0 || clusterSize % device.blockSize == 0 else {
            throw BlockError(.invalidArgument, "cluster size \(clusterSize) is not a multiple of the block size \(device.blockSize)")
        }
        guard UInt64(clusterSize) < device.byteCount else {
            throw BlockError(.invalidArgument, "cluster size \(clusterSize) is not smaller than the device (\(device.byteCount) bytes)")
        }
        guard (1...10_000).contains(options.metadataPagesPerClusterPercent) else {
            throw BlockError(.invalidArgument, "metadata ratio \(options.metadataPagesPerClusterPercent)% must be between 1 and 10000")
        }
        let storeUUID = UUID()
        let uuidBytes = withUnsafeBytes(of: storeUUID.uuid) { Array($0) }
        let superblock = try Superblock.plan(
            deviceBytes: device.byteCount, blockSize: device.blockSize, clusterSize: clusterSize, storeUUID: uuidBytes,
            clearMethod: options.clearMethod, metadataPercent: options.metadataPagesPerClusterPercent)
        let totalClusters = min(device.byteCount / UInt64(clusterSize), LvolLimits.maxClusters)
        let state = MetadataState(
            storeName: name, totalClusters: totalClusters, firstDataCluster: superblock.firstDataCluster,
            nextLvolID: 1, lvols: [:])

        // The removal handler follows once the store is written: a removal of the device that
        // starts meanwhile waits for it (DeviceRemoval.swift).
        let descriptor = try BlockDescriptor(device, writable: true, removal: .handlerFollows)
        try descriptor.claim(module: claimModule)
        let store = try LogicalVolumeStore(
            baseDevice: device, descriptor: descriptor, superblock: superblock, state: state, epoch: 0,
            nextSequence: 1, journalUsedBytes: 0, executor: executor, registry: registry, wasCleanlyClosed: true)
        do {
            try await store.onExecutor {
                let blocksPerCluster = UInt64(clusterSize / device.blockSize)
                let dataStart = superblock.firstDataCluster * blocksPerCluster
                let dataBlocks = totalClusters * blocksPerCluster - dataStart
                // Clearing is a courtesy to thin devices: correctness never depends on it.
                switch options.clearMethod {
                case .none: break
                case .unmap: try? await store.metadata().unmap(offsetBlocks: dataStart, blockCount: dataBlocks)
                case .writeZeroes: try await store.metadata().writeZeroes(offsetBlocks: dataStart, blockCount: dataBlocks)
                }
                try await store.writeCheckpoint(state, epoch: 0, clean: false)
                try await store.writeBytes(
                    padded(superblock.encode(), to: superblock.pageSize), at: 0, options: .forceUnitAccess)
            }
        } catch {
            descriptor.close()
            throw error
        }
        descriptor.onRemove { [weak store] in await store?.baseRemoved() }
        return store
    }

    /// Examines `device`: loads the lvstore on it, with all its lvols, or returns nil when the
    /// device holds none. An lvstore that was not closed cleanly is recovered from its journal.
    ///
    /// - Throws: `.corrupted` with what is damaged; `.claimed` when another module holds the device.
    public static func load(
        from device: any BlockDevice, executor: any IOExecutor, registry: BlockDeviceRegistry? = nil
    ) async throws -> LogicalVolumeStore? {
        // The removal handler follows once the lvols are registered: a removal of the device that
        // starts while the store loads waits for it and then unloads the store whole.
        let descriptor = try BlockDescriptor(device, writable: true, removal: .handlerFollows)
        do {
            let loaded = try await withTaskExecutorPreference(executor) { () async throws -> LoadedMetadata? in
                try await readMetadata(device: device, descriptor: descriptor)
            }
            guard let loaded else {
                descriptor.close()
                return nil
            }
            try descriptor.claim(module: claimModule)
            let store = try LogicalVolumeStore(
                baseDevice: device, descriptor: descriptor, superblock: loaded.superblock, state: loaded.state,
                epoch: loaded.epoch, nextSequence: loaded.nextSequence, journalUsedBytes: loaded.journalUsedBytes,
                executor: executor, registry: registry, wasCleanlyClosed: loaded.clean)
            try await store.onExecutor {
                store.metadataChannel = loaded.channel
                // Marks the store open: a stop before the next clean close is seen as unclean.
                try await store.commit([.opened])
                for id in store.state.lvols.keys.sorted() { try store.registerVolume(id: id) }
            }
            descriptor.onRemove { [weak store] in await store?.baseRemoved() }
            return store
        } catch {
            descriptor.close()
            throw error
        }
    }

    struct LoadedMetadata: @unchecked Sendable {
        var superblock: Superblock
        var state: MetadataState
        var epoch: UInt64
        var nextSequence: UInt64
        var journalUsedBytes: UInt64
        var clean: Bool
        var channel: any IOChannel
    }

    private static func readMetadata(device: any BlockDevice, descriptor: BlockDescriptor) async throws
        -> LoadedMetadata?
    {
        let channel = try descriptor.makeChannel()
        func read(_ offset: UInt64, _ count: Int) async throws -> [UInt8] {
            let buffer = IOBuffer(byteCount: count)
            try await channel.read(buffer.vector(), offsetBlocks: offset / UInt64(device.blockSize))
            return Array(buffer.bytes)
        }
        let firstPageBytes = max(LvolLimits.metadataPageSize, device.blockSize)
        guard device.byteCount >= UInt64(firstPageBytes) else { return nil }
        guard let superblock = try Superblock.decode(try await read(0, firstPageBytes), deviceName: device.name) else {
            return nil
        }
        guard superblock.blockSize == device.blockSize else {
            throw BlockError(
                .corrupted,
                "the lvstore on \(device.name) was made with block size \(superblock.blockSize), but the device has \(device.blockSize)")
        }
        let page = superblock.pageSize

        // The newest checkpoint whose checksum holds.
        var best: (header: FrameHeader, payload: [UInt8])?
        for slot in 0..<2 {
            let offset = superblock.checkpointOffset + UInt64(slot) * superblock.checkpointBytes
            let first = try await read(offset, page)
            guard
                let header = FrameHeader.peek(
                    first, magic: FormatConstants.checkpointMagic, storeUUID: superblock.storeUUID),
                header.epoch % 2 == UInt64(slot),
                UInt64(FrameHeader.framedBytes(payloadBytes: Int(header.payloadBytes), pageSize: page))
                    <= superblock.checkpointBytes
            else { continue }
            let whole = try await read(
                offset, FrameHeader.framedBytes(payloadBytes: Int(header.payloadBytes), pageSize: page))
            guard let payload = FrameHeader.verifiedPayload(whole, header: header) else { continue }
            if best == nil || header.epoch > best!.header.epoch { best = (header, payload) }
        }
        guard let checkpoint = best else {
            throw BlockError(.corrupted, "the lvstore on \(device.name) has no intact checkpoint")
        }
        var state = try MetadataState.decode(checkpoint.payload, context: "checkpoint of lvstore on \(device.name)")
        guard state.firstDataCluster == superblock.firstDataCluster else {
            throw BlockError(.corrupted, "the checkpoint of the lvstore on \(device.name) disagrees with its superblock")
        }
        let epoch = checkpoint.header.epoch

        // Replay the journal of this epoch.
        var offset: UInt64 = 0
        var sequence: UInt64 = 1
        replay: while offset < superblock.journalBytes {
            let first = try await read(superblock.journalOffset + offset, page)
            guard
                let header = FrameHeader.peek(first, magic: FormatConstants.journalMagic, storeUUID: superblock.storeUUID),
                header.epoch == epoch, header.sequence == sequence
            else { break replay }
            let size = FrameHeader.framedBytes(payloadBytes: Int(header.payloadBytes), pageSize: page)
            guard offset + UInt64(size) <= superblock.journalBytes else { break replay }
            let whole = size == page ? first : try await read(superblock.journalOffset + offset, size)
            guard let payload = FrameHeader.verifiedPayload(whole, header: header) else {
                // A torn last entry was never acknowledged; a damaged entry followed by intact
                // ones means acknowledged metadata is lost.
                if try await laterEntryExists(
                    after: offset + UInt64(page), sequence: sequence, epoch: epoch, superblock: superblock, read: read)
                {
                    throw BlockError(
                        .corrupted,
                        "journal entry \(sequence) of the lvstore on \(device.name) is damaged and later entries exist")
                }
                break replay
            }
            var reader = MetadataReader(payload, context: "journal entry \(sequence) of lvstore on \(device.name)")
            let count = Int(try reader.u32("record count"))
            for _ in 0..<count {
                try state.apply(try MetadataRecord.decode(from: &reader))
            }
            offset += UInt64(size)
            sequence += 1
        }
        try state.validate()
        guard state.totalClusters * UInt64(superblock.clusterSize) <= device.byteCount else {
            throw BlockError(
                .corrupted,
                "the lvstore on \(device.name) spans \(state.totalClusters) clusters, more than the device holds (\(device.byteCount) bytes)")
        }
        return LoadedMetadata(
            superblock: superblock, state: state, epoch: epoch, nextSequence: sequence, journalUsedBytes: offset,
            clean: checkpoint.header.clean && sequence == 1, channel: channel)
    }

    private static func laterEntryExists(
        after start: UInt64, sequence: UInt64, epoch: UInt64, superblock: Superblock,
        read: (UInt64, Int) async throws -> [UInt8]
    ) async throws -> Bool {
        var offset = start
        let page = superblock.pageSize
        while offset < superblock.journalBytes {
            let first = try await read(superblock.journalOffset + offset, page)
            if let header = FrameHeader.peek(first, magic: FormatConstants.journalMagic, storeUUID: superblock.storeUUID),
                header.epoch == epoch, header.sequence > sequence
            {
                let size = FrameHeader.framedBytes(payloadBytes: Int(header.payloadBytes), pageSize: page)
                if offset + UInt64(size) <= superblock.journalBytes {
                    let whole = try await read(superblock.journalOffset + offset, size)
                    if FrameHeader.verifiedPayload(whole, header: header) != nil { return true }
                }
            }
            offset += UInt64(page)
        }
        return false
    }

    /// Renames the store; every lvol's alias changes with it.
    public func rename(to newName: String) async throws {
        try Self.validateName(newName, what: "lvstore")
        try await control {
            try await commit([.renameStore(newName)])
            for volume in volumesByID.values { volume.refresh() }
        }
    }

    /// Adds the clusters a grown base device now has (up to what the metadata reserved at create
    /// can describe). Returns the new number of data clusters.
    @discardableResult
    public func grow() async throws -> UInt64 {
        try await control {
            let deviceClusters = min(baseDevice.byteCount / UInt64(superblock.clusterSize), LvolLimits.maxClusters)
            var target = deviceClusters
            while target > state.totalClusters, !metadataFits(extraClusters: Int(target - state.totalClusters)) {
                target -= max(1, (target - state.totalClusters) / 2)
            }
            if target > state.totalClusters {
                let added = Int(target - state.totalClusters)
                try await commit([.setTotalClusters(target)])
                mutateProperties {
                    used.resize(to: Int(target))
                    freeClusterCount += added
                }
            }
            return state.totalClusters - state.firstDataCluster
        }
    }

    /// Waits for in-flight I/O, writes a clean checkpoint and releases the base device. Lvols of
    /// the store stop working.
    public func close() async throws {
        try await control {
            for volume in volumesByID.values { await volume.fence.freezeAndDrain() }
            do {
                try await writeCheckpoint(state, epoch: epoch + 1, clean: true)
                epoch += 1
                try await metadata().flush()
            } catch {
                for volume in volumesByID.values { volume.fence.thaw() }
                throw error
            }
            shutDown()
        }
    }

    /// Deletes every lvol and erases the store from its device. As SPDK's
    /// bdev_lvol_delete_lvstore, lvols in use are not refused: what sits on them lets go first.
    public func destroy() async throws {
        try await control {
            await removeVolumes()
            let page = [UInt8](repeating: 0, count: superblock.pageSize)
            do {
                try await writeBytes(page, at: 0, options: .forceUnitAccess)
            } catch {
                // Not erased: the store unloads as on a hot remove, and loads again later.
                shutDown()
                throw error
            }
            let clusters = state.lvols.values.flatMap { $0.map.filter { $0 != unmappedCluster } }
            await releaseClusters(clusters, clear: superblock.clearMethod)
            shutDown()
        }
    }

    /// Releases the device without a clean close, as a process that died would. The next load
    /// sees an unclean stop and recovers from the journal.
    public func abandon() {
        propertyLock.lock()
        let wasOpen = isOpen
        isOpen = false
        propertyLock.unlock()
        guard wasOpen else { return }
        for volume in volumesByID.values {
            volume.markGone()
            if let registry { _ = try? registry.unregister(name: volume.name) }
        }
        mutateProperties { volumesByID.removeAll() }
        descriptor.close()
    }

    func shutDown() {
        for volume in volumesByID.values {
            volume.markGone()
            volume.fence.thaw()  // waiting I/O proceeds and finds the lvol gone
            if let registry { _ = try? registry.unregister(name: volume.name) }
        }
        mutateProperties { volumesByID.removeAll() }
        isOpen = false
        descriptor.close()
    }

    static func validateName(_ name: String, what: String) throws {
        guard !name.isEmpty else { throw BlockError(.invalidArgument, "\(what) name must not be empty") }
        guard name.utf8.count <= LvolLimits.maxNameBytes else {
            throw BlockError(
                .invalidArgument, "\(what) name is \(name.utf8.count) bytes; the limit is \(LvolLimits.maxNameBytes)")
        }
        guard !name.contains("/"), !name.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw BlockError(.invalidArgument, "\(what) name \"\(name)\" must not contain '/' or control characters")
        }
    }
}

func padded(_ bytes: [UInt8], to multiple: Int) -> [UInt8] {
    let size = (bytes.count + multiple - 1) / multiple * multiple
    return bytes + [UInt8](repeating: 0, count: size - bytes.count)
}
