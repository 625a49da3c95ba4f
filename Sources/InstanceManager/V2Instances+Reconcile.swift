// Rediscovery and reconciliation (longhorn-api.md §4.5), at start and every few seconds:
// - lvstores loaded in the tgt on an aio bdev of the same name become disks (ready): what an
//   instance-manager restart finds;
// - disks whose aio bdev is gone from the tgt (the tgt restarted: it forgets aio bdevs, the
//   lvstores come back when they are recreated) get it back;
// - head lvols of replica names not tracked become replicas, `stopped`, or `running` when the
//   tgt still exposes them (their port is reserved) or a RAID holds their lvol (a local engine
//   uses it; the ports recorded in its xattr are reserved); tracked replicas whose lvol is gone
//   from their loaded lvstore, or whose disk is not ready, are dropped; running replicas no
//   longer exposed and not held by a RAID (the tgt restarted) are exposed again on their ports,
//   or are `error` if that fails, and tried again every round until it works (an engine whose
//   RAID is gone holds its local replicas no more);
// - engines whose RAID bdev is gone are `error` until deleted (refreshEngineModes); RAIDs of
//   engines not known (an instance-manager restart) are reported as engines in `error` too.
// A tgt that cannot be reached changes nothing: the next round tries again.

import JSONRPC

extension V2Instances {
    /// One round now (the loop runs it every `reconcileInterval` after `start()`).
    public func reconcile() async {
        await lock()
        defer { unlock() }
        await reconcileLocked()
    }

    /// One round, for callers that hold the lock (engine create looks at the tgt as it is now).
    func reconcileLocked() async {
        do {
            try await reconcileDisks()
            try await reconcileReplicas()
        } catch {
            return
        }
        await refreshEngineModes()
    }

    private func reconcileDisks() async throws(InstanceManagerError) {
        var bdevs = try await tgt.bdevs()
        var changed = false
        for var disk in disks.values where disk.state == .ready && !bdevs.contains(where: { $0.name == disk.name }) {
            do throws(InstanceManagerError) {
                try await tgt.aioCreate(name: disk.name, filename: disk.path, blockSize: Int(disk.blockSize))
                guard try await tgt.lvstores().contains(where: { $0.baseBdev == disk.name && $0.uuid == disk.uuid })
                else {
                    try? await tgt.aioDelete(name: disk.name)
                    throw InstanceManagerError.notFound(
                        "lvstore \(disk.uuid) on \(disk.path) after reloading disk \(disk.name)")
                }
            } catch {
                disk.state = .error
                disk.errorMsg = error.message
                disks[disk.name] = disk
            }
            changed = true
        }
        if changed { bdevs = try await tgt.bdevs() }
        for store in try await tgt.lvstores() {
            if var disk = disks[store.name] {
                guard disk.state == .ready, disk.uuid == store.uuid else { continue }
                let before = disk
                disk.apply(store)
                if disk != before {
                    disks[store.name] = disk
                    changed = true
                }
                continue
            }
            guard store.baseBdev == store.name, let base = bdevs.first(where: { $0.name == store.name }),
                let filename = base.aioFilename, !disks.values.contains(where: { $0.uuid == store.uuid })
            else { continue }
            var disk = DiskInfo(
                id: (try? diskIdentity(ofPath: filename)) ?? "", uuid: store.uuid, path: filename, type: "block",
                totalSize: 0,
                freeSize: 0, totalBlocks: 0, freeBlocks: 0, blockSize: Int64(base.blockSize), clusterSize: 0,
                driver: "aio",
                name: store.name, state: .ready, errorMsg: "")
            disk.apply(store)
            disks[store.name] = disk
            changed = true
        }
        if changed { changes.notify() }
    }

