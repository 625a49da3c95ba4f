// The replica scheduler as a table: each case a cluster, a volume and its placed replicas, and
// where the next replica must go or which of Longhorn's reasons say why it cannot.

import ManagerModel
import ManagerScheduler
import Testing

private let gib: Int64 = 1 << 30

/// A disk of a fixture node: its spec and the status the node controller would have written.
private struct FixtureDisk {
    var name: String
    var type: DiskType = .filesystem
    var maximum: Int64 = 100 * gib
    var available: Int64 = 100 * gib
    var scheduled: Int64 = 0
    var reserved: Int64 = 0
    var tags: [String] = []
    var allowScheduling = true
    var schedulable = true
    var evicting = false
    var hasStatus = true
    var uuid: String { "uuid-\(name)" }
}

private func node(
    _ name: String, zone: String = "", ready: Bool = true, schedulable: Bool = true, allowScheduling: Bool = true,
    tags: [String] = [], labels: [String: String] = [:], disks: [FixtureDisk]
) -> Node {
    var spec = NodeSpec(name: name, allowScheduling: allowScheduling, tags: tags)
    var status = NodeStatus(zone: zone)
    status.conditions = [
        Condition(type: NodeConditionType.ready, status: ready ? .isTrue : .isFalse),
        Condition(type: NodeConditionType.schedulable, status: schedulable ? .isTrue : .isFalse),
    ]
    for disk in disks {
        spec.disks[disk.name] = DiskSpec(
            diskType: disk.type, path: "/disks/\(disk.name)", allowScheduling: disk.allowScheduling,
            evictionRequested: disk.evicting, storageReserved: disk.reserved, tags: disk.tags)
        guard disk.hasStatus else { continue }
        status.diskStatus[disk.name] = DiskStatus(
            conditions: [
                Condition(type: DiskConditionType.ready, status: .isTrue),
                Condition(type: DiskConditionType.schedulable, status: disk.schedulable ? .isTrue : .isFalse),
            ],
            storageAvailable: disk.available, storageScheduled: disk.scheduled, storageMaximum: disk.maximum,
            diskUUID: disk.uuid, diskName: disk.name, diskPath: "/disks/\(disk.name)", diskType: disk.type)
    }
    return Node(metadata: ResourceMetadata(name: name, labels: labels), spec: spec, status: status)
}

private func volume(
    size: Int64 = 10 * gib, engine: DataEngine = .v1, nodeSelector: [String] = [], diskSelector: [String] = [],
    nodeAntiAffinity: VolumeSettingOverride = .ignored, actualSize: Int64 = 0
) -> Volume {
    var spec = VolumeSpec()
    spec.size = StringInt64(size)
    spec.dataEngine = engine
    spec.nodeSelector = nodeSelector
    spec.diskSelector = diskSelector
    spec.replicaSoftAntiAffinity = nodeAntiAffinity
    var status = VolumeStatus()
    status.actualSize = actualSize
    return Volume(metadata: ResourceMetadata(name: "vol"), spec: spec, status: status)
}

/// A replica of "vol" placed on `node`/`disk` (or not placed when `node` is empty).
private func placedReplica(
    _ name: String, node: String = "", disk: String = "", size: Int64 = 10 * gib, failed: Bool = false,
    evicting: Bool = false, affinity: String = ""
) -> Replica {
    var spec = ReplicaSpec()
    spec.instance = InstanceSpec(volumeName: "vol", volumeSize: StringInt64(size), nodeID: node)
    spec.diskID = disk.isEmpty ? "" : "uuid-\(disk)"
    spec.failedAt = failed ? "2026-12-01T00:00:00Z" : ""
    spec.evictionRequested = evicting
    spec.hardNodeAffinity = affinity
    return Replica(metadata: ResourceMetadata(name: name), spec: spec)
}

/// What a case expects: a node and disk, or a failure with these reasons, its message containing `detail`.
private enum Expected {
    case placed(node: String, disk: String)
    case failed([SchedulingReason], detail: String)
}

private struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var nodes: [Node]
    var volume: Volume
    var placed: [Replica] = []
    var replica: Replica = placedReplica("vol-r-new")
    var settings = SchedulingSettings()
    var imReady: Set<String>? = nil
    var expected: Expected
    var testDescription: String { name }
}

extension Expected: Sendable {}

