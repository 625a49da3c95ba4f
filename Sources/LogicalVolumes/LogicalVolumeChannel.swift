// I/O on an lvol. An I/O is split at cluster boundaries; each piece maps to the device cluster
// that owns it (this lvol's, or an ancestor's for reads), or reads as zeroes.
//
// A write to a cluster this lvol does not own allocates one: reserve a free cluster, fill it
// (the parent's data, or zeroes) around the written range, flush, commit the mapping, then
// acknowledge. Writes racing for the same cluster wait for the first allocation and then write
// into the cluster it mapped.

import BlockCore

final class LogicalVolumeChannel: IOChannel {
    let volume: LogicalVolume
    let store: LogicalVolumeStore
    let blocksPerCluster: UInt64
    let clusterShift: Int?
    private var base: (any IOChannel)?

    init(volume: LogicalVolume) {
        self.volume = volume
        self.store = volume.store
        self.blocksPerCluster = UInt64(store.superblock.clusterSize / store.superblock.blockSize)
        self.clusterShift = blocksPerCluster.nonzeroBitCount == 1 ? blocksPerCluster.trailingZeroBitCount : nil
    }

    @inline(__always)
    private func baseChannel() throws -> any IOChannel {
        if let base { return base }
        let channel = try store.descriptor.makeChannel()
        base = channel
        return channel
    }

    @inline(__always)
    private func currentGeometry() throws -> BlockGeometry {
        guard let size = store.state.lvols[volume.id]?.header.sizeClusters, volume.exists else {
            throw BlockError(.notFound, "lvol \(volume.name) no longer exists")
        }
        return BlockGeometry(blockSize: store.superblock.blockSize, blockCount: size * blocksPerCluster)
    }

    /// Counts the I/O in on the lvol's fence, waiting while it is frozen.
    @inline(__always)
    private nonisolated(nonsending) func enterFence() async {
        if !volume.fence.tryEnter() { await volume.fence.enterWhenThawed() }
    }

