// Engines (longhorn-api.md §3.6, §4.4): a RAID1 bdev named after the engine over its replicas,
// and a frontend (`spdk-tcp-nvmf`: an NVMe/TCP target; `spdk-tcp-blockdev`: that target connected
// by the host's kernel initiator, `/dev/longhorn/<volume>`; `nbd`: an NBD export). A replica of
// another node is attached as an NVMe/TCP controller named after it (bdev `<replica>n1`); a
// replica of this node (its address is this node's IP and the replica's port) is used directly:
// its head lvol is the RAID base, unexposed while the engine holds it
// (V2Instances+LocalReplica.swift).

import JSONRPC

extension V2Instances {
    /// Creates an engine. Bad requests throw and change nothing; failures in the tgt after
    /// validation return the engine with state `error` (it stays registered until `engineDelete`).
    public func engineCreate(
        name: String, volumeName: String, specSize: UInt64, replicaAddressMap: [String: String], frontend: String
    ) async throws(InstanceManagerError) -> EngineInfo {
        guard V2Naming.isReplicaName(name) else { throw .invalidArgument("invalid engine name \"\(name)\"") }
        guard V2Naming.isReplicaName(volumeName) else {
            throw .invalidArgument("invalid volume name \"\(volumeName)\"")
        }
        try Self.checkSize(specSize, of: "engine \(name)")
        guard let kind = EngineFrontend(rawValue: frontend) else {
            if frontend == "ublk" { throw InstanceManagerError(.unimplemented, "frontend ublk is not supported") }
            throw .invalidArgument("unknown frontend \"\(frontend)\"")
        }
        guard !replicaAddressMap.isEmpty else { throw .invalidArgument("engine \(name) has no replicas") }
        for (replica, address) in replicaAddressMap {
            guard V2Naming.isReplicaName(replica), Self.splitAddress(address) != nil else {
                throw .invalidArgument("invalid replica address \"\(replica)\": \"\(address)\" (want name → ip:port)")
            }
        }
        await lock()
        defer { unlock() }
        // The tgt as it is now: when a replica of this node is not there to use (the tgt restarted
        // and lost its disk), one reconcile round first brings back what it can.
        if await localReplicasNeedReconcile(replicaAddressMap) { await reconcileLocked() }
        guard engines[name] == nil else { throw InstanceManagerError(.alreadyExists, "engine \(name) already exists") }
        if let other = engines.values.first(where: { $0.info.volumeName == volumeName }) {
            throw InstanceManagerError(.alreadyExists, "volume \(volumeName) already has engine \(other.info.name)")
        }
        var record = EngineRecord(
            info: EngineInfo(
                name: name, volumeName: volumeName, specSize: specSize, actualSize: 0, ip: configuration.ip, port: 0,
                replicaAddressMap: replicaAddressMap, replicaModeMap: [:], head: nil, snapshots: [:],
                frontend: frontend,
                endpoint: "", state: .pending, errorMsg: "", targetIP: configuration.ip, targetPort: 0,
                standbyTargetPort: 0,
                ublkID: 0, uuid: "", isExpanding: false, lastExpansionError: "", lastExpansionFailedAt: "",
                snapshotMaxCount: 0))
        engines[name] = record
        do throws(InstanceManagerError) {
            try await build(&record, frontend: kind)
            record.info.state = .running
        } catch {
            record.info.state = .error
            record.info.errorMsg = error.message
            await releaseLocals(of: &record)
        }
        engines[name] = record
        changes.notify()
        return record.info
    }

    /// Whether a replica at this node's address is not running here with its head lvol in the tgt
    /// (a full round lists every bdev, subsystem and array: not for every engine).
    private func localReplicasNeedReconcile(_ replicaAddressMap: [String: String]) async -> Bool {
        for (name, address) in replicaAddressMap {
            guard let (ip, _) = Self.splitAddress(address), ip == configuration.ip else { continue }
            guard let local = localReplica(name, address: address),
                (try? await tgt.bdev("\(local.lvsName)/\(name)")) != nil
            else { return true }
        }
        return false
    }

