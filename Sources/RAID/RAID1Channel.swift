// I/O on a RAID1 array (spdk.md §4), per reactor. The channel keeps its own list of legs, each with
// the base channel it opened through the leg's descriptor; it refreshes the list when the array's
// generation moved (a relaxed load per I/O, the mutex only on change).
//
// Writes, write-zeroes, unmaps and flushes fan out to every leg at once: two legs as the caller
// and one `async let`, more in a task group. The I/O succeeds when at least one leg succeeded;
// every leg that failed is removed from the array, because it no longer holds what the others
// hold (for a flush: it may have lost acknowledged writes). When every leg fails, all are removed
// and the I/O fails: the array is offline. Reads are in RAID1Channel+Reads.swift.
//
// A cancelled leg (CancellationError) is not a failed leg: nothing is removed for it.

import BlockCore
import Synchronization

/// A shared, never written buffer of zeroes for emulated write-zeroes (SPDK's zero buffer).
private let zeroBuffer = IOBuffer(byteCount: RAIDLimits.zeroChunkBytes)

final class RAID1Channel: IOChannel {
    /// One leg as this channel sees it.
    ///
    /// Confined to the channel's reactor like the channel itself; it is handed to a child task
    /// only for the span of one fanned-out I/O, which the channel awaits, and the child touches
    /// only `channel`. Hence the unchecked Sendable.
    final class Leg: @unchecked Sendable {
        /// The member's attachment id in the array.
        let id: UInt64
        let slot: Int
        let name: String
        /// Opened through the leg's descriptor, so it counts in the base's statistics.
        let channel: any IOChannel
        /// Blocks of reads this channel has in flight on the leg (read balancing).
        var readBlocksInFlight: UInt64 = 0

        init(id: UInt64, slot: Int, name: String, channel: any IOChannel) {
            self.id = id
            self.slot = slot
            self.name = name
            self.channel = channel
        }
    }

    let device: RAID1Device
    let geometry: BlockGeometry
    /// Operational legs in slot order.
    private(set) var legs: [Leg] = []
    /// What every leg supports.
    private var commonTypes: IOTypes = []
    private var isDeleted = false
    /// The array generation `legs` reflects; nil before the first I/O.
    private var generation: UInt64?
    /// Where the next read's search for the least-loaded leg starts (round-robin among ties).
    var nextReadStart = 0

    init(device: RAID1Device) {
        self.device = device
        self.geometry = device.geometry
    }

    // MARK: - IOChannel

    nonisolated(nonsending) func write(_ data: IOVector, offsetBlocks: UInt64, options: WriteOptions) async throws {
        _ = try geometry.checkIO(offsetBlocks: offsetBlocks, byteCount: data.byteCount)
        try await fanOut(.write(data, offsetBlocks: offsetBlocks, options: options), on: currentLegs())
    }

    nonisolated(nonsending) func flush() async throws {
        try await fanOut(.flush, on: currentLegs())
    }

    nonisolated(nonsending) func unmap(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try geometry.checkRange(offsetBlocks: offsetBlocks, blockCount: blockCount)
        let legs = try currentLegs()
        guard commonTypes.contains(.unmap) else {
            throw BlockError(.notSupported, "raid \(device.name) cannot unmap: not every base device supports it")
        }
        try await fanOut(.unmap(offsetBlocks: offsetBlocks, blockCount: blockCount), on: legs)
    }

    /// The legs' own write-zeroes when every leg has it; otherwise zero-filled writes of at most
    /// `RAIDLimits.zeroChunkBytes` each, one after the other.
    nonisolated(nonsending) func writeZeroes(offsetBlocks: UInt64, blockCount: UInt64) async throws {
        try geometry.checkRange(offsetBlocks: offsetBlocks, blockCount: blockCount)
        let legs = try currentLegs()
        if commonTypes.contains(.writeZeroes) {
            try await fanOut(.writeZeroes(offsetBlocks: offsetBlocks, blockCount: blockCount), on: legs)
            return
        }
        let chunkBlocks = UInt64(RAIDLimits.zeroChunkBytes / geometry.blockSize)
        var offset = offsetBlocks
        var remaining = blockCount
        while remaining > 0 {
            let count = min(remaining, chunkBlocks)
            let zeroes = zeroBuffer.vector(byteCount: Int(count) * geometry.blockSize)
            try await fanOut(.write(zeroes, offsetBlocks: offset, options: []), on: currentLegs())
            offset += count
            remaining -= count
        }
    }

    // MARK: - Legs

    /// The operational legs, refreshed when the array changed.
    ///
    /// - Throws: `.ioError` when no leg remains (the array is offline or deleted).
    @inline(__always)
    func currentLegs() throws -> [Leg] {
        if generation != device.generation.load(ordering: .relaxed) { refresh() }
        guard !legs.isEmpty else {
            throw BlockError(
                .ioError,
                isDeleted
                    ? "raid \(device.name) is offline: it was deleted"
                    : "raid \(device.name) is offline: no operational base device remains")
        }
        return legs
    }

