// Engines the tgt still holds but this instance manager does not know (it restarted): RAID1
// bdevs whose legs are replica controllers (`<replica>n1`). They are not adopted (Longhorn keeps
// engines in memory only): each is reported as an engine in state `error` with its frontend's
// port reserved, so it is visible and `engineDelete` tears it down.

extension V2Instances {
    func rediscoverEngines(subsystems: [TgtSubsystem]) async throws(InstanceManagerError) {
        let raids = try await tgt.raids().filter { engines[$0.name] == nil && V2Naming.isReplicaName($0.name) }
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
            for (base, configured) in raid.bases where base.hasSuffix("n1") {
                let replica = String(base.dropLast(2))
                record.bases[replica] = base
                record.controllers.insert(replica)
                record.info.replicaModeMap[replica] = configured ? .rw : .err
                record.info.replicaAddressMap[replica] = ""
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
