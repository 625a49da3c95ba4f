// Hot remove of an lvstore's base device (SPDK's vbdev_lvs_hotremove_cb): the store unloads
// instead of refusing the removal.
//
// Order: every lvol is marked gone (new I/O on it fails) and removed, so what sits on it lets go
// (an export closes, a namespace goes, a RAID1 leg fails); then I/O already in flight drains
// against the base, which still serves it; then the store unloads as SPDK's spdk_lvs_unload does:
// it writes its clean-close metadata if the device still takes writes (a deleted malloc or aio
// device does; a lost NVMe controller does not), and otherwise lets go as a crashed process
// would, so the next load replays the journal. Nothing else is written: the data stays, and
// loading the device again brings the store back with its lvols.

import BlockCore

extension LogicalVolumeStore {
    /// True until the store is closed, destroyed or unloaded because its base went away.
    public var isLoaded: Bool { onExecutorOrLocked { $0.isOpen } }

    /// The base device is being removed: unloads the store (see the file's comment). Returns when
    /// the lvols and everything on them are gone and the base is released.
    func baseRemoved() async {
        _ = try? await control {
            await removeVolumes()
            do {
                try await writeCheckpoint(state, epoch: epoch + 1, clean: true)
                epoch += 1
                try await metadata().flush()
            } catch {
                // The device no longer takes writes: the journal holds every acknowledged change.
            }
            shutDown()
        }
    }

    /// Removes every lvol as a bdev (SPDK's spdk_bdev_unregister of each lvol bdev): marks it gone
    /// so new I/O fails, unregisters it, waits for what sits on it to let go, then for the I/O in
    /// flight to drain. The lvols stay frozen; `shutDown` thaws them. Runs under the control lock.
    func removeVolumes() async {
        let volumes = Array(volumesByID.values)
        for volume in volumes {
            volume.markGone()
            if let registry { _ = try? registry.unregister(name: volume.name) }
        }
        await withTaskGroup(of: Void.self) { group in
            for volume in volumes { group.addTask { await volume.claims.hotRemove() } }
        }
        for volume in volumes { await volume.fence.freezeAndDrain() }
    }
}
