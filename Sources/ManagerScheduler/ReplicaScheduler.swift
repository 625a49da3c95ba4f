// Replica placement (longhorn-api.md §5): a pure function of the nodes, the volume and its other
// replicas. Candidate nodes (ready, schedulable, scheduling allowed, their instance manager
// running, tags); candidate disks on them (in spec and status, scheduling allowed, not evicting,
// schedulable, the data engine's disk type, tags, space with over-provisioning and the minimal
// available share); anti-affinity across zones, nodes and disks, hard or soft; then the node and
// the disk that leave usable space least imbalanced. A failure names Longhorn's reasons with what
// was seen.

public import ManagerModel

public struct ReplicaScheduler: Sendable {
    public var settings: SchedulingSettings

    public init(settings: SchedulingSettings) {
        self.settings = settings
    }

    /// Where `replica` of `volume` goes, given every node and the volume's replicas (`replicas`
    /// may include `replica` itself; it is ignored). `directorySuffix` is the 8 hex digits of the
    /// replica's data directory name.
    public func place(
        _ replica: Replica, of volume: Volume, nodes: [SchedulingNode], replicas: [Replica], directorySuffix: String
    ) -> Result<ReplicaPlacement, SchedulingFailure> {
        let others = replicas.filter { $0.metadata.name != replica.metadata.name }
        let candidates: [SchedulingNode]
        switch candidateNodes(for: replica, of: volume, nodes: nodes) {
        case .success(let found): candidates = found
        case .failure(let failure): return .failure(failure)
        }
        var failure = SchedulingFailure()
        var disks: [DiskCandidate] = []
        for node in candidates {
            let found = candidateDisks(on: node.node, of: volume, replicas: others)
            disks += found.disks
            failure.merge(found.failure)
        }
        guard !disks.isEmpty else {
            if failure.isEmpty { failure.add(.disksUnavailable, "no disk on the candidate nodes") }
            return .failure(failure)
        }
        let chosen: [DiskCandidate]
        switch antiAffinityCandidates(disks, of: volume, nodes: nodes, replicas: others) {
        case .success(let allowed): chosen = allowed
        case .failure(let failure): return .failure(failure)
        }
        guard let best = Self.leastImbalanced(chosen, size: volume.spec.size.rawValue) else {
            return .failure(SchedulingFailure(.schedulingFailed, "no disk left after anti-affinity"))
        }
        return .success(
            ReplicaPlacement(
                nodeID: best.node, diskID: best.status.diskUUID, diskName: best.name, diskPath: best.spec.path,
                dataDirectoryName: "\(volume.metadata.name)-\(directorySuffix)"))
    }

    // MARK: Nodes

    func candidateNodes(
        for replica: Replica, of volume: Volume, nodes: [SchedulingNode]
    ) -> Result<[SchedulingNode], SchedulingFailure> {
        let affinity = replica.spec.hardNodeAffinity
        if !affinity.isEmpty, !nodes.contains(where: { $0.node.metadata.name == affinity }) {
            // Longhorn's reason: the affinity cannot be satisfied (the node is not there).
            return .failure(
                SchedulingFailure(
                    .hardAffinityNotSatisfied, "node \(affinity) of the replica's hard affinity is not found"))
        }
        var failure = SchedulingFailure()
        var candidates: [SchedulingNode] = []
        for entry in nodes.sorted(by: { $0.node.metadata.name < $1.node.metadata.name }) {
            let node = entry.node
            let name = node.metadata.name
            if !affinity.isEmpty && name != affinity { continue }
            if let unavailable = unavailability(of: entry, engine: volume.spec.dataEngine) {
                failure.add(affinity.isEmpty ? .nodesUnavailable : .hardAffinityNotSatisfied, "\(name) \(unavailable)")
                continue
            }
            if let missing = Self.unfulfilled(
                selector: volume.spec.nodeSelector, tags: node.spec.tags,
                allowEmpty: settings.allowEmptyNodeSelectorVolume)
            {
                failure.add(.tagsNotFulfilled, "node \(name) \(missing)")
                continue
            }
            candidates.append(entry)
        }
        guard !candidates.isEmpty else {
            if failure.isEmpty { failure.add(.nodesUnavailable, "no nodes") }
            return .failure(failure)
        }
        return .success(candidates)
    }

    /// Why a node takes no replica of this data engine now, or nil.
    private func unavailability(of entry: SchedulingNode, engine: DataEngine) -> String? {
        let node = entry.node
        if !node.status.conditions.isTrue(NodeConditionType.ready) { return "is not ready" }
        if !node.status.conditions.isTrue(NodeConditionType.schedulable) {
            let reason = node.status.conditions.condition(ofType: NodeConditionType.schedulable)?.reason ?? ""
            return "is not schedulable" + (reason.isEmpty ? "" : " (\(reason))")
        }
        if !node.spec.allowScheduling { return "does not allow scheduling" }
        if engine == .v2 && node.metadata.labels[disableV2DataEngineLabel] == "true" {
            return "has the label \(disableV2DataEngineLabel)=true"
        }
        if !entry.instanceManagerReady { return "has no running \(engine.rawValue) instance manager" }
        return nil
    }