    private func build(_ record: inout EngineRecord, frontend: EngineFrontend) async throws(InstanceManagerError) {
        let name = record.info.name
        if frontend == .blockdev && !configuration.kernelHasNVMeTCPInitiator() {
            throw InstanceManagerError(
                .failedPrecondition,
                "frontend spdk-tcp-blockdev needs a host block device, but the kernel has no NVMe/TCP initiator (nvme_tcp module)"
            )
        }
        // Leftovers of an engine of this name the tgt may still hold (an instance-manager restart).
        try await tgt.raidDelete(name: name)
        var failures: [String] = []
        for replica in record.info.replicaAddressMap.keys.sorted() {
            do throws(InstanceManagerError) {
                let address = record.info.replicaAddressMap[replica] ?? ""
                let bdev: String
                if let local = localReplica(replica, address: address) {
                    bdev = try await holdLocal(local, record: &record)
                } else {
                    bdev = try await attach(replica, address: address, record: &record)
                }
                record.bases[replica] = bdev
                record.info.replicaModeMap[replica] = .rw
            } catch {
                record.info.replicaModeMap[replica] = .err
                failures.append("\(replica): \(error.message)")
            }
        }
        let bases = record.info.replicaAddressMap.keys.sorted().compactMap { record.bases[$0] }
        guard !bases.isEmpty else {
            throw InstanceManagerError(
                .internalError, "engine \(name): no replica could be attached: \(failures.joined(separator: "; "))")
        }
        try await tgt.raidCreate(name: name, bases: bases)
        if let raid = try await tgt.bdev(name) {
            record.info.actualSize = raid.sizeBytes
            record.info.uuid = raid.uuid
        }
        let volume = record.info.volumeName
        switch frontend {
        case .none:
            break
        case .nvmf, .nbd, .blockdev:
            let port: PortRange
            do {
                port = try allocatePorts(count: 1)
            } catch {
                throw InstanceManagerError(.resourceExhausted, error.description)
            }
            record.frontendPort = port
            record.info.port = Int32(port.start)
            record.info.targetPort = Int32(port.start)
            if frontend == .nbd {
                try await tgt.nbdUnexport(name: volume)
                try await tgt.nbdExport(name: volume, bdev: name, ip: configuration.ip, port: port.start)
                record.info.endpoint = "nbd://\(configuration.ip):\(port.start)/\(volume)"
                return
            }
            let nqn = V2Naming.volumeNQN(volume)
            try await tgt.unexpose(nqn: nqn)
            try await tgt.expose(nqn: nqn, bdev: name, ip: configuration.ip, port: port.start)
            if frontend == .nvmf {
                record.info.endpoint = "nvmf://\(configuration.ip):\(port.start)/\(nqn)"
            } else {
                // The host's initiator connects to this node's own target.
                record.info.endpoint = try await configuration.initiator.connect(
                    nqn: nqn, ip: configuration.ip, port: port.start, volume: volume)
            }
        }
    }

    /// Attaches a replica's subsystem as a controller named after it; checks its size.
    private func attach(
        _ replica: String, address: String, record: inout EngineRecord
    ) async throws(InstanceManagerError) -> String {
        guard let (ip, port) = Self.splitAddress(address) else {
            throw .invalidArgument("invalid replica address \(address)")
        }
        try await tgt.detachController(name: replica)
        _ = try await tgt.attachController(
            name: replica, ip: ip, port: port, subnqn: V2Naming.nqn(replica),
            timeouts: configuration.replicaControllerTimeouts)
        record.controllers.insert(replica)
        let bdevName = "\(replica)n1"
        guard let bdev = try await tgt.bdev(bdevName) else {
            throw InstanceManagerError(
                .internalError, "replica \(replica) at \(address) has no namespace bdev \(bdevName)")
        }
        guard bdev.sizeBytes >= record.info.specSize else {
            try? await tgt.detachController(name: replica)
            record.controllers.remove(replica)
            throw InstanceManagerError(
                .failedPrecondition,
                "replica \(replica) is \(bdev.sizeBytes) bytes, smaller than the engine's \(record.info.specSize)")
        }
        return bdevName
    }