    // MARK: - IOChannel

    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        guard store.executor.isCurrent else {
            return try await withTaskExecutorPreference(store.executor) { try await self.read(data, offsetBlocks: offsetBlocks) }
        }
        await enterFence()
        defer { volume.fence.leave() }
        let blocks = try currentGeometry().checkIO(offsetBlocks: offsetBlocks, byteCount: data.byteCount)
        try await forEachPiece(data, offsetBlocks: offsetBlocks, blocks: blocks) { piece, lvolBlock, index in
            let cluster = store.resolve(volume.id, index: index)
            if cluster == unmappedCluster {
                piece.zero(from: 0, count: piece.byteCount)
            } else {
                try await baseChannel().read(piece, offsetBlocks: deviceBlock(cluster, lvolBlock))
            }
        }
    }

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        guard store.executor.isCurrent else {
            return try await withTaskExecutorPreference(store.executor) {
                try await self.write(data, offsetBlocks: offsetBlocks, options: options)
            }
        }
        await enterFence()
        defer { volume.fence.leave() }
        try checkWritable()
        let blocks = try currentGeometry().checkIO(offsetBlocks: offsetBlocks, byteCount: data.byteCount)
        try await forEachPiece(data, offsetBlocks: offsetBlocks, blocks: blocks) { piece, lvolBlock, index in
            let owned = store.state.lvols[volume.id]?.map[index] ?? unmappedCluster
            if owned != unmappedCluster {
                try await baseChannel().write(piece, offsetBlocks: deviceBlock(owned, lvolBlock), options: options)
            } else {
                try await allocate(index: index, overlay: .data(piece, lvolBlock), options: options)
            }
        }
    }

    nonisolated(nonsending) func flush() async throws {
        guard store.executor.isCurrent else {
            return try await withTaskExecutorPreference(store.executor) { try await self.flush() }
        }
        _ = try currentGeometry()
        try await baseChannel().flush()
    }

    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await discard(offsetBlocks: offsetBlocks, blockCount: blockCount, releasing: true)
    }

    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try await discard(offsetBlocks: offsetBlocks, blockCount: blockCount, releasing: false)
    }

    // MARK: - Pieces

    @inline(__always)
    private func deviceBlock(_ cluster: UInt32, _ lvolBlock: UInt64) -> UInt64 {
        UInt64(cluster) * blocksPerCluster + lvolBlock % blocksPerCluster
    }

    @inline(__always)
    private func clusterIndex(_ block: UInt64) -> Int {
        if let clusterShift { return Int(block >> UInt64(clusterShift)) }
        return Int(block / blocksPerCluster)
    }

    /// Calls `body` for each cluster-sized piece of an I/O. The common case, an I/O within one
    /// cluster, passes the caller's vector through untouched.
    @inline(__always)
    private nonisolated(nonsending) func forEachPiece(
        _ data: IOVector, offsetBlocks: UInt64, blocks: UInt64,
        _ body: nonisolated(nonsending) (IOVector, UInt64, Int) async throws -> Void
    ) async throws {
        let first = clusterIndex(offsetBlocks)
        let last = clusterIndex(offsetBlocks + blocks - 1)
        if first == last {
            try await body(data, offsetBlocks, first)
            return
        }
        let blockSize = store.superblock.blockSize
        var block = offsetBlocks
        let end = offsetBlocks + blocks
        while block < end {
            let index = clusterIndex(block)
            let pieceEnd = min(end, UInt64(index + 1) * blocksPerCluster)
            let byteOffset = Int(block - offsetBlocks) * blockSize
            let byteCount = Int(pieceEnd - block) * blockSize
            try await withSlice(of: data, byteOffset: byteOffset, byteCount: byteCount) { piece in
                try await body(piece, block, index)
            }
            block = pieceEnd
        }
    }

    // MARK: - Allocation

    enum Overlay {
        /// The written data and its first lvol block.
        case data(IOVector, UInt64)
        /// Zeroes over lvol blocks `range` within the cluster.
        case zeroes(Range<UInt64>)
    }

    /// Gives lvol cluster `index` a device cluster of its own, with `overlay` written into it and
    /// the rest filled from the parent chain (or zeroes); returns when the mapping is durable.
    private nonisolated(nonsending) func allocate(index: Int, overlay: Overlay, options: WriteOptions) async throws {
        let key = LogicalVolumeStore.AllocationKey(lvol: volume.id, index: index)
        if store.allocationsInFlight[key] != nil {
            await withUnsafeContinuation { store.allocationsInFlight[key]!.append($0) }
            return try await writeAfterAllocation(index: index, overlay: overlay, options: options)
        }
        store.allocationsInFlight[key] = []
        defer {
            let waiters = store.allocationsInFlight.removeValue(forKey: key) ?? []
            for waiter in waiters { waiter.resume() }
        }
        guard store.metadataFits(extraClusters: 1) else {
            throw BlockError(.noSpace, "lvstore \(store.state.storeName) has no metadata space left for a new cluster")
        }
        let cluster = try store.reserveCluster()
        do {
            try await fill(cluster: cluster, index: index, overlay: overlay)
            try await baseChannel().flush()
            try await store.commit([.mapClusters(id: volume.id, entries: [(UInt64(index), cluster)])])
        } catch {
            store.unreserveClusters([cluster])
            throw error
        }
    }

    private nonisolated(nonsending) func writeAfterAllocation(index: Int, overlay: Overlay, options: WriteOptions) async throws {
        let owned = store.state.lvols[volume.id]?.map[index] ?? unmappedCluster
        if owned == unmappedCluster {
            // The first allocation failed; try our own.
            return try await allocate(index: index, overlay: overlay, options: options)
        }
        switch overlay {
        case .data(let piece, let lvolBlock):
            try await baseChannel().write(piece, offsetBlocks: deviceBlock(owned, lvolBlock), options: options)
        case .zeroes(let range):
            try await baseChannel().writeZeroes(
                offsetBlocks: deviceBlock(owned, range.lowerBound), blockCount: UInt64(range.count))
        }
    }

    private nonisolated(nonsending) func fill(cluster: UInt32, index: Int, overlay: Overlay) async throws {
        let clusterStart = UInt64(index) * blocksPerCluster
        let overlayRange: Range<UInt64>
        switch overlay {
        case .data(let piece, let lvolBlock):
            overlayRange = lvolBlock..<(lvolBlock + UInt64(piece.byteCount / store.superblock.blockSize))
        case .zeroes(let range):
            overlayRange = range
        }
        let source = store.resolve(volume.id, index: index)
        let device = try baseChannel()
        let target = UInt64(cluster) * blocksPerCluster
        if source == unmappedCluster {
            // Zeroes around the overlay, then the overlay.
            if overlayRange.lowerBound > clusterStart {
                try await device.writeZeroes(offsetBlocks: target, blockCount: overlayRange.lowerBound - clusterStart)
            }
            if overlayRange.upperBound < clusterStart + blocksPerCluster {
                try await device.writeZeroes(
                    offsetBlocks: target + (overlayRange.upperBound - clusterStart),
                    blockCount: clusterStart + blocksPerCluster - overlayRange.upperBound)
            }
            switch overlay {
            case .data(let piece, let lvolBlock):
                try await device.write(piece, offsetBlocks: deviceBlock(cluster, lvolBlock))
            case .zeroes(let range):
                try await device.writeZeroes(offsetBlocks: deviceBlock(cluster, range.lowerBound), blockCount: UInt64(range.count))
            }
        } else {
            // Copy on write: the parent's cluster with the overlay applied, written whole.
            let blockSize = store.superblock.blockSize
            let buffer = await store.copyBuffers.acquire()
            defer { store.copyBuffers.release(buffer) }
            try await device.read(buffer.vector(), offsetBlocks: UInt64(source) * blocksPerCluster)
            let byteOffset = Int(overlayRange.lowerBound - clusterStart) * blockSize
            switch overlay {
            case .data(let piece, _):
                piece.copyOut(from: 0, count: piece.byteCount, into: buffer.bytes.baseAddress! + byteOffset)
            case .zeroes(let range):
                (buffer.bytes.baseAddress! + byteOffset).initializeMemory(
                    as: UInt8.self, repeating: 0, count: range.count * blockSize)
            }
            try await device.write(buffer.vector(), offsetBlocks: target)
        }
    }

    // MARK: - Unmap and write-zeroes

    /// Makes a range read as zeroes. With `releasing`, whole clusters of a thin lvol that no
    /// ancestor backs are returned to the store (a thick lvol keeps its clusters).
    private nonisolated(nonsending) func discard(offsetBlocks: UInt64, blockCount: UInt64, releasing: Bool) async throws {
        guard store.executor.isCurrent else {
            return try await withTaskExecutorPreference(store.executor) {
                try await self.discard(offsetBlocks: offsetBlocks, blockCount: blockCount, releasing: releasing)
            }
        }
        try checkWritable()
        var releasable: [Int] = []
        do {
            await enterFence()
            defer { volume.fence.leave() }
            try checkWritable()
            try currentGeometry().checkRange(offsetBlocks: offsetBlocks, blockCount: blockCount)
            var block = offsetBlocks
            let end = offsetBlocks + blockCount
            while block < end {
                let index = clusterIndex(block)
                let clusterStart = UInt64(index) * blocksPerCluster
                let pieceEnd = min(end, clusterStart + blocksPerCluster)
                let lvol = store.state.lvols[volume.id]!
                let owned = lvol.map[index]
                let backed = lvol.header.parentID != 0 && store.resolve(lvol.header.parentID, index: index) != unmappedCluster
                let whole = block == clusterStart && pieceEnd == clusterStart + blocksPerCluster
                let thin = lvol.header.flags.contains(.thinProvisioned)
                if releasing, thin, whole, owned != unmappedCluster, !backed {
                    releasable.append(index)
                } else if owned != unmappedCluster {
                    let device = try baseChannel()
                    if releasing {
                        try await device.unmap(offsetBlocks: deviceBlock(owned, block), blockCount: pieceEnd - block)
                    } else {
                        try await device.writeZeroes(offsetBlocks: deviceBlock(owned, block), blockCount: pieceEnd - block)
                    }
                } else if backed {
                    try await allocate(index: index, overlay: .zeroes(block..<pieceEnd), options: [])
                }
                block = pieceEnd
            }
        }
        if !releasable.isEmpty { try await release(indexes: releasable) }
    }

    private nonisolated(nonsending) func release(indexes: [Int]) async throws {
        await store.controlLock.lock()
        defer { store.controlLock.unlock() }
        await volume.fence.freezeAndDrain()
        defer { volume.fence.thaw() }
        guard let lvol = store.state.lvols[volume.id] else { return }
        var entries: [(index: UInt64, cluster: UInt32)] = []
        var freed: [UInt32] = []
        for index in indexes where index < lvol.map.count && lvol.map[index] != unmappedCluster {
            entries.append((UInt64(index), unmappedCluster))
            freed.append(lvol.map[index])
        }
        guard !entries.isEmpty else { return }
        try await store.commit([.mapClusters(id: volume.id, entries: entries)])
        await store.releaseClusters(freed, clear: lvol.header.clearMethod)
    }

    @inline(__always)
    private func checkWritable() throws {
        guard let flags = store.state.lvols[volume.id]?.header.flags, volume.exists else {
            throw BlockError(.notFound, "lvol \(volume.name) no longer exists")
        }
        if flags.contains(.readOnly) {
            throw BlockError(.readOnly, "lvol \(volume.lvolName) is read-only")
        }
    }
}

/// Runs `body` with the bytes `byteOffset..<byteOffset+byteCount` of `vector` as a vector of
/// their own. A single buffer is sliced in place; a segment list gets a temporary segment table.
nonisolated(nonsending) func withSlice<T>(
    of vector: IOVector, byteOffset: Int, byteCount: Int, _ body: nonisolated(nonsending) (IOVector) async throws -> T
) async throws -> T {
    switch vector {
    case .single(let buffer):
        return try await body(.single(UnsafeMutableRawBufferPointer(rebasing: buffer[byteOffset..<(byteOffset + byteCount)])))
    case .segments:
        var pieces: [UnsafeMutableRawBufferPointer] = []
        vector.forEachPart(from: byteOffset, count: byteCount) { part, length in
            pieces.append(UnsafeMutableRawBufferPointer(start: part, count: length))
        }
        let table = UnsafeMutableBufferPointer<UnsafeMutableRawBufferPointer>.allocate(capacity: pieces.count)
        _ = table.initialize(from: pieces)
        defer { table.deallocate() }
        return try await body(.segments(UnsafeBufferPointer(table)))
    }
}
