// The volume and attachment controllers over a real store, step by step: the engine and replicas
// made and scheduled, attach in Longhorn's order, a failed replica making the volume degraded
// (taken out of the engine's spec, stopped once the running engine let it go), detach in order,
// deletion, and scheduling that waits for a disk. The instance handler's part (running what is
// wanted running, stopping what is wanted stopped, removing what is being deleted, taking out of
// a running engine the replicas its spec no longer names) is played by `InstanceDriver`, which
// writes what the handler would report; the handler itself is tested against real instance
// managers elsewhere.

import Foundation
import ManagerControllers
import ManagerModel
import ManagerStore
import Synchronization
import Testing

/// Plays the instance handler: every engine and replica reaches what its spec wants.
private struct InstanceDriver {
    let store: any ResourceStore
    /// Replicas whose instances fail when started.
    var failing: Set<String> = []
    /// Replicas the engine reports ERR.
    var engineErrors: Set<String> = []
    /// Replicas the running engine does not let go yet when its spec no longer names them (the
    /// removal through the instance manager has not happened).
    var held: Set<String> = []
    /// Replicas asked to stop while the running engine still had them (a V2 replica refuses that).
    let stoppedWhileHeld = NameRecord()

    func step() async throws {
        let engines = try await store.list(Engine.self).items
        let inRunningEngines = Set(
            engines.filter { $0.value.status.instance.currentState == .running }
                .flatMap(\.value.status.currentReplicaAddressMap.keys))
        for stored in try await store.list(Replica.self).items {
            var replica = stored.value
            if replica.metadata.isBeingDeleted {
                _ = try await store.delete(Replica.self, stored.name, expectedVersion: stored.resourceVersion)
                continue
            }
            let running = replica.spec.instance.desireState == .running
            if !running && replica.status.currentState == .running && inRunningEngines.contains(stored.name) {
                stoppedWhileHeld.names.withLock { _ = $0.insert(stored.name) }
                continue
            }
            // An instance that failed or vanished stays failed until it is stopped (the handler's rule).
            let failed = failing.contains(stored.name) || stored.value.status.currentState == .error
            replica.status.currentState = running ? (failed ? .error : .running) : .stopped
            replica.status.ip = replica.status.currentState == .running ? "10.0.0.1" : ""
            replica.status.port = replica.status.currentState == .running ? 20000 + abs(stored.name.hashValue % 1000) : 0
            if replica != stored.value {
                _ = try await store.update(replica, name: stored.name, labels: stored.labels, expectedVersion: stored.resourceVersion)
            }
        }
        for stored in engines {
            var engine = stored.value
            if engine.metadata.isBeingDeleted {
                _ = try await store.delete(Engine.self, stored.name, expectedVersion: stored.resourceVersion)
                continue
            }
            if engine.spec.instance.desireState == .running, engine.status.instance.currentState == .error {
                // A dead engine: no endpoint, and it holds no replica.
                engine.status.endpoint = ""
                engine.status.replicaModeMap = [:]
                engine.status.currentReplicaAddressMap = [:]
            } else if engine.spec.instance.desireState == .running {
                if engine.status.instance.currentState != .running {
                    // Started over the spec's replicas.
                    engine.status.currentReplicaAddressMap = engine.spec.replicaAddressMap
                } else {
                    // Running: the replicas the spec no longer names are removed, unless held.
                    engine.status.currentReplicaAddressMap = engine.status.currentReplicaAddressMap.filter {
                        engine.spec.replicaAddressMap[$0.key] != nil || held.contains($0.key)
                    }
                }
                engine.status.instance.currentState = .running
                engine.status.endpoint = "nbd://10.0.0.1:21000/\(engine.spec.instance.volumeName)"
                engine.status.replicaModeMap = engine.status.currentReplicaAddressMap.mapValues { _ in .readWrite }
                for name in engineErrors where engine.status.replicaModeMap[name] != nil {
                    engine.status.replicaModeMap[name] = .error
                }
            } else {
                engine.status.instance.currentState = .stopped
                engine.status.endpoint = ""
                engine.status.replicaModeMap = [:]
                engine.status.currentReplicaAddressMap = [:]
            }
            if engine != stored.value {
                _ = try await store.update(engine, name: stored.name, labels: stored.labels, expectedVersion: stored.resourceVersion)
            }
        }
    }
}