    private func reconcileReplicas() async throws(InstanceManagerError) {
        // The tgt loads an lvstore's lvols before it lists the lvstore; lvstores listed both
        // before and after the bdevs were read had their lvols in that list. A replica is dropped
        // for a missing lvol only on such a store: a tgt that restarted during this round (its
        // lvstores not loaded again yet) drops nothing.
        let storesBefore = try await tgt.lvstores()
        let bdevs = try await tgt.bdevs()
        let lvols = LvolIndex(bdevs)
        let subsystems = try await tgt.subsystems()
        let raids = try await tgt.raids()
        let storesAfter = Set(try await tgt.lvstores().map(\.uuid))
        let listed = Set(storesBefore.map(\.uuid)).intersection(storesAfter)
        // Lvols a RAID holds (a local engine's legs): they cannot be exposed and are not lost.
        let held = raids.heldBases
        // An engine whose RAID is gone (the tgt restarted) holds its local replicas no more.
        for (name, var record) in engines
        where !record.localReplicas.isEmpty && !raids.contains(where: { $0.name == name }) {
            record.localReplicas.removeAll()
            engines[name] = record
        }
        let readyDisks = disks.values.filter { $0.state == .ready }
        var changed = false
        // Head lvols on known disks, by replica name.
        var heads: [String: (disk: DiskInfo, bdev: TgtBdev)] = [:]
        for bdev in bdevs {
            guard let alias = bdev.lvolAlias, bdev.lvol?["snapshot"]?.boolValue == false,
                let slash = alias.firstIndex(of: "/")
            else { continue }
            let store = String(alias[..<slash])
            let name = String(alias[alias.index(after: slash)...])
            guard V2Naming.isReplicaName(name), let disk = readyDisks.first(where: { $0.name == store }) else {
                continue
            }
            heads[name] = (disk, bdev)
        }
        for (name, var replica) in replicas {
            guard let head = heads[name], head.disk.name == replica.lvsName else {
                // A ready disk whose lvstore this round did not see throughout: ask again next round.
                if let disk = disks[replica.lvsName], disk.state == .ready, !listed.contains(disk.uuid) {
                    continue
                }
                if replica.state == .running || replica.state == .stopped || replica.state == .error {
                    if replica.portStart > 0 {
                        ports.release(PortRange(start: Int(replica.portStart), end: Int(replica.portEnd)))
                    }
                    replicas.removeValue(forKey: name)
                    changed = true
                }
                continue
            }
            let before = replica
            // A running replica the tgt no longer exposes, or one whose earlier exposing failed
            // (an error that still holds its port), is exposed again: every round tries. Not one
            // a RAID holds (a local engine's leg).
            let holdsItsPort = replica.state == .running || (replica.state == .error && replica.portStart > 0)
            let subsystem = subsystems.first(where: { $0.nqn == V2Naming.nqn(name) })
            if replica.state == .error && replica.portStart > 0, let subsystem, !held.contains(head.bdev.name) {
                // An earlier exposing that reported failure (a call timed out, its cleanup too)
                // may have left the subsystem: if it exposes this lvol on the replica's port, the
                // replica runs; otherwise it goes and the next round exposes the lvol again.
                if subsystem.ports.contains(Int(replica.portStart))
                    && subsystem.namespaceBdevs.contains(where: { $0 == head.bdev.name || $0 == head.bdev.uuid })
                {
                    replica.state = .running
                    replica.errorMsg = ""
                } else {
                    try? await tgt.unexpose(nqn: V2Naming.nqn(name))
                }
            } else if holdsItsPort && subsystem == nil && !held.contains(head.bdev.name) {
                do throws(InstanceManagerError) {
                    guard replica.portStart > 0 else {
                        throw InstanceManagerError(.internalError, "replica \(name) holds no port")
                    }
                    try await tgt.expose(
                        nqn: V2Naming.nqn(name), bdev: head.bdev.uuid, ip: configuration.ip,
                        port: Int(replica.portStart))
                    replica.state = .running
                    replica.errorMsg = ""
                } catch {
                    replica.state = .error
                    replica.errorMsg =
                        "the tgt no longer exposes replica \(name) (it restarted?) and exposing it again failed: \(error.message)"
                }
            }
            replica.refresh(from: lvols, clusterSize: UInt64(max(head.disk.clusterSize, 1)))
            if replica != before {
                replicas[name] = replica
                changed = true
            }
        }
        for (name, head) in heads where replicas[name] == nil {
            var replica = ReplicaInfo(
                name: name, lvsName: head.disk.name, lvsUUID: head.disk.uuid, specSize: head.bdev.sizeBytes,
                actualSize: 0,
                ip: configuration.ip, portStart: 0, portEnd: 0, head: nil, snapshots: [:], rebuilding: false,
                state: .stopped,
                errorMsg: "", backingImageName: "", uuid: head.bdev.uuid)
            if let exposed = subsystems.first(where: { $0.nqn == V2Naming.nqn(name) }), let port = exposed.ports.first {
                let range = PortRange(start: port, end: port)
                if (try? ports.reserve(range)) != nil || !configuration.portRange.contains(port) {
                    replica.state = .running
                    replica.portStart = Int32(port)
                    replica.portEnd = Int32(port)
                }
            } else if held.contains(head.bdev.name) {
                if let range = await recordedPorts(ofHead: head.bdev.name),
                    (try? ports.reserve(range)) != nil || !configuration.portRange.contains(range.start)
                {
                    replica.state = .running
                    replica.portStart = Int32(range.start)
                    replica.portEnd = Int32(range.end)
                } else {
                    replica.state = .error
                    replica.errorMsg =
                        "a RAID of this node holds replica \(name)'s lvol but the ports it was exposed on are unknown or taken"
                }
            }
            replica.refresh(from: lvols, clusterSize: UInt64(max(head.disk.clusterSize, 1)))
            replicas[name] = replica
            changed = true
        }
        if changed { changes.notify() }
        var headNames: [String: String] = [:]
        for (name, head) in heads { headNames[head.bdev.name] = name }
        try await rediscoverEngines(subsystems: subsystems, raids: raids, heads: headNames)
    }
}
