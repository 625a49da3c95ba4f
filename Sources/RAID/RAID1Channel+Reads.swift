// Reads on a RAID1 array: one leg serves each read.
//
// Balancing (spdk.md §4): the leg with the fewest read blocks this channel has in flight serves
// the read, as in SPDK. Ties go round-robin (SPDK takes the lowest slot), so that reads at queue
// depth 1, where every leg is idle, still spread over the legs.
//
// Errors: a leg that fails a read is retried on the other legs in slot order. Every leg that
// failed while another could serve the read is removed from the array. SPDK instead writes the
// good data back over the failing leg; that races with a concurrent write to the same blocks (the
// stale data read back could land after the new write, and the legs would differ), so here the
// leg leaves and its replica is rebuilt by its owner. When no leg can serve the read, only the
// leg first chosen is removed (as SPDK) and the read fails.

import BlockCore

extension RAID1Channel {
    nonisolated(nonsending) func read(_ data: IOVector, offsetBlocks: UInt64) async throws {
        let blocks = try geometry.checkIO(offsetBlocks: offsetBlocks, byteCount: data.byteCount)
        let legs = try currentLegs()
        let chosen = legs[pickReadLeg(legs)]
        chosen.readBlocksInFlight += blocks
        let firstError: any Error
        do {
            defer { chosen.readBlocksInFlight -= blocks }
            try await chosen.channel.read(data, offsetBlocks: offsetBlocks)
            return
        } catch let cancellation as CancellationError {
            throw cancellation
        } catch {
            firstError = error
        }
        try await retryRead(data, offsetBlocks: offsetBlocks, after: firstError, on: chosen, legs: legs)
    }

    /// The index of the leg with the fewest read blocks in flight; among equals, the first at or
    /// after `nextReadStart`, which then moves past it.
    func pickReadLeg(_ legs: [Leg]) -> Int {
        let count = legs.count
        if count == 1 { return 0 }
        var best = nextReadStart < count ? nextReadStart : 0
        var bestLoad = legs[best].readBlocksInFlight
        var index = best
        for _ in 1..<count {
            index = index + 1 == count ? 0 : index + 1
            let load = legs[index].readBlocksInFlight
            if load < bestLoad {
                best = index
                bestLoad = load
            }
        }
        nextReadStart = best + 1 == count ? 0 : best + 1
        return best
    }

    private nonisolated(nonsending) func retryRead(
        _ data: IOVector, offsetBlocks: UInt64, after firstError: any Error, on chosen: Leg, legs: [Leg]
    ) async throws {
        var failed: [(Leg, any Error)] = [(chosen, firstError)]
        for other in legs where other !== chosen {
            do {
                try await other.channel.read(data, offsetBlocks: offsetBlocks)
            } catch let cancellation as CancellationError {
                throw cancellation
            } catch {
                failed.append((other, error))
                continue
            }
            for (leg, error) in failed { fail(leg, error) }
            return
        }
        fail(chosen, firstError)
        let reasons = failed.map { leg, error in "slot \(leg.slot) (\(leg.name)): \(error)" }
        throw BlockError(
            .ioError, "read from raid \(device.name) failed on every base device: \(reasons.joined(separator: "; "))")
    }
}