    /// What a selector asks that the tags lack, or nil when they fulfil it.
    static func unfulfilled(selector: [String], tags: [String], allowEmpty: Bool) -> String? {
        if selector.isEmpty {
            return tags.isEmpty || allowEmpty ? nil : "is tagged \(tags.sorted()) and the volume selects no tags"
        }
        let missing = Set(selector).subtracting(tags)
        return missing.isEmpty ? nil : "lacks the tags \(missing.sorted())"
    }

    // MARK: Disks

    /// A disk a replica may go to, with the space it has left for replicas.
    struct DiskCandidate: Equatable {
        var node: String
        var zone: String
        var name: String
        var spec: DiskSpec
        var status: DiskStatus
        /// available − reserved − scheduled.
        var usable: Int64
    }

    func candidateDisks(
        on node: Node, of volume: Volume, replicas: [Replica]
    ) -> (disks: [DiskCandidate], failure: SchedulingFailure) {
        var failure = SchedulingFailure()
        var disks: [DiskCandidate] = []
        let nodeName = node.metadata.name
        let wantedType: DiskType = volume.spec.dataEngine == .v2 ? .block : .filesystem
        for (name, spec) in node.spec.disks.sorted(by: { $0.key < $1.key }) {
            let label = "\(nodeName)/\(name)"
            guard let status = node.status.diskStatus[name] else {
                failure.add(.disksUnavailable, "\(label) has no status yet")
                continue
            }
            guard spec.diskType == wantedType else {
                failure.add(
                    .disksUnavailable,
                    "disk type \(spec.diskType.rawValue) of \(label) is not compatible with data engine \(volume.spec.dataEngine.rawValue)"
                )
                continue
            }
            if !spec.allowScheduling {
                failure.add(.disksUnavailable, "\(label) does not allow scheduling")
                continue
            }
            if spec.evictionRequested {
                failure.add(.disksUnavailable, "\(label) is being evicted")
                continue
            }
            if !status.conditions.isTrue(DiskConditionType.schedulable) {
                let reason = status.conditions.condition(ofType: DiskConditionType.schedulable)?.reason ?? ""
                failure.add(.disksUnavailable, "\(label) is not schedulable" + (reason.isEmpty ? "" : " (\(reason))"))
                continue
            }
            if let missing = Self.unfulfilled(
                selector: volume.spec.diskSelector, tags: spec.tags, allowEmpty: settings.allowEmptyDiskSelectorVolume)
            {
                failure.add(.tagsNotFulfilled, "disk \(label) \(missing)")
                continue
            }
            // Replicas of this volume placed on the disk since its status was last written count too.
            let pending = replicas.filter {
                !status.diskUUID.isEmpty && $0.spec.diskID == status.diskUUID
                    && status.scheduledReplica[$0.metadata.name] == nil
            }.reduce(Int64(0)) { $0.plus(Swift.max($1.spec.instance.volumeSize.rawValue, 0)) }
            let scheduled = status.storageScheduled.plus(pending)
            if let short = shortage(
                status: status, reserved: spec.storageReserved, scheduled: scheduled, volume: volume)
            {
                failure.add(.insufficientStorage, "\(label) \(short)")
                continue
            }
            disks.append(
                DiskCandidate(
                    node: nodeName, zone: node.status.zone, name: name, spec: spec, status: status,
                    usable: status.storageAvailable.minus(spec.storageReserved).minus(scheduled)))
        }
        return (disks, failure)
    }

    /// Why the disk cannot take a replica of `volume`, or nil when it can (longhorn-api.md §5 3).
    func shortage(status: DiskStatus, reserved: Int64, scheduled: Int64, volume: Volume) -> String? {
        let maximum = status.storageMaximum
        let available = status.storageAvailable
        guard maximum > 0, available > 0 else { return "reports no space (maximum \(maximum), available \(available))" }
        let floor = maximum.percent(settings.minimalAvailablePercentage)
        let left = available.minus(volume.status.actualSize)
        if left <= floor {
            return
                "would keep \(left) bytes available, not more than the \(settings.minimalAvailablePercentage)% minimum (\(floor))"
        }
        let unreserved = maximum.minus(reserved)
        let limit = unreserved.percent(settings.overProvisioningPercentage)
        let size = volume.spec.size.rawValue
        if size > limit.minus(scheduled) {
            return
                "has \(scheduled) bytes scheduled of \(limit) (\(settings.overProvisioningPercentage)% of \(unreserved) unreserved): \(size) more do not fit"
        }
        return nil
    }

    // MARK: Anti-affinity

