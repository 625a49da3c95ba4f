// A replica on this node's own tgt used by an engine of this node: its head lvol is the RAID base
// directly, with no NVMe/TCP hop. The tgt refuses an lvol that is an NVMe-oF namespace as a RAID
// base (both claim it for exclusive write), so while an engine holds the replica its subsystem is
// deleted; its ports stay reserved and its state `running`. When the engine lets go (engine delete,
// replica remove, a failed build) the replica is exposed again on the same ports.
//
// The tgt keeps what a new instance manager needs to find this again: the head lvol's xattr
// `hornbill_replica_ports` ("<start>-<end>", written whenever the replica is exposed on new ports)
// and the RAID's base names (the lvol's bdev name, its UUID).

import JSONRPC

extension V2Instances {
    /// The xattr of a replica's head lvol holding the ports it is exposed on.
    static let replicaPortsXattr = "hornbill_replica_ports"

    /// The running replica of this node that `address` names (this node's IP and the replica's
    /// first port), if any.
    func localReplica(_ name: String, address: String) -> ReplicaInfo? {
        guard let replica = replicas[name], replica.state == .running, replica.portStart > 0,
            let (ip, port) = Self.splitAddress(address), ip == configuration.ip, port == Int(replica.portStart)
        else { return nil }
        return replica
    }

    /// The engine of this node whose RAID uses `replica`'s lvol directly.
    func engineHolding(replica: String) -> String? {
        engines.values.first { $0.localReplicas.contains(replica) }?.info.name
    }

    /// Takes a local replica for `record`'s RAID: checks its head, unexposes it; the head's bdev name.
    func holdLocal(_ replica: ReplicaInfo, record: inout EngineRecord) async throws(InstanceManagerError) -> String {
        if let holder = engineHolding(replica: replica.name), holder != record.info.name {
            throw InstanceManagerError(
                .failedPrecondition, "replica \(replica.name) is already used by engine \(holder) of this node")
        }
        let alias = "\(replica.lvsName)/\(replica.name)"
        guard let head = try await tgt.bdev(alias) else {
            throw InstanceManagerError(.notFound, "cannot find the head lvol \(alias) of replica \(replica.name)")
        }
        guard head.sizeBytes >= record.info.specSize else {
            throw InstanceManagerError(
                .failedPrecondition,
                "replica \(replica.name) is \(head.sizeBytes) bytes, smaller than the engine's \(record.info.specSize)")
        }
        try await tgt.unexpose(nqn: V2Naming.nqn(replica.name))
        record.localReplicas.insert(replica.name)
        return head.name
    }

    /// Exposes a local replica an engine let go on its own ports again (unless the tgt exposes it
    /// already: a tgt restart lost the RAID and the reconcile loop did it). When that fails (the
    /// tgt restarted and has not got the disk back yet) the replica stays `running` and unexposed:
    /// the reconcile round exposes it, or reports it `error` if it cannot.
    func releaseLocal(_ name: String) async {
        guard let replica = replicas[name], replica.state == .running, replica.portStart > 0 else { return }
        let nqn = V2Naming.nqn(name)
        guard let subsystems = try? await tgt.subsystems(), !subsystems.contains(where: { $0.nqn == nqn }),
            let head = try? await tgt.bdev("\(replica.lvsName)/\(name)")
        else { return }
        // A failed expose leaves no subsystem: the reconcile round sees the replica unexposed.
        try? await tgt.expose(nqn: nqn, bdev: head.name, ip: configuration.ip, port: Int(replica.portStart))
    }

    /// Gives back every local replica a failed build took: the RAID goes (it would hold them), each
    /// is exposed again and its leg is ERR.
    func releaseLocals(of record: inout EngineRecord) async {
        guard !record.localReplicas.isEmpty else { return }
        try? await tgt.raidDelete(name: record.info.name)
        for replica in record.localReplicas.sorted() {
            record.bases.removeValue(forKey: replica)
            record.info.replicaModeMap[replica] = .err
            await releaseLocal(replica)
        }
        record.localReplicas.removeAll()
    }

    /// Writes the ports a replica is exposed on into its head lvol.
    func recordPorts(_ ports: PortRange, ofHead head: String) async throws(InstanceManagerError) {
        try await tgt.lvolSetXattr(name: head, key: Self.replicaPortsXattr, value: "\(ports.start)-\(ports.end)")
    }

    /// The ports a replica's head lvol records; nil when it records none or nothing sensible.
    func recordedPorts(ofHead head: String) async -> PortRange? {
        guard let text = try? await tgt.lvolGetXattr(name: head, key: Self.replicaPortsXattr) else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Int(parts[0]), let end = Int(parts[1]), 1 <= start, start <= end,
            end <= 65535, end - start < Int(InstanceManagerLimits.maxPortsPerInstance)
        else { return nil }
        return PortRange(start: start, end: end)
    }
}

extension [TgtRaid] {
    /// The names of every base some RAID holds (configured or not: the RAID claims it either way).
    var heldBases: Set<String> { Set(flatMap(\.bases.keys)) }
}