    /// Takes the array's current legs, keeping the channels (and read counts) of legs it already
    /// had and opening channels for new ones.
    private func refresh() {
        let set = device.legSet()
        var fresh: [Leg] = []
        fresh.reserveCapacity(set.legs.count)
        var unopenable: [(UInt64, any Error)] = []
        for leg in set.legs {
            if let known = legs.first(where: { $0.id == leg.id }) {
                fresh.append(known)
                continue
            }
            do {
                let channel = try leg.descriptor.makeChannel()
                fresh.append(Leg(id: leg.id, slot: leg.slot, name: leg.descriptor.device.name, channel: channel))
            } catch {
                unopenable.append((leg.id, error))
            }
        }
        legs = fresh
        commonTypes = set.commonTypes
        isDeleted = set.isDeleted
        generation = set.generation
        // A leg that cannot take I/O cannot mirror: fail it as if its I/O had failed. (If it left
        // the array meanwhile, which closes its descriptor, this changes nothing.)
        for (id, error) in unopenable { device.legFailed(memberID: id, error: error) }
    }

    /// Removes a leg whose I/O failed, here at once and from the array.
    func fail(_ leg: Leg, _ error: any Error) {
        legs.removeAll { $0 === leg }
        device.legFailed(memberID: leg.id, error: error)
    }

    // MARK: - Fan-out

    /// An I/O sent to every leg.
    enum LegOperation: Sendable {
        case write(IOVector, offsetBlocks: UInt64, options: WriteOptions)
        case flush
        case unmap(offsetBlocks: UInt64, blockCount: UInt64)
        case writeZeroes(offsetBlocks: UInt64, blockCount: UInt64)

        var name: String {
            switch self {
            case .write: "write"
            case .flush: "flush"
            case .unmap: "unmap"
            case .writeZeroes: "write-zeroes"
            }
        }
    }

    /// Runs `operation` on one leg; returns its error instead of throwing it.
    private static func attempt(_ operation: LegOperation, on leg: Leg) async -> (any Error)? {
        do {
            switch operation {
            case .write(let data, let offsetBlocks, let options):
                try await leg.channel.write(data, offsetBlocks: offsetBlocks, options: options)
            case .flush:
                try await leg.channel.flush()
            case .unmap(let offsetBlocks, let blockCount):
                try await leg.channel.unmap(offsetBlocks: offsetBlocks, blockCount: blockCount)
            case .writeZeroes(let offsetBlocks, let blockCount):
                try await leg.channel.writeZeroes(offsetBlocks: offsetBlocks, blockCount: blockCount)
            }
            return nil
        } catch {
            return error
        }
    }

    /// Sends `operation` to every leg at once and waits for all of them.
    private nonisolated(nonsending) func fanOut(_ operation: LegOperation, on legs: [Leg]) async throws {
        switch legs.count {
        case 1:
            guard let error = await Self.attempt(operation, on: legs[0]) else { return }
            try settle(operation, legs: legs, errors: [error])
        case 2:
            async let secondError = Self.attempt(operation, on: legs[1])
            let first = await Self.attempt(operation, on: legs[0])
            let second = await secondError
            if first == nil && second == nil { return }
            try settle(operation, legs: legs, errors: [first, second])
        default:
            var errors = [(any Error)?](repeating: nil, count: legs.count)
            await withTaskGroup(of: (Int, (any Error)?).self) { group in
                for index in 1..<legs.count {
                    let leg = legs[index]
                    group.addTask { (index, await Self.attempt(operation, on: leg)) }
                }
                errors[0] = await Self.attempt(operation, on: legs[0])
                for await (index, error) in group { errors[index] = error }
            }
            if errors.allSatisfy({ $0 == nil }) { return }
            try settle(operation, legs: legs, errors: errors)
        }
    }

    /// Removes the legs that failed; succeeds when one leg succeeded.
    private func settle(_ operation: LegOperation, legs: [Leg], errors: [(any Error)?]) throws {
        var succeeded = false
        var cancellation: (any Error)?
        var failures: [String] = []
        for (leg, error) in zip(legs, errors) {
            guard let error else {
                succeeded = true
                continue
            }
            if error is CancellationError {
                cancellation = error
                continue
            }
            fail(leg, error)
            failures.append("slot \(leg.slot) (\(leg.name)): \(error)")
        }
        if succeeded { return }
        if let cancellation { throw cancellation }
        throw BlockError(
            .ioError,
            "\(operation.name) on raid \(device.name) failed on every base device: \(failures.joined(separator: "; "))")
    }
}