/// Names noted while a test runs.
private final class NameRecord: Sendable {
    let names = Mutex<Set<String>>([])
}

private struct Cluster {
    let scratch: StoreScratch
    let volumes: VolumeController
    let attachments: VolumeAttachmentController
    var driver: InstanceDriver
    var store: SQLiteResourceStore { scratch.store }

    init() throws {
        try self.init(scratch: StoreScratch(), controllersOn: nil)
    }

    /// Controllers over `controllersOn` (the scratch store when nil); the driver always uses the
    /// scratch store.
    init(scratch: StoreScratch, controllersOn other: (any ResourceStore)?) throws {
        self.scratch = scratch
        let store = other ?? scratch.store
        let suffixes = Mutex(0)
        volumes = VolumeController(
            store: store,
            configuration: .init(
                nodeName: "node-1",
                suffix: { suffixes.withLock { value in value += 1; return String(format: "%08x", value + Int(UInt32.random(in: 0..<0xffff)) * 0x10000) } }))
        attachments = VolumeAttachmentController(store: store)
        driver = InstanceDriver(store: scratch.store)
    }

    /// A ready node with one disk of `type` and a running instance manager per data engine.
    func addNode(_ name: String, disk: String = "disk", type: DiskType = .filesystem, size: Int64 = 100 << 30) async throws {
        var node = Node(
            metadata: ResourceMetadata(name: name),
            spec: NodeSpec(name: name, disks: [disk: DiskSpec(diskType: type, path: "/disks/\(name)-\(disk)")]))
        node.status.conditions = [Condition(type: "Ready", status: .isTrue), Condition(type: "Schedulable", status: .isTrue)]
        node.status.diskStatus[disk] = DiskStatus(
            conditions: [Condition(type: "Ready", status: .isTrue), Condition(type: "Schedulable", status: .isTrue)],
            storageAvailable: size, storageMaximum: size, diskUUID: "uuid-\(name)-\(disk)", diskName: disk,
            diskPath: "/disks/\(name)-\(disk)", diskType: type)
        _ = try await store.create(node, name: name)
        for engine in [DataEngine.v1, .v2] {
            var manager = InstanceManager(
                metadata: ResourceMetadata(name: "im-\(name)-\(engine.rawValue)"),
                spec: InstanceManagerSpec(image: "hornbill", nodeID: name, dataEngine: engine))
            manager.status.currentState = .running
            _ = try await store.create(manager, name: manager.metadata.name)
        }
    }

    func createVolume(_ json: String) async throws -> String {
        let request = try JSONDecoder().decode(VolumeCreateRequest.self, from: Data(json.utf8))
        let volume = try VolumeCreation.volume(
            from: request, context: VolumeCreationContext(v2DataEngineEnabled: true, defaultReplicaCount: [.v1: 2, .v2: 2]))
        _ = try await store.create(volume, name: volume.metadata.name)
        _ = try await store.create(
            VolumeAttachment(metadata: ResourceMetadata(name: volume.metadata.name), spec: VolumeAttachmentSpec(volume: volume.metadata.name)),
            name: volume.metadata.name)
        return volume.metadata.name
    }

    /// Reconciles the attachment and the volume, then lets the instances follow, until nothing
    /// changes any more (at most `rounds` times); `check` looks at the volume after each of its
    /// reconciles.
    func settle(
        _ name: String, rounds: Int = 30, check: (Volume?, Engine?) -> Void = { _, _ in }
    ) async throws {
        for _ in 0..<rounds {
            let before = try await store.revision()
            try await attachments.reconcile(name)
            try await volumes.reconcile(name)
            check(try await volume(name), try await engine(name))
            try await driver.step()
            if try await store.revision() == before { return }
        }
        throw ControllerTestError("volume \(name) did not settle within \(rounds) rounds")
    }

