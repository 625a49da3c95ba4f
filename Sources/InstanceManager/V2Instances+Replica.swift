// Replicas (longhorn-api.md §3.6, §4.4): a thin head lvol named after the replica on a disk's
// lvstore, exposed while running as the namespace of the NVMe/TCP subsystem
// `nqn.2023-01.io.longhorn.spdk:<replica>` on the first of its ports. A stopped replica keeps its
// lvol; a deleted one (cleanup) loses it.

import JSONRPC

extension V2Instances {
    /// Creates or starts a replica. Bad requests throw and change nothing; a failure in the tgt
    /// after validation returns the replica with state `error` and the reason in `errorMsg`.
    public func replicaCreate(
        name: String, lvsName: String, lvsUUID: String, specSize: UInt64, portCount: Int32,
        backingImageName: String = ""
    ) async throws(InstanceManagerError) -> ReplicaInfo {
        guard V2Naming.isReplicaName(name) else { throw .invalidArgument("invalid replica name \"\(name)\"") }
        try Self.checkSize(specSize, of: "replica \(name)")
        guard portCount >= 1, portCount <= InstanceManagerLimits.maxPortsPerInstance else {
            throw .invalidArgument(
                "invalid port count \(portCount) for replica \(name): 1 to \(InstanceManagerLimits.maxPortsPerInstance)"
            )
        }
        guard !lvsName.isEmpty || !lvsUUID.isEmpty else { throw .invalidArgument("replica \(name) names no lvstore") }
        guard backingImageName.isEmpty else {
            throw InstanceManagerError(.unimplemented, "backing images are not supported (replica \(name))")
        }
        await lock()
        defer { unlock() }
        if let existing = replicas[name] {
            guard existing.state != .running else {
                throw InstanceManagerError(.alreadyExists, "replica \(name) is already running")
            }
            try refuseIfHeld(name, "started")
            guard (lvsName.isEmpty || lvsName == existing.lvsName) && (lvsUUID.isEmpty || lvsUUID == existing.lvsUUID)
            else {
                throw .invalidArgument("replica \(name) is on lvstore \(existing.lvsName) (\(existing.lvsUUID))")
            }
        }
        let stores = try await tgt.lvstores()
        // Ports an errored replica still holds (its exposure was lost) are given back first.
        if var existing = replicas[name], existing.portStart > 0 {
            self.ports.release(PortRange(start: Int(existing.portStart), end: Int(existing.portEnd)))
            existing.portStart = 0
            existing.portEnd = 0
            replicas[name] = existing
        }
        guard
            let store = stores.first(where: {
                (lvsUUID.isEmpty || $0.uuid == lvsUUID) && (lvsName.isEmpty || $0.name == lvsName)
            })
        else { throw .notFound("lvstore \(lvsName.isEmpty ? lvsUUID : lvsName)") }
        let ports: PortRange
        do {
            ports = try allocatePorts(count: Int(portCount))
        } catch {
            throw InstanceManagerError(.resourceExhausted, error.description)
        }
        var replica =
            replicas[name]
            ?? ReplicaInfo(
                name: name, lvsName: store.name, lvsUUID: store.uuid, specSize: specSize, actualSize: 0,
                ip: configuration.ip,
                portStart: 0, portEnd: 0, head: nil, snapshots: [:], rebuilding: false, state: .pending, errorMsg: "",
                backingImageName: "", uuid: "")
        replica.specSize = specSize
        replica.ip = configuration.ip
        do throws(InstanceManagerError) {
            let head = try await ensureHead(name: name, store: store, specSize: specSize)
            try await tgt.unexpose(nqn: V2Naming.nqn(name))
            try await tgt.expose(nqn: V2Naming.nqn(name), bdev: head.uuid, ip: configuration.ip, port: ports.start)
            try await recordPorts(ports, ofHead: head.name)
            replica.portStart = Int32(ports.start)
            replica.portEnd = Int32(ports.end)
            replica.state = .running
            replica.errorMsg = ""
            // A head with no base snapshot, of a replica not known to have snapshots, is its only
            // lvol (its snapshots descend from the head's ancestors): no need to list every bdev.
            let hasSnapshots =
                !(head.lvol?["base_snapshot"]?.stringValue ?? "").isEmpty || !replica.snapshots.isEmpty
            let bdevs = hasSnapshots ? try await tgt.bdevs() : [head]
            replica.refresh(from: LvolIndex(bdevs), clusterSize: store.clusterSize)
        } catch {
            try? await tgt.unexpose(nqn: V2Naming.nqn(name))
            self.ports.release(ports)
            replica.portStart = 0
            replica.portEnd = 0
            replica.state = .error
            replica.errorMsg = error.message
        }
        replicas[name] = replica
        changes.notify()
        return replica
    }

    /// The head lvol: reused (grown if smaller) or created thin with clear method unmap.
    private func ensureHead(
        name: String, store: TgtLvstore, specSize: UInt64
    ) async throws(InstanceManagerError) -> TgtBdev {
        let mebibyte: UInt64 = 1 << 20
        let sizeMiB = (specSize + mebibyte - 1) / mebibyte
        let alias = "\(store.name)/\(name)"
        if let head = try await tgt.bdev(alias) {
            if head.sizeBytes < sizeMiB * mebibyte { try await tgt.lvolResize(name: alias, sizeMiB: sizeMiB) }
        } else {
            try await tgt.lvolCreate(lvstoreUUID: store.uuid, name: name, sizeMiB: sizeMiB)
        }
        guard let head = try await tgt.bdev(alias) else {
            throw InstanceManagerError(.internalError, "the head lvol \(alias) of replica \(name) did not appear")
        }
        return head
    }