private let cases: [Case] = [
    Case(
        name: "a v1 replica goes to a filesystem disk", nodes: [node("a", disks: [FixtureDisk(name: "fs")])],
        volume: volume(), expected: .placed(node: "a", disk: "fs")),
    Case(
        name: "a v2 replica goes to a block disk, not a filesystem disk",
        nodes: [node("a", disks: [FixtureDisk(name: "fs"), FixtureDisk(name: "blk", type: .block)])],
        volume: volume(engine: .v2), expected: .placed(node: "a", disk: "blk")),
    Case(
        name: "a v2 replica with only filesystem disks",
        nodes: [node("a", disks: [FixtureDisk(name: "fs")])], volume: volume(engine: .v2),
        expected: .failed(
            [.disksUnavailable], detail: "disk type filesystem of a/fs is not compatible with data engine v2")),
    Case(
        name: "over-provisioning: scheduled plus size over 100% of the unreserved maximum",
        nodes: [node("a", disks: [FixtureDisk(name: "fs", scheduled: 95 * gib)])], volume: volume(),
        expected: .failed([.insufficientStorage], detail: "a/fs has 102005473280 bytes scheduled")),
    Case(
        name: "over-provisioning at 200% lets it fit",
        nodes: [node("a", disks: [FixtureDisk(name: "fs", scheduled: 95 * gib)])], volume: volume(),
        settings: SchedulingSettings(overProvisioningPercentage: 200), expected: .placed(node: "a", disk: "fs")),
    Case(
        name: "reserved storage counts against the limit",
        nodes: [node("a", disks: [FixtureDisk(name: "fs", reserved: 95 * gib)])], volume: volume(),
        expected: .failed([.insufficientStorage], detail: "a/fs has 0 bytes scheduled")),
    Case(
        name: "minimal available: available less the volume's actual size must stay above 25%",
        nodes: [node("a", disks: [FixtureDisk(name: "fs", available: 30 * gib)])],
        volume: volume(actualSize: 6 * gib),
        expected: .failed([.insufficientStorage], detail: "not more than the 25% minimum")),
    Case(
        name: "a disk reporting no space",
        nodes: [node("a", disks: [FixtureDisk(name: "fs", maximum: 0, available: 0)])], volume: volume(),
        expected: .failed([.insufficientStorage], detail: "reports no space")),
    Case(
        name: "a node that is not ready, and one that takes it",
        nodes: [node("a", ready: false, disks: [FixtureDisk(name: "fs1")]), node("b", disks: [FixtureDisk(name: "fs2")])],
        volume: volume(), expected: .placed(node: "b", disk: "fs2")),
    Case(
        name: "no node ready",
        nodes: [node("a", ready: false, disks: [FixtureDisk(name: "fs")])], volume: volume(),
        expected: .failed([.nodesUnavailable], detail: "a is not ready")),
    Case(
        name: "a node with scheduling disabled",
        nodes: [node("a", allowScheduling: false, disks: [FixtureDisk(name: "fs")])], volume: volume(),
        expected: .failed([.nodesUnavailable], detail: "a does not allow scheduling")),
    Case(
        name: "a node whose instance manager does not run",
        nodes: [node("a", disks: [FixtureDisk(name: "fs")])], volume: volume(), imReady: [],
        expected: .failed([.nodesUnavailable], detail: "a has no running v1 instance manager")),
    Case(
        name: "a node labelled to keep v2 off",
        nodes: [node("a", labels: [disableV2DataEngineLabel: "true"], disks: [FixtureDisk(name: "b", type: .block)])],
        volume: volume(engine: .v2),
        expected: .failed([.nodesUnavailable], detail: "has the label node.longhorn.io/disable-v2-data-engine=true")),
    Case(
        name: "no nodes at all", nodes: [], volume: volume(), expected: .failed([.nodesUnavailable], detail: "no nodes")
    ),
    Case(
        name: "a node selector nothing matches",
        nodes: [node("a", tags: ["hdd"], disks: [FixtureDisk(name: "fs")])], volume: volume(nodeSelector: ["ssd"]),
        expected: .failed([.tagsNotFulfilled], detail: "node a lacks the tags [\"ssd\"]")),
    Case(
        name: "a node selector the node's tags fulfil",
        nodes: [
            node("a", tags: ["hdd"], disks: [FixtureDisk(name: "fs1")]),
            node("b", tags: ["ssd", "fast"], disks: [FixtureDisk(name: "fs2")]),
        ],
        volume: volume(nodeSelector: ["ssd"]), expected: .placed(node: "b", disk: "fs2")),
    Case(
        name: "no selector and a tagged node, with allow-empty-node-selector-volume false",
        nodes: [node("a", tags: ["ssd"], disks: [FixtureDisk(name: "fs")])], volume: volume(),
        settings: SchedulingSettings(allowEmptyNodeSelectorVolume: false),
        expected: .failed([.tagsNotFulfilled], detail: "node a is tagged [\"ssd\"] and the volume selects no tags")),
    Case(
        name: "a disk selector picks the tagged disk",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1", available: 99 * gib), FixtureDisk(name: "fs2", tags: ["nvme"])])],
        volume: volume(diskSelector: ["nvme"]), expected: .placed(node: "a", disk: "fs2")),
    Case(
        name: "disks that cannot take replicas: no status, scheduling off, evicting, not schedulable",
        nodes: [
            node(
                "a",
                disks: [
                    FixtureDisk(name: "d1", hasStatus: false), FixtureDisk(name: "d2", allowScheduling: false),
                    FixtureDisk(name: "d3", evicting: true), FixtureDisk(name: "d4", schedulable: false),
                ])
        ],
        volume: volume(),
        expected: .failed([.disksUnavailable], detail: "a/d1 has no status yet; a/d2 does not allow scheduling; a/d3 is being evicted; a/d4 is not schedulable")),
    Case(
        name: "node anti-affinity: the second replica goes to the other node",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1")]), node("b", disks: [FixtureDisk(name: "fs2", available: 50 * gib)])],
        volume: volume(), placed: [placedReplica("vol-r-1", node: "a", disk: "fs1")], expected: .placed(node: "b", disk: "fs2")),
    Case(
        name: "hard node anti-affinity with one node",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1"), FixtureDisk(name: "fs2")])], volume: volume(),
        placed: [placedReplica("vol-r-1", node: "a", disk: "fs1")],
        expected: .failed([.schedulingFailed], detail: "node anti-affinity is hard")),
    Case(
        name: "soft node anti-affinity (the volume's override) with one node: the other disk",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1"), FixtureDisk(name: "fs2", available: 60 * gib)])],
        volume: volume(nodeAntiAffinity: .enabled), placed: [placedReplica("vol-r-1", node: "a", disk: "fs1")],
        expected: .placed(node: "a", disk: "fs2")),
    Case(
        name: "hard disk anti-affinity with one disk left",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1")])], volume: volume(nodeAntiAffinity: .enabled),
        placed: [placedReplica("vol-r-1", node: "a", disk: "fs1")],
        settings: SchedulingSettings(replicaDiskSoftAntiAffinity: false),
        expected: .failed([.schedulingFailed], detail: "disk anti-affinity is hard")),
    Case(
        name: "soft disk anti-affinity with one disk: the same disk",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1")])], volume: volume(nodeAntiAffinity: .enabled),
        placed: [placedReplica("vol-r-1", node: "a", disk: "fs1")], expected: .placed(node: "a", disk: "fs1")),
    Case(
        name: "zones: an unused zone first",
        nodes: [
            node("a", zone: "z1", disks: [FixtureDisk(name: "fs1")]),
            node("b", zone: "z1", disks: [FixtureDisk(name: "fs2")]),
            node("c", zone: "z2", disks: [FixtureDisk(name: "fs3", available: 40 * gib)]),
        ],
        volume: volume(), placed: [placedReplica("vol-r-1", node: "a", disk: "fs1")], expected: .placed(node: "c", disk: "fs3")),
    Case(
        name: "soft zone anti-affinity: another node of the same zone",
        nodes: [node("a", zone: "z1", disks: [FixtureDisk(name: "fs1")]), node("b", zone: "z1", disks: [FixtureDisk(name: "fs2")])],
        volume: volume(), placed: [placedReplica("vol-r-1", node: "a", disk: "fs1")], expected: .placed(node: "b", disk: "fs2")),
    Case(
        name: "hard zone anti-affinity with one zone",
        nodes: [node("a", zone: "z1", disks: [FixtureDisk(name: "fs1")]), node("b", zone: "z1", disks: [FixtureDisk(name: "fs2")])],
        volume: volume(), placed: [placedReplica("vol-r-1", node: "a", disk: "fs1")],
        settings: SchedulingSettings(replicaZoneSoftAntiAffinity: false),
        expected: .failed([.schedulingFailed], detail: "zone anti-affinity is hard")),
    Case(
        name: "a node every replica is evicted from is free again under hard anti-affinity",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1")])], volume: volume(),
        placed: [placedReplica("vol-r-1", node: "a", disk: "fs1", evicting: true)], expected: .placed(node: "a", disk: "fs1")),
    Case(
        name: "a failed replica whose disk is gone does not hold its node",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1")])], volume: volume(),
        placed: [placedReplica("vol-r-1", node: "a", disk: "gone", failed: true)], expected: .placed(node: "a", disk: "fs1")),
    Case(
        name: "a failed replica whose disk is still there holds its node",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1")])], volume: volume(),
        placed: [placedReplica("vol-r-1", node: "a", disk: "fs1", failed: true)],
        expected: .failed([.schedulingFailed], detail: "node anti-affinity is hard")),
    Case(
        name: "the node with the most usable space, then its disk with the most",
        nodes: [
            node("a", disks: [FixtureDisk(name: "fs1", available: 40 * gib)]),
            node("b", disks: [FixtureDisk(name: "fs2", available: 50 * gib), FixtureDisk(name: "fs3", available: 70 * gib)]),
            node("c", disks: [FixtureDisk(name: "fs4", available: 90 * gib)]),
        ],
        volume: volume(), expected: .placed(node: "b", disk: "fs3")),
    Case(
        name: "replicas placed since the disk's status was written count as scheduled",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1", maximum: 15 * gib, available: 15 * gib)])],
        volume: volume(nodeAntiAffinity: .enabled), placed: [placedReplica("vol-r-1", node: "a", disk: "fs1")],
        expected: .failed([.insufficientStorage], detail: "a/fs1 has 10737418240 bytes scheduled")),
    Case(
        name: "a hard node affinity to a node that is not there",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1")])], volume: volume(),
        replica: placedReplica("vol-r-new", affinity: "z"), expected: .failed([.hardAffinityNotSatisfied], detail: "node z of the replica's hard affinity is not found")),
    Case(
        name: "a hard node affinity to a node that is not ready",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1")]), node("b", ready: false, disks: [FixtureDisk(name: "fs2")])],
        volume: volume(), replica: placedReplica("vol-r-new", affinity: "b"),
        expected: .failed([.hardAffinityNotSatisfied], detail: "b is not ready")),
    Case(
        name: "sizes near Int64's limit do not overflow",
        nodes: [node("a", disks: [FixtureDisk(name: "fs1", maximum: .max, available: .max)])],
        volume: volume(size: .max), settings: SchedulingSettings(overProvisioningPercentage: 1000),
        expected: .placed(node: "a", disk: "fs1")),
]