    func volume(_ name: String) async throws -> Volume? { try await store.get(Volume.self, name)?.value }
    func replicas() async throws -> [Replica] { try await store.list(Replica.self).items.map(\.value) }
    func engine(_ name: String) async throws -> Engine? { try await store.get(Engine.self, "\(name)-e-0")?.value }

    /// What the instance handler writes when an instance manager lost the running instances
    /// (it restarted): each running replica (and the engine, unless `engine` is false) is `error`.
    func loseInstances(engine loseEngine: Bool = true, replicas only: Set<String>? = nil) async throws {
        for stored in try await store.list(Replica.self).items
        where stored.value.status.currentState == .running && only.map({ $0.contains(stored.name) }) ?? true {
            var replica = stored.value
            replica.status.currentState = .error
            replica.status.ip = ""
            replica.status.port = 0
            _ = try await store.update(replica, name: stored.name, labels: stored.labels, expectedVersion: stored.resourceVersion)
        }
        for stored in try await store.list(Engine.self).items where loseEngine && stored.value.status.instance.currentState == .running {
            var engine = stored.value
            engine.status.instance.currentState = .error
            engine.status.endpoint = ""
            engine.status.replicaModeMap = [:]
            _ = try await store.update(engine, name: stored.name, labels: stored.labels, expectedVersion: stored.resourceVersion)
        }
    }

    func setTickets(_ name: String, _ tickets: [AttachmentTicket]) async throws {
        let stored = try #require(try await store.get(VolumeAttachment.self, name))
        var attachment = stored.value
        attachment.spec.attachmentTickets = Dictionary(uniqueKeysWithValues: tickets.map { ($0.id, $0) })
        _ = try await store.update(attachment, name: name, expectedVersion: stored.resourceVersion)
    }
}