    func antiAffinityCandidates(
        _ disks: [DiskCandidate], of volume: Volume, nodes: [SchedulingNode], replicas: [Replica]
    ) -> Result<[DiskCandidate], SchedulingFailure> {
        let nodeSoft = Self.resolve(volume.spec.replicaSoftAntiAffinity, settings.replicaSoftAntiAffinity)
        let zoneSoft = Self.resolve(volume.spec.replicaZoneSoftAntiAffinity, settings.replicaZoneSoftAntiAffinity)
        let diskSoft = Self.resolve(volume.spec.replicaDiskSoftAntiAffinity, settings.replicaDiskSoftAntiAffinity)
        let used = replicas.filter { Self.countsAsUsed($0, nodes: nodes) }
        let zoneOf = Dictionary(nodes.map { ($0.node.metadata.name, $0.node.status.zone) }, uniquingKeysWith: { a, _ in a })
        let usedNodes = Set(used.map(\.spec.instance.nodeID))
        // Nodes every replica of the volume leaves (all of them being evicted) are free again.
        let staying = used.filter { !$0.spec.evictionRequested }
        let stayingNodes = Set(staying.map(\.spec.instance.nodeID))
        let freedNodes = usedNodes.subtracting(stayingNodes)
        let usedZones = Set(usedNodes.compactMap { zoneOf[$0] })
        let stayingZones = Set(stayingNodes.compactMap { zoneOf[$0] })

        let fresh = disks.filter { !usedNodes.contains($0.node) && !usedZones.contains($0.zone) }
        var tier = fresh
        var why = ""
        if tier.isEmpty {
            let unusedNodes = disks.filter { !usedNodes.contains($0.node) }
            let freed = disks.filter { freedNodes.contains($0.node) }
            switch (zoneSoft, nodeSoft) {
            case (false, _):
                // Only what eviction frees: a node, in a zone no staying replica is in.
                tier = freed.filter { !stayingZones.contains($0.zone) }
                why = "zone anti-affinity is hard and every zone with a candidate disk holds a replica of the volume"
            case (true, false):
                tier = unusedNodes.isEmpty ? freed : unusedNodes
                why = "node anti-affinity is hard and every candidate node holds a replica of the volume"
            case (true, true):
                tier = unusedNodes.isEmpty ? disks : unusedNodes
            }
        }
        guard !tier.isEmpty else { return .failure(SchedulingFailure(.schedulingFailed, why)) }
        let usedDisks = Set(used.map(\.spec.diskID))
        let freshDisks = tier.filter { !usedDisks.contains($0.status.diskUUID) }
        if !freshDisks.isEmpty { return .success(freshDisks) }
        guard diskSoft else {
            return .failure(
                SchedulingFailure(
                    .schedulingFailed,
                    "disk anti-affinity is hard and every candidate disk holds a replica of the volume"))
        }
        return .success(tier)
    }

    /// A volume's override when it sets one, else the setting.
    static func resolve(_ override: VolumeSettingOverride, _ setting: Bool) -> Bool {
        switch override {
        case .ignored: setting
        case .enabled: true
        case .disabled: false
        }
    }

    /// A placed replica takes its node, zone and disk; a failed one only while its node and disk
    /// are still there to reuse it.
    static func countsAsUsed(_ replica: Replica, nodes: [SchedulingNode]) -> Bool {
        let nodeID = replica.spec.instance.nodeID
        guard !nodeID.isEmpty else { return false }
        guard !replica.spec.failedAt.isEmpty else { return true }
        guard let node = nodes.first(where: { $0.node.metadata.name == nodeID })?.node else { return false }
        return node.status.diskStatus.values.contains { $0.diskUUID == replica.spec.diskID }
    }

    // MARK: Choice

    /// The node, then the disk on it, that leaves usable space least spread out after the
    /// replica takes `size` (absolute imbalance); ties go to more usable space, then the name.
    static func leastImbalanced(_ disks: [DiskCandidate], size: Int64) -> DiskCandidate? {
        let byNode = Dictionary(grouping: disks, by: \.node)
        let nodeUsable = byNode.mapValues { $0.reduce(Int64(0)) { $0.plus($1.usable) } }
        guard let node = choose(nodeUsable, size: size) else { return nil }
        let onNode = byNode[node] ?? []
        let diskUsable = Dictionary(onNode.map { ($0.name, $0.usable) }, uniquingKeysWith: { a, _ in a })
        guard let disk = choose(diskUsable, size: size) else { return nil }
        return onNode.first { $0.name == disk }
    }

    /// The key whose usable space, less `size`, makes Σ|usable − mean| smallest.
    static func choose(_ usable: [String: Int64], size: Int64) -> String? {
        let keys = usable.keys.sorted()
        func spread(after key: String) -> Double {
            let values = keys.map { Double(usable[$0] ?? 0) - ($0 == key ? Double(size) : 0) }
            let mean = values.reduce(0, +) / Double(values.count)
            return values.reduce(0) { $0 + abs($1 - mean) }
        }
        return keys.min { a, b in
            let (sa, sb) = (spread(after: a), spread(after: b))
            if sa != sb { return sa < sb }
            let (ua, ub) = (usable[a] ?? 0, usable[b] ?? 0)
            return ua != ub ? ua > ub : a < b
        }
    }
}