    /// Stops a replica (`cleanupRequired` false: unexposed, ports released, lvol kept, state
    /// `stopped`) or deletes it (true: its lvols too, and it is forgotten).
    public func replicaDelete(name: String, cleanupRequired: Bool) async throws(InstanceManagerError) {
        guard !name.isEmpty else { throw .invalidArgument("replica name is required") }
        await lock()
        defer { unlock() }
        guard var replica = replicas[name] else { throw .notFound("replica \(name)") }
        try refuseIfHeld(name, cleanupRequired ? "deleted" : "stopped")
        try await tgt.unexpose(nqn: V2Naming.nqn(name))
        if replica.portStart > 0 {
            ports.release(PortRange(start: Int(replica.portStart), end: Int(replica.portEnd)))
        }
        replica.portStart = 0
        replica.portEnd = 0
        replica.state = .stopped
        replica.errorMsg = ""
        replicas[name] = replica
        if cleanupRequired {
            // Snapshots and other lvols of the replica first (newest first), then the head.
            let bdevs = try await tgt.bdevs()
            let owned = bdevs.compactMap(\.lvolAlias).filter { $0.hasPrefix("\(replica.lvsName)/\(name)-") }
            for alias in owned.reversed() { try await tgt.lvolDelete(name: alias) }
            try await tgt.lvolDelete(name: "\(replica.lvsName)/\(name)")
            replicas.removeValue(forKey: name)
        }
        changes.notify()
    }

    /// A replica an engine of this node holds (its lvol is a RAID base) cannot change under it.
    private func refuseIfHeld(_ name: String, _ what: String) throws(InstanceManagerError) {
        guard let engine = engineHolding(replica: name) else { return }
        throw InstanceManagerError(
            .failedPrecondition,
            "replica \(name) cannot be \(what): engine \(engine) of this node uses its lvol; delete the engine or remove the replica from it first"
        )
    }

    public func replicaGet(name: String) throws(InstanceManagerError) -> ReplicaInfo {
        guard let replica = replicas[name] else { throw .notFound("replica \(name)") }
        return replica
    }

    public func replicaList() -> [String: ReplicaInfo] { replicas }
}

/// The tgt's lvols by alias, indexed once per bdev listing: a replica's refresh looks up its head
/// and its snapshots instead of scanning every bdev (a list with hundreds of replicas would
/// otherwise cost the square of their number).
struct LvolIndex {
    /// "lvstore/lvol" → bdev.
    private var byAlias: [String: TgtBdev] = [:]
    /// "lvstore/replica" → snapshot name → bdev, for lvols named "<replica>-snap-<snapshot>".
    private var snapshotsByOwner: [String: [String: TgtBdev]] = [:]

    init(_ bdevs: [TgtBdev]) {
        let marker = "-snap-"
        for bdev in bdevs {
            guard let alias = bdev.lvolAlias else { continue }
            byAlias[alias] = bdev
            // Every "-snap-" in the name could end the owner's name: record each reading.
            for found in alias.ranges(of: marker) {
                let owner = String(alias[..<found.lowerBound])
                let snapshot = String(alias[found.upperBound...])
                if !snapshot.isEmpty { snapshotsByOwner[owner, default: [:]][snapshot] = bdev }
            }
        }
    }

    func lvol(_ alias: String) -> TgtBdev? { byAlias[alias] }
    func snapshots(of ownerAlias: String) -> [String: TgtBdev] { snapshotsByOwner[ownerAlias] ?? [:] }
}

extension ReplicaInfo {
    /// Head, snapshots and sizes from the tgt's bdev listing.
    mutating func refresh(from lvols: LvolIndex, clusterSize: UInt64) {
        func info(_ bdev: TgtBdev, reportedAs reported: String) -> LvolInfo {
            let allocated = bdev.lvol?["num_allocated_clusters"]?.uint64Value ?? 0
            let snapshotPrefix = "\(name)-snap-"
            var parent = bdev.lvol?["base_snapshot"]?.stringValue ?? ""
            if parent.hasPrefix(snapshotPrefix) { parent = String(parent.dropFirst(snapshotPrefix.count)) }
            var children: [String: Bool] = [:]
            if case .array(let clones)? = bdev.lvol?["clones"] {
                for clone in clones.compactMap(\.stringValue) {
                    children[
                        clone == name
                            ? "volume-head"
                            : String(clone.dropFirst(clone.hasPrefix(snapshotPrefix) ? snapshotPrefix.count : 0))] =
                        true
                }
            }
            return LvolInfo(
                name: reported, uuid: bdev.uuid, specSize: bdev.sizeBytes, actualSize: allocated * clusterSize,
                parent: parent,
                children: children, creationTime: bdev.creationTime, userCreated: false, snapshotTimestamp: "",
                snapshotChecksum: "")
        }
        let alias = "\(lvsName)/\(name)"
        guard let headBdev = lvols.lvol(alias) else { return }
        head = info(headBdev, reportedAs: "volume-head")
        uuid = headBdev.uuid
        var snapshots: [String: LvolInfo] = [:]
        for (snapshot, bdev) in lvols.snapshots(of: alias) {
            snapshots[snapshot] = info(bdev, reportedAs: snapshot)
        }
        self.snapshots = snapshots
        actualSize = (head?.actualSize ?? 0) + snapshots.values.reduce(0) { $0 + $1.actualSize }
    }
}