@Suite struct ReplicaSchedulerTests {
    @Test(arguments: cases) fileprivate func placement(_ c: Case) {
        let scheduler = ReplicaScheduler(settings: c.settings)
        let nodes = c.nodes.map { node in
            SchedulingNode(node: node, instanceManagerReady: c.imReady?.contains(node.metadata.name) ?? true)
        }
        let result = scheduler.place(
            c.replica, of: c.volume, nodes: nodes, replicas: c.placed + [c.replica], directorySuffix: "0a1b2c3d")
        switch (result, c.expected) {
        case (.success(let placement), .placed(let node, let disk)):
            #expect(placement.nodeID == node && placement.diskName == disk, "\(placement)")
            #expect(placement.diskID == "uuid-\(disk)" && placement.diskPath == "/disks/\(disk)")
            #expect(placement.dataDirectoryName == "vol-0a1b2c3d")
        case (.failure(let failure), .failed(let reasons, let detail)):
            #expect(failure.reasons == reasons, "\(failure.message)")
            #expect(failure.message.contains(detail), "\(failure.message)")
            for reason in reasons { #expect(failure.message.contains(reason.rawValue)) }
        case (.success(let placement), .failed):
            Issue.record("placed on \(placement.nodeID)/\(placement.diskName), expected a failure")
        case (.failure(let failure), .placed):
            Issue.record("failed: \(failure.message)")
        }
    }

    @Test func theMessageListsEachReasonOnceInOrder() {
        var failure = SchedulingFailure(.tagsNotFulfilled, "node b lacks the tags [\"x\"]")
        failure.add(.insufficientStorage, "a/fs is full")
        failure.add(.insufficientStorage, "a/fs is full")
        #expect(
            failure.message
                == "insufficient storage (a/fs is full); tags not fulfilled (node b lacks the tags [\"x\"])")
    }
}