@Suite struct VolumeControllerTests {
    @Test func aVolumeGetsItsEngineAndScheduledReplicasAndIsDetached() async throws {
        let cluster = try Cluster()
        try await cluster.addNode("node-1")
        try await cluster.addNode("node-2")
        let name = try await cluster.createVolume(#"{"name":"vol","size":"10Gi","numberOfReplicas":2}"#)
        try await cluster.settle(name)
        let volume = try #require(try await cluster.volume(name))
        #expect(volume.status.state == .detached && volume.status.ownerID == "node-1")
        #expect(volume.status.conditions.isTrue(VolumeConditionType.scheduled))
        let engine = try #require(try await cluster.engine(name))
        #expect(engine.spec.active && engine.spec.instance.desireState == .stopped && engine.spec.frontend == .blockdev)
        let replicas = try await cluster.replicas()
        #expect(replicas.count == 2)
        #expect(Set(replicas.map(\.spec.instance.nodeID)) == ["node-1", "node-2"], "node anti-affinity")
        for replica in replicas {
            #expect(replica.metadata.name.hasPrefix("vol-r-") && replica.spec.dataDirectoryName.hasPrefix("vol-"))
            #expect(replica.spec.diskID == "uuid-\(replica.spec.instance.nodeID)-disk")
            #expect(replica.spec.instance.desireState == .stopped && replica.spec.engineName == "vol-e-0")
        }
        // Reconciling a settled volume again changes nothing.
        let revision = try await cluster.store.revision()
        try await cluster.volumes.reconcile(name)
        try await cluster.attachments.reconcile(name)
        #expect(try await cluster.store.revision() == revision)
    }

    @Test func attachRunsReplicasThenTheEngineAndDetachStopsThemInReverse() async throws {
        let cluster = try Cluster()
        try await cluster.addNode("node-1")
        try await cluster.addNode("node-2")
        let name = try await cluster.createVolume(#"{"name":"vol","size":"1Gi","frontend":"nbd"}"#)
        try await cluster.settle(name)

        try await cluster.setTickets(name, [AttachmentTicket(id: "t1", type: "longhorn-api", nodeID: "node-1")])
        // One step: the ticket gives the volume its node; the replicas are wanted running, the engine not yet.
        try await cluster.attachments.reconcile(name)
        try await cluster.volumes.reconcile(name)
        #expect(try await cluster.volume(name)?.status.state == .attaching)
        #expect(try await cluster.replicas().allSatisfy { $0.spec.instance.desireState == .running })
        #expect(try await cluster.engine(name)?.spec.instance.desireState == .stopped)
        try await cluster.settle(name)

        let volume = try #require(try await cluster.volume(name))
        #expect(volume.status.state == .attached && volume.status.currentNodeID == "node-1")
        #expect(volume.status.robustness == .healthy)
        let engine = try #require(try await cluster.engine(name))
        #expect(engine.spec.instance.nodeID == "node-1" && engine.spec.frontend == .nbd)
        #expect(Set(engine.spec.replicaAddressMap.keys) == Set(try await cluster.replicas().map(\.metadata.name)))
        let ticket = try #require(try await cluster.store.get(VolumeAttachment.self, name)?.value.status.attachmentTicketStatuses["t1"])
        #expect(ticket.satisfied)

        // A second ticket for another node waits (read-write-once).
        try await cluster.setTickets(
            name, [
                AttachmentTicket(id: "t1", type: "longhorn-api", nodeID: "node-1"),
                AttachmentTicket(id: "a0", type: "csi-attacher", nodeID: "node-2"),
            ])
        try await cluster.settle(name)
        #expect(try await cluster.volume(name)?.status.currentNodeID == "node-1")
        let statuses = try #require(try await cluster.store.get(VolumeAttachment.self, name)?.value.status.attachmentTicketStatuses)
        #expect(statuses["t1"]?.satisfied == true && statuses["a0"]?.satisfied == false)

        // Detach: the engine stops before any replica is asked to.
        try await cluster.setTickets(name, [])
        try await cluster.attachments.reconcile(name)
        try await cluster.volumes.reconcile(name)
        #expect(try await cluster.volume(name)?.status.state == .detaching)
        #expect(try await cluster.engine(name)?.spec.instance.desireState == .stopped)
        #expect(try await cluster.replicas().allSatisfy { $0.spec.instance.desireState == .running })
        try await cluster.settle(name)
        let detached = try #require(try await cluster.volume(name))
        #expect(detached.status.state == .detached && detached.status.currentNodeID.isEmpty)
        #expect(detached.status.robustness == .unknown)
        #expect(try await cluster.replicas().allSatisfy { $0.spec.instance.desireState == .stopped })
    }

    @Test func aReplicaTheEngineReportsFailedMakesTheVolumeDegraded() async throws {
        var cluster = try Cluster()
        try await cluster.addNode("node-1")
        try await cluster.addNode("node-2")
        let name = try await cluster.createVolume(#"{"name":"vol","size":"1Gi"}"#)
        try await cluster.settle(name)
        try await cluster.setTickets(name, [AttachmentTicket(id: "t1", type: "longhorn-api", nodeID: "node-1")])
        try await cluster.settle(name)
        let failed = try #require(try await cluster.replicas().first).metadata.name
        cluster.driver.engineErrors = [failed]
        try await cluster.settle(name)
        let volume = try #require(try await cluster.volume(name))
        #expect(volume.status.state == .attached && volume.status.robustness == .degraded)
        #expect(!volume.status.lastDegradedAt.isEmpty)
        let replica = try #require(try await cluster.replicas().first { $0.metadata.name == failed })
        #expect(!replica.spec.failedAt.isEmpty && replica.spec.instance.desireState == .stopped)
        let engine = try #require(try await cluster.engine(name))
        #expect(engine.spec.replicaAddressMap[failed] == nil && engine.status.currentReplicaAddressMap[failed] == nil)
        #expect(engine.status.replicaModeMap.count == 1 && engine.status.replicaModeMap[failed] == nil)
        #expect(cluster.driver.stoppedWhileHeld.names.withLock { $0.isEmpty })
    }

    @Test func aFailedReplicaIsStoppedOnlyOnceTheRunningEngineHasLetItGo() async throws {
        var cluster = try Cluster()
        try await cluster.addNode("node-1")
        try await cluster.addNode("node-2")
        try await cluster.addNode("node-3")
        let name = try await cluster.createVolume(#"{"name":"vol","size":"1Gi","numberOfReplicas":3}"#)
        try await cluster.settle(name)
        try await cluster.setTickets(name, [AttachmentTicket(id: "t1", type: "longhorn-api", nodeID: "node-1")])
        try await cluster.settle(name)
        // Its instance fails while attached (a V1 replica process killed); the engine keeps it
        // until the removal happens.
        let failed = try #require(try await cluster.replicas().first).metadata.name
        cluster.driver.failing = [failed]
        cluster.driver.engineErrors = [failed]
        cluster.driver.held = [failed]
        try await cluster.settle(name)
        let held = try #require(try await cluster.replicas().first { $0.metadata.name == failed })
        #expect(!held.spec.failedAt.isEmpty && held.spec.instance.desireState == .running)
        var engine = try #require(try await cluster.engine(name))
        #expect(engine.spec.replicaAddressMap[failed] == nil && engine.status.currentReplicaAddressMap[failed] != nil)
        var volume = try #require(try await cluster.volume(name))
        #expect(volume.status.state == .attached && volume.status.robustness == .degraded)

        // The engine lets go: the replica is stopped, the volume stays attached and degraded.
        cluster.driver.held = []
        try await cluster.settle(name)
        let stopped = try #require(try await cluster.replicas().first { $0.metadata.name == failed })
        #expect(stopped.spec.instance.desireState == .stopped && stopped.status.currentState == .stopped)
        engine = try #require(try await cluster.engine(name))
        #expect(engine.status.currentReplicaAddressMap.count == 2 && engine.status.replicaModeMap.count == 2)
        volume = try #require(try await cluster.volume(name))
        #expect(volume.status.state == .attached && volume.status.robustness == .degraded)
        #expect(cluster.driver.stoppedWhileHeld.names.withLock { $0.isEmpty })

        // Detached and attached again: the engine starts without the failed replica.
        try await cluster.setTickets(name, [])
        try await cluster.settle(name)
        #expect(try await cluster.volume(name)?.status.state == .detached)
        try await cluster.setTickets(name, [AttachmentTicket(id: "t2", type: "longhorn-api", nodeID: "node-1")])
        try await cluster.settle(name)
        engine = try #require(try await cluster.engine(name))
        #expect(engine.status.currentState == .running && engine.spec.replicaAddressMap[failed] == nil)
        let replica = try await cluster.replicas().first { $0.metadata.name == failed }
        #expect(replica?.spec.instance.desireState == .stopped)
        #expect(cluster.driver.stoppedWhileHeld.names.withLock { $0.isEmpty })
    }

    @Test(arguments: [true, false])
    func instancesLostWhileAttachedAreDetachedThenAttachedAgain(engineLost: Bool) async throws {
        let cluster = try Cluster()
        try await cluster.addNode("node-1")
        try await cluster.addNode("node-2")
        let name = try await cluster.createVolume(#"{"name":"vol","size":"1Gi","frontend":"nbd"}"#)
        try await cluster.settle(name)
        try await cluster.setTickets(name, [AttachmentTicket(id: "t1", type: "longhorn-api", nodeID: "node-1")])
        try await cluster.settle(name)
        #expect(try await cluster.replicas().allSatisfy { !$0.spec.healthyAt.isEmpty && $0.spec.failedAt.isEmpty })

        if engineLost {
            // One replica first: marked failed while the engine runs; then the engine and the other.
            let first = try #require(try await cluster.replicas().first).metadata.name
            try await cluster.loseInstances(engine: false, replicas: [first])
            try await cluster.volumes.reconcile(name)
            #expect(try await cluster.replicas().contains { $0.metadata.name == first && !$0.spec.failedAt.isEmpty })
        }
        try await cluster.loseInstances(engine: engineLost)
        var states: [VolumeState] = []
        try await cluster.settle(name) { volume, engine in
            guard let volume else { return }
            if states.last != volume.status.state { states.append(volume.status.state) }
            if volume.status.state == .attached {
                #expect(engine?.status.instance.currentState == .running, "attached over a dead engine")
            }
        }
        #expect(states.contains(.detached), "\(states)")
        let volume = try #require(try await cluster.volume(name))
        #expect(volume.status.state == .attached && volume.status.robustness == .healthy, "\(volume.status)")
        #expect(try await cluster.engine(name)?.status.instance.currentState == .running)
        let replicas = try await cluster.replicas()
        #expect(
            replicas.allSatisfy { $0.spec.failedAt.isEmpty && $0.status.currentState == .running },
            "\(replicas.map { ($0.spec.failedAt, $0.spec.healthyAt, $0.status.currentState) })")
        // Replicas that all failed while the engine ran were salvaged once detached; one that failed
        // just before the engine died was taken back with it.
        #expect(volume.status.lastAutoSalvagedAt.isEmpty == engineLost)
        #expect(replicas.count == 2, "no empty replica made in place of a failed one")
    }

    @Test func withoutAutoSalvageAVolumeWhoseReplicasAllFailedStaysDetachedAndFaulted() async throws {
        let cluster = try Cluster()
        try await cluster.addNode("node-1")
        try await cluster.addNode("node-2")
        _ = try await cluster.store.create(
            Setting(metadata: ResourceMetadata(name: "auto-salvage"), value: "false"), name: "auto-salvage")
        let name = try await cluster.createVolume(#"{"name":"vol","size":"1Gi","frontend":"nbd"}"#)
        try await cluster.settle(name)
        try await cluster.setTickets(name, [AttachmentTicket(id: "t1", type: "longhorn-api", nodeID: "node-1")])
        try await cluster.settle(name)
        try await cluster.loseInstances(engine: false)
        try await cluster.settle(name)
        let volume = try #require(try await cluster.volume(name))
        #expect(volume.status.state == .detached && volume.status.robustness == .faulted, "\(volume.status)")
        #expect(volume.status.currentNodeID.isEmpty && volume.status.lastAutoSalvagedAt.isEmpty)
        let engine = try #require(try await cluster.engine(name))
        #expect(engine.spec.instance.desireState == .stopped && engine.status.instance.currentState == .stopped)
        let replicas = try await cluster.replicas()
        #expect(
            replicas.allSatisfy { !$0.spec.failedAt.isEmpty && $0.status.currentState == .stopped },
            "\(replicas.map { ($0.spec.failedAt, $0.spec.instance.desireState, $0.status.currentState) })")
    }

    @Test func deletionStopsAndRemovesEngineThenReplicasThenTheVolume() async throws {
        let cluster = try Cluster()
        try await cluster.addNode("node-1", type: .block)
        try await cluster.addNode("node-2", type: .block)
        let name = try await cluster.createVolume(#"{"name":"vol","size":"1Gi","dataEngine":"v2"}"#)
        try await cluster.settle(name)
        let stored = try #require(try await cluster.store.get(Volume.self, name))
        var volume = stored.value
        volume.metadata.deletionTimestamp = "2026-12-07T00:00:00Z"
        _ = try await cluster.store.update(volume, name: name, expectedVersion: stored.resourceVersion)
        // V2: the engine first; the replicas are not touched while it remains.
        try await cluster.volumes.reconcile(name)
        #expect(try await cluster.volume(name)?.status.state == .deleting)
        #expect(try await cluster.engine(name)?.metadata.isBeingDeleted == true)
        #expect(try await cluster.replicas().allSatisfy { !$0.metadata.isBeingDeleted })
        try await cluster.settle(name)
        #expect(try await cluster.volume(name) == nil)
        #expect(try await cluster.engine(name) == nil)
        #expect(try await cluster.replicas().isEmpty)
        #expect(try await cluster.store.get(VolumeAttachment.self, name) == nil)
    }

    @Test func schedulingWaitsForADiskOfTheRightType() async throws {
        let cluster = try Cluster()
        try await cluster.addNode("node-1", type: .filesystem)
        let name = try await cluster.createVolume(#"{"name":"vol","size":"1Gi","dataEngine":"v2","numberOfReplicas":1}"#)
        try await cluster.settle(name)
        let waiting = try #require(try await cluster.volume(name))
        let scheduled = try #require(waiting.status.conditions.condition(ofType: VolumeConditionType.scheduled))
        #expect(scheduled.status == .isFalse && scheduled.reason == "ReplicaSchedulingFailure")
        #expect(scheduled.message.contains("disks are unavailable") && scheduled.message.contains("not compatible with data engine v2"))
        #expect(try await cluster.replicas().allSatisfy { $0.spec.instance.nodeID.isEmpty })
        // Unscheduled, the volume is queued by any change to a node, a setting or an instance manager.
        func affected(by kind: ResourceKind) -> [String] {
            cluster.volumes.keys(
                affectedBy: ResourceEvent(
                    change: .modified,
                    resource: StoredResource(
                        kind: kind, name: "x", resourceVersion: 1, createRevision: 1, labels: [:], document: Data())))
        }
        for kind in [ResourceKind.nodes, .settings, .instanceManagers] { #expect(affected(by: kind) == [name]) }
        #expect(affected(by: .orphans).isEmpty)

        try await cluster.addNode("node-2", type: .block)
        try await cluster.settle(name)
        #expect(try await cluster.volume(name)?.status.conditions.isTrue(VolumeConditionType.scheduled) == true)
        #expect(try await cluster.replicas().map(\.spec.instance.nodeID) == ["node-2"])
        #expect(affected(by: .nodes).isEmpty, "a scheduled volume is not queued by node changes")
    }
}

/// The real store, until `writes` writes have been made through it: every later write fails as a
/// killed process's would never happen (the store is left as the last acknowledged write left it).
private final class CrashingStore: ResourceStore, @unchecked Sendable {
    let base: any ResourceStore
    let limit: Int
    private let count = Mutex(0)

    init(_ base: any ResourceStore, writes limit: Int) {
        self.base = base
        self.limit = limit
    }

    var writes: Int { count.withLock { $0 } }

    private func write() throws(ResourceStoreError) {
        let allowed = count.withLock { value -> Bool in
            guard value < limit else { return false }
            value += 1
            return true
        }
        if !allowed { throw .unavailable("killed after \(limit) writes") }
    }

    func get(_ kind: ResourceKind, name: String) async throws(ResourceStoreError) -> StoredResource? {
        try await base.get(kind, name: name)
    }
    func list(_ kind: ResourceKind, selector: ResourceSelector) async throws(ResourceStoreError) -> ResourceList {
        try await base.list(kind, selector: selector)
    }
    func create(
        _ kind: ResourceKind, name: String, labels: [String: String], document: Data
    ) async throws(ResourceStoreError) -> StoredResource {
        try write()
        return try await base.create(kind, name: name, labels: labels, document: document)
    }
    func update(
        _ kind: ResourceKind, name: String, labels: [String: String], document: Data, expectedVersion: Int64
    ) async throws(ResourceStoreError) -> StoredResource {
        try write()
        return try await base.update(kind, name: name, labels: labels, document: document, expectedVersion: expectedVersion)
    }
    func delete(
        _ kind: ResourceKind, name: String, expectedVersion: Int64?
    ) async throws(ResourceStoreError) -> StoredResource {
        try write()
        return try await base.delete(kind, name: name, expectedVersion: expectedVersion)
    }
    func watch(
        _ kind: ResourceKind?, selector: ResourceSelector, after revision: Int64
    ) async throws(ResourceStoreError) -> AsyncThrowingStream<ResourceEvent, any Error> {
        try await base.watch(kind, selector: selector, after: revision)
    }
    func revision() async throws(ResourceStoreError) -> Int64 { try await base.revision() }
}

@Suite struct VolumeControllerKillTests {
    /// One phase of a volume's life: what the user does, and what must hold once it settled.
    private struct Phase: Sendable {
        var name: String
        var act: @Sendable (Cluster) async throws -> Void
        var holds: @Sendable (Cluster) async throws -> Bool
    }

    private static var phases: [Phase] { [
        Phase(
            name: "created", act: { _ in },
            holds: { cluster in
                let state = try await cluster.volume("vol")?.status.state
                let replicas = try await cluster.replicas()
                return state == .detached && replicas.count == 2 && replicas.allSatisfy { !$0.spec.instance.nodeID.isEmpty }
            }),
        Phase(
            name: "attached",
            act: { cluster in
                try await cluster.setTickets("vol", [AttachmentTicket(id: "t1", type: "longhorn-api", nodeID: "node-1")])
            },
            holds: { cluster in
                let volume = try await cluster.volume("vol")
                return volume?.status.state == .attached && volume?.status.robustness == .healthy
            }),
        Phase(
            name: "detached", act: { cluster in try await cluster.setTickets("vol", []) },
            holds: { cluster in
                let state = try await cluster.volume("vol")?.status.state
                let replicas = try await cluster.replicas()
                return state == .detached && replicas.allSatisfy { $0.spec.instance.desireState == .stopped }
            }),
        Phase(
            name: "deleted",
            act: { cluster in
                let stored = try #require(try await cluster.store.get(Volume.self, "vol"))
                var volume = stored.value
                guard !volume.metadata.isBeingDeleted else { return }
                volume.metadata.deletionTimestamp = "2026-12-07T00:00:00Z"
                _ = try await cluster.store.update(volume, name: "vol", expectedVersion: stored.resourceVersion)
            },
            holds: { cluster in
                let volume = try await cluster.volume("vol")
                let replicas = try await cluster.replicas()
                let attachment = try await cluster.store.get(VolumeAttachment.self, "vol")
                return volume == nil && replicas.isEmpty && attachment == nil
            }),
    ] }

    /// Runs the phases with controllers that die after `writes` writes; from the phase where they
    /// died, fresh controllers (a restarted manager) take over. Every phase must still hold.
    private func run(killedAfter writes: Int?) async throws -> Int {
        let scratch = try StoreScratch()
        let crashing = CrashingStore(scratch.store, writes: writes ?? .max)
        var cluster = try Cluster(scratch: scratch, controllersOn: crashing)
        try await cluster.addNode("node-1")
        try await cluster.addNode("node-2")
        _ = try await cluster.createVolume(#"{"name":"vol","size":"1Gi"}"#)
        for phase in Self.phases {
            try await phase.act(cluster)
            do {
                try await cluster.settle("vol")
            } catch let error as ResourceStoreError where error.description.contains("killed after") {
                cluster = try Cluster(scratch: scratch, controllersOn: nil)
                try await cluster.settle("vol")
            }
            #expect(try await phase.holds(cluster), "killed after \(writes ?? -1) writes: phase \(phase.name)")
        }
        return crashing.writes
    }

    @Test func aManagerKilledBetweenAnyTwoWritesConvergesAfterARestart() async throws {
        let total = try await run(killedAfter: nil)
        #expect(total > 10)
        for writes in 0..<total {
            _ = try await run(killedAfter: writes)
        }
    }
}