    /// Tears the engine down: frontend, port, RAID, controllers; then forgets it and exposes the
    /// local replicas it held again.
    public func engineDelete(name: String) async throws(InstanceManagerError) {
        guard !name.isEmpty else { throw .invalidArgument("engine name is required") }
        await lock()
        defer { unlock() }
        guard var record = engines[name] else { throw .notFound("engine \(name)") }
        switch EngineFrontend(rawValue: record.info.frontend) {
        case .nvmf?: try await tgt.unexpose(nqn: V2Naming.volumeNQN(record.info.volumeName))
        case .blockdev?:
            let nqn = V2Naming.volumeNQN(record.info.volumeName)
            if configuration.kernelHasNVMeTCPInitiator() {
                try configuration.initiator.disconnect(nqn: nqn, volume: record.info.volumeName)
            }
            try await tgt.unexpose(nqn: nqn)
        case .nbd?: try await tgt.nbdUnexport(name: record.info.volumeName)
        default: break
        }
        if let port = record.frontendPort {
            ports.release(port)
            record.frontendPort = nil
            engines[name] = record
        }
        try await tgt.raidDelete(name: name)
        for replica in record.controllers.sorted() { try await tgt.detachController(name: replica) }
        engines.removeValue(forKey: name)
        for replica in record.localReplicas.sorted() { await releaseLocal(replica) }
        changes.notify()
    }

    public func engineGet(name: String) async throws(InstanceManagerError) -> EngineInfo {
        guard engines[name] != nil else { throw .notFound("engine \(name)") }
        await refreshEngineMode(name)
        guard let record = engines[name] else { throw .notFound("engine \(name)") }
        return record.info
    }

    public func engineList() async -> [String: EngineInfo] {
        await refreshEngineModes()
        return engines.mapValues(\.info)
    }

    /// Adds a replica to a running engine: attach, then `bdev_raid_grow_base_bdev`. The tgt's
    /// RAID1 does not rebuild a new leg (the caller copies the data first, as Longhorn's
    /// rebuilding does), so the replica is RW at once.
    public func engineReplicaAdd(
        engineName: String, replicaName: String, replicaAddress: String
    ) async throws(InstanceManagerError) {
        guard V2Naming.isReplicaName(replicaName), Self.splitAddress(replicaAddress) != nil else {
            throw .invalidArgument("invalid replica \"\(replicaName)\" at \"\(replicaAddress)\"")
        }
        await lock()
        defer { unlock() }
        guard var record = engines[engineName] else { throw .notFound("engine \(engineName)") }
        guard record.info.state == .running else {
            throw InstanceManagerError(
                .failedPrecondition, "engine \(engineName) is \(record.info.state.rawValue), not running")
        }
        guard record.info.replicaAddressMap[replicaName] == nil else {
            throw InstanceManagerError(.alreadyExists, "engine \(engineName) already has replica \(replicaName)")
        }
        let local = localReplica(replicaName, address: replicaAddress)
        let bdev: String
        if let local {
            bdev = try await holdLocal(local, record: &record)
        } else {
            bdev = try await attach(replicaName, address: replicaAddress, record: &record)
        }
        do throws(InstanceManagerError) {
            try await tgt.raidGrow(raid: engineName, base: bdev)
        } catch {
            if local != nil {
                await releaseLocal(replicaName)
            } else {
                try? await tgt.detachController(name: replicaName)
            }
            throw error
        }
        record.bases[replicaName] = bdev
        record.info.replicaAddressMap[replicaName] = replicaAddress
        record.info.replicaModeMap[replicaName] = .rw
        engines[engineName] = record
        changes.notify()
    }

