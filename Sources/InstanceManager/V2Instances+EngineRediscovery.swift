// Engines the tgt still holds but this instance manager does not know (it restarted): RAID1
// bdevs whose legs are replica controllers (`<replica>n1`) or head lvols of this node's replicas
// (held locally). They are not adopted (Longhorn keeps engines in memory only): each is reported
// as an engine in state `error` with its frontend's port reserved, so it is visible and
// `engineDelete` tears it down (and exposes its local replicas again).

extension V2Instances {
    /// `heads`: the bdev name of each replica head lvol on a ready disk → the replica's name.
    func rediscoverEngines(
        subsystems: [TgtSubsystem], raids: [TgtRaid], heads: [String: String]
    ) async throws(InstanceManagerError) {
        let raids = raids.filter { engines[$0.name] == nil && V2Naming.isReplicaName($0.name) }
        guard !raids.isEmpty else { return }
        let exports = try await tgt.nbdExports()
        for raid in raids {
            var record = EngineRecord(
                info: EngineInfo(
                    name: raid.name, volumeName: "", specSize: 0, actualSize: 0, ip: configuration.ip, port: 0,
                    replicaAddressMap: [:], replicaModeMap: [:], head: nil, snapshots: [:], frontend: "", endpoint: "",
                    state: .error,
                    errorMsg: "engine \(raid.name) was found in the tgt after an instance-manager restart; delete it",
                    targetIP: configuration.ip, targetPort: 0, standbyTargetPort: 0, ublkID: 0, uuid: "",
                    isExpanding: false,
                    lastExpansionError: "", lastExpansionFailedAt: "", snapshotMaxCount: 0))
            for (base, configured) in raid.bases {
                let replica: String
                if let local = heads[base] {
                    replica = local
                    record.localReplicas.insert(replica)
                    let port = replicas[replica]?.portStart ?? 0
                    record.info.replicaAddressMap[replica] =
                        port > 0 ? Self.joinAddress(configuration.ip, Int(port)) : ""
                } else if base.hasSuffix("n1") {
                    replica = String(base.dropLast(2))
                    record.controllers.insert(replica)
                    record.info.replicaAddressMap[replica] = ""
                } else {
                    continue
                }
                record.bases[replica] = base
                record.info.replicaModeMap[replica] = configured ? .rw : .err
            }
            var port: Int?
            let volumePrefix = V2Naming.volumeNQN("")
            if let subsystem = subsystems.first(where: {
                $0.nqn.hasPrefix(volumePrefix) && $0.namespaceBdevs.contains(raid.name)
            }) {
                record.info.volumeName = String(subsystem.nqn.dropFirst(volumePrefix.count))
                record.info.frontend = EngineFrontend.nvmf.rawValue
                port = subsystem.ports.first
            } else if let export = exports.first(where: { $0.bdev == raid.name }) {
                record.info.volumeName = export.name
                record.info.frontend = EngineFrontend.nbd.rawValue
                port = export.port
            }
            if let port, (try? ports.reserve(PortRange(start: port, end: port))) != nil,
                configuration.portRange.contains(port)
            {
                record.frontendPort = PortRange(start: port, end: port)
                record.info.port = Int32(port)
                record.info.targetPort = Int32(port)
            }
            engines[raid.name] = record
        }
        changes.notify()
    }
}