    /// Removes a replica from an engine: `bdev_raid_remove_base_bdev`, then the controller detach
    /// (a local replica is exposed again instead).
    public func engineReplicaDelete(
        engineName: String, replicaName: String, replicaAddress: String
    ) async throws(InstanceManagerError) {
        guard !engineName.isEmpty, !replicaName.isEmpty else {
            throw .invalidArgument("engine and replica names are required")
        }
        await lock()
        defer { unlock() }
        guard var record = engines[engineName] else { throw .notFound("engine \(engineName)") }
        guard let known = record.info.replicaAddressMap[replicaName] else {
            throw .notFound("replica \(replicaName) in engine \(engineName)")
        }
        guard replicaAddress.isEmpty || replicaAddress == known else {
            throw .invalidArgument(
                "replica \(replicaName) of engine \(engineName) is at \(known), not \(replicaAddress)")
        }
        if let bdev = record.bases[replicaName] { try await tgt.raidRemoveBase(bdev) }
        if record.controllers.contains(replicaName) { try await tgt.detachController(name: replicaName) }
        record.bases.removeValue(forKey: replicaName)
        record.controllers.remove(replicaName)
        let wasLocal = record.localReplicas.remove(replicaName) != nil
        record.info.replicaAddressMap.removeValue(forKey: replicaName)
        record.info.replicaModeMap.removeValue(forKey: replicaName)
        engines[engineName] = record
        if wasLocal { await releaseLocal(replicaName) }
        changes.notify()
    }

    /// Replica modes from the tgt's RAID listing: a configured leg is RW, any other ERR; an
    /// engine whose RAID is gone is an error (the tgt restarted or lost every leg). Callers need
    /// not hold the lock: a listing that an engine change overtook (an engine created after the
    /// listing was asked for would be missing from it) is dropped, and the next refresh tells.
    func refreshEngineModes() async {
        let epoch = enginesEpoch
        guard !engines.isEmpty, let raids = try? await tgt.raids(), enginesEpoch == epoch else { return }
        let byName = Dictionary(raids.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var changed = false
        for name in engines.keys {
            if applyRaid(byName[name], toEngine: name) { changed = true }
        }
        if changed { changes.notify() }
    }

    /// The same for one engine, from its own RAID bdev (`bdev_get_bdevs` by name): what one
    /// engine's InstanceGet or proxy call costs does not grow with the engines on the node.
    func refreshEngineMode(_ name: String) async {
        let epoch = enginesEpoch
        guard engines[name]?.info.state == .running else { return }
        let raid: TgtRaid?
        do {
            raid = try await tgt.bdev(name).flatMap(TgtRaid.init(bdev:))
        } catch {
            return
        }
        guard enginesEpoch == epoch else { return }
        if applyRaid(raid, toEngine: name) { changes.notify() }
    }

    /// Sets a running engine's replica modes from its RAID (nil: gone); true when they changed.
    private func applyRaid(_ raid: TgtRaid?, toEngine name: String) -> Bool {
        guard var record = engines[name], record.info.state == .running else { return false }
        let before = record.info
        if let raid {
            for replica in record.info.replicaAddressMap.keys {
                let configured = record.bases[replica].flatMap { raid.bases[$0] } ?? false
                record.info.replicaModeMap[replica] = configured ? .rw : .err
            }
        } else {
            record.info.state = .error
            record.info.errorMsg = "the RAID bdev \(name) is gone from the tgt (restarted, or every replica failed)"
            for replica in record.info.replicaAddressMap.keys { record.info.replicaModeMap[replica] = .err }
        }
        guard record.info != before else { return false }
        engines[name] = record
        return true
    }

    /// ip, port → "ip:port" (IPv6 in brackets).
    static func joinAddress(_ ip: String, _ port: Int) -> String {
        ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    /// "ip:port" (IPv6 in brackets) → its parts.
    static func splitAddress(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":") else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        return (host, port)
    }
}
