import Foundation
import ManagerModel
import Testing

/// Every resource, with every kind of field set, survives encoding and decoding unchanged; and
/// every resource's zero value is what a document with only a name decodes as.
@Suite struct ResourceRoundTripTests {
    let time = "2026-12-07T07:17:02Z"
    let ready = Condition(
        type: "Ready", status: .isTrue, reason: "", message: "ok", lastTransitionTime: "2026-12-07T07:17:02Z")

    @Test func setting() throws {
        let setting = Setting(
            metadata: ResourceMetadata(name: "v2-data-engine", creationTimestamp: time), value: "true",
            status: SettingStatus(applied: true))
        #expect(try roundTrip(setting) == setting)
        let object = try jsonObject(setting)
        #expect(object["value"] as? String == "true")
        #expect(object["spec"] == nil)
    }

    @Test func node() throws {
        let disk = DiskSpec(
            diskType: .block, path: "/dev/nvme1n1", diskDriver: .auto, allowScheduling: false,
            evictionRequested: true, storageReserved: 1 << 30, tags: ["nvme", "fast"])
        var status = DiskStatus(
            conditions: [ready], storageAvailable: 99 << 30, storageScheduled: 1 << 30, storageMaximum: 100 << 30,
            scheduledReplica: ["vol-r-0123abcd": 1 << 30], diskUUID: "6d4b5a1e-0000-4000-8000-000000000001",
            diskName: "block-disk-1", diskPath: "/dev/nvme1n1", diskType: .block, diskDriver: .aio,
            instanceManagerName: "instance-manager-abc")
        status.scheduledBackingImage = ["image-1": 4096]
        status.filesystemType = ""
        let node = Node(
            metadata: ResourceMetadata(name: "node-1", labels: ["zone": "a"], creationTimestamp: time),
            spec: NodeSpec(
                name: "node-1", disks: ["block-disk-1": disk], allowScheduling: true, evictionRequested: false,
                tags: ["ssd"], instanceManagerCPURequest: 250),
            status: NodeStatus(
                conditions: [ready], diskStatus: ["block-disk-1": status], region: "eu", zone: "eu-1",
                snapshotCheckStatus: SnapshotCheckStatus(lastPeriodicCheckedAt: time), autoEvicting: true,
                cpuPolicy: "shared"))
        #expect(try roundTrip(node) == node)
        // Disk sizes are plain JSON integers (not strings).
        let disks = try #require((try jsonObject(node)["status"] as? [String: Any])?["diskStatus"] as? [String: Any])
        let written = try #require(disks["block-disk-1"] as? [String: Any])
        #expect(written["storageMaximum"] as? Int64 == 100 << 30)
    }

    @Test func volume() throws {
        var spec = VolumeSpec()
        spec.size = StringInt64(10 << 30)
        spec.frontend = .blockdev
        spec.ublkQueueDepth = 128
        spec.nvmeTcpNrIoQueues = 4
        spec.numberOfReplicas = 3
        spec.dataEngine = .v2
        spec.standby = true
        spec.nodeID = "node-1"
        spec.accessMode = .readWriteMany
        spec.dataLocality = .bestEffort
        spec.diskSelector = ["nvme"]
        spec.topologyRequirement = [TopologyRequirement(zone: "z1", region: "r1")]
        spec.replicaAutoBalance = .leastEffort
        spec.snapshotDataIntegrity = .fastCheck
        spec.backupCompressionMethod = .gzip
        spec.backupBlockSize = StringInt64(2 << 20)
        spec.snapshotMaxSize = StringInt64(5 << 30)
        spec.replicaRebuildingBandwidthLimit = 100
        var status = VolumeStatus()
        status.state = .attached
        status.robustness = .degraded
        status.currentNodeID = "node-1"
        status.conditions = [Condition(type: VolumeConditionType.scheduled, status: .isTrue)]
        status.kubernetesStatus.pvName = "pv-1"
        status.kubernetesStatus.workloadsStatus = [WorkloadStatus(podName: "pod-1", podStatus: "Running")]
        status.cloneStatus.attemptCount = 2
        status.actualSize = 12345
        status.lastOnDemandSnapshotHashingCompleteAt = time
        status.switchoverState = .switchingOver
        let volume = Volume(metadata: ResourceMetadata(name: "vol"), spec: spec, status: status)
        #expect(try roundTrip(volume) == volume)

        let written = try #require(try jsonObject(volume)["spec"] as? [String: Any])
        #expect(written["size"] as? String == "10737418240")
        #expect(written["Standby"] as? Bool == true)
        #expect(written["standby"] == nil)
        #expect(written["backupBlockSize"] as? String == "2097152")
        #expect(written["snapshotMaxSize"] as? String == "5368709120")
        // omitempty fields are left out when zero.
        #expect(written["ublkNumberOfQueue"] == nil)
        #expect(written["ublkQueueDepth"] as? Int == 128)
    }

    @Test func engine() throws {
        var spec = EngineSpec(
            instance: InstanceSpec(
                volumeName: "vol", volumeSize: StringInt64(10 << 30), nodeID: "node-1", image: "hornbill:1",
                desireState: .running,
                dataEngine: .v2))
        spec.frontend = .blockdev
        spec.replicaAddressMap = ["vol-r-0123abcd": "10.0.0.2:20001"]
        spec.active = true
        spec.snapshotMaxSize = StringInt64(1 << 30)
        spec.rebuildConcurrentSyncLimit = 2
        var status = EngineStatus(
            instance: InstanceStatus(
                ownerID: "node-1", instanceManagerName: "im-1", currentState: .running, ip: "10.0.0.1",
                storageIP: "10.0.0.1", port: 20000, started: true, conditions: [ready], ublkID: 3, uuid: "u-1"))
        status.currentSize = StringInt64(10 << 30)
        status.replicaModeMap = ["vol-r-0123abcd": .readWrite]
        status.endpoint = "/dev/longhorn/vol"
        var snapshot = SnapshotInfo(name: "snap-1", parent: "")
        snapshot.children = ["volume-head": true]
        snapshot.size = "4096"
        status.snapshots = ["snap-1": snapshot]
        let engine = Engine(metadata: ResourceMetadata(name: "vol-e-0"), spec: spec, status: status)
        #expect(try roundTrip(engine) == engine)

        // The instance fields are inlined, not nested.
        let object = try jsonObject(engine)
        let writtenSpec = try #require(object["spec"] as? [String: Any])
        #expect(writtenSpec["volumeSize"] as? String == "10737418240")
        #expect(writtenSpec["nodeID"] as? String == "node-1")
        #expect(writtenSpec["instance"] == nil)
        let writtenStatus = try #require(object["status"] as? [String: Any])
        #expect(writtenStatus["currentSize"] as? String == "10737418240")
        #expect(writtenStatus["port"] as? Int == 20000)
        #expect(writtenStatus["ublkID"] as? Int == 3)
        #expect(engine.spec.nodeID == "node-1")
        #expect(engine.status.currentState == .running)
    }

    @Test func replica() throws {
        var spec = ReplicaSpec(
            instance: InstanceSpec(
                volumeName: "vol", volumeSize: StringInt64(1 << 30), nodeID: "node-2", dataEngine: .v2))
        spec.engineName = "vol-e-0"
        spec.diskID = "lvs-uuid"
        spec.diskPath = "/dev/nvme1n1"
        spec.dataDirectoryName = "vol-89abcdef"
        spec.rebuildRetryCount = 1
        spec.snapshotMaxSize = 7
        spec.failedAt = time
        let replica = Replica(
            metadata: ResourceMetadata(name: "vol-r-0123abcd", labels: ["longhornvolume": "vol"]), spec: spec,
            status: InstanceStatus(currentState: .error, conditions: [ready]))
        #expect(try roundTrip(replica) == replica)
        let status = try #require(try jsonObject(replica)["status"] as? [String: Any])
        #expect(status["ublkID"] == nil)
        #expect(status["uuid"] == nil)
    }

    @Test func instanceManager() throws {
        var spec = InstanceManagerSpec(image: "hornbill:1", nodeID: "node-1", dataEngine: .v2)
        spec.dataEngineSpec.v2 = V2DataEngineSpec(cpuMask: "0x1", cpuIsolationEnabled: "false")
        var status = InstanceManagerStatus()
        status.currentState = .running
        status.ip = "10.0.0.1"
        status.apiVersion = 5
        var process = InstanceProcessStatus()
        process.state = .running
        process.type = .replica
        process.portStart = 20001
        process.portEnd = 20001
        process.conditions = ["FilesystemReadOnly": false]
        status.instanceReplicas = [
            "vol-r-0123abcd": InstanceProcess(
                spec: InstanceProcessSpec(name: "vol-r-0123abcd", dataEngine: .v2), status: process)
        ]
        status.dataEngineStatus.v2 = V2DataEngineStatus(cpuMask: "0x1", cpuCoreNumber: 1, interruptModeEnabled: "false")
        let manager = InstanceManager(
            metadata: ResourceMetadata(name: "instance-manager-0123"), spec: spec, status: status)
        #expect(try roundTrip(manager) == manager)
        let written = try #require(try jsonObject(manager)["status"] as? [String: Any])
        #expect(written["instanceEngines"] == nil)
        #expect(written["instanceReplicas"] != nil)
    }

    @Test func volumeAttachment() throws {
        let attachment = VolumeAttachment(
            metadata: ResourceMetadata(name: "vol"),
            spec: VolumeAttachmentSpec(
                volume: "vol",
                attachmentTickets: [
                    "api": AttachmentTicket(
                        id: "api", type: AttacherType.longhornAPI, nodeID: "node-1",
                        parameters: ["disableFrontend": "false"], generation: 2)
                ]),
            status: VolumeAttachmentStatus(attachmentTicketStatuses: [
                "api": AttachmentTicketStatus(id: "api", satisfied: true, conditions: [ready], generation: 2)
            ]))
        #expect(try roundTrip(attachment) == attachment)
    }

    @Test func orphan() throws {
        let orphan = Orphan(
            metadata: ResourceMetadata(name: "orphan-0123"),
            spec: OrphanSpec(
                nodeID: "node-1", orphanType: .replicaInstance, dataEngine: .v2,
                parameters: [OrphanParameter.instanceName: "vol-r-0123abcd"]),
            status: OrphanStatus(ownerID: "node-1", conditions: [ready]))
        #expect(try roundTrip(orphan) == orphan)
        let dataOrphan = Orphan(
            metadata: ResourceMetadata(name: "orphan-4567"), spec: OrphanSpec(orphanType: .replicaData))
        let spec = try #require(try jsonObject(dataOrphan)["spec"] as? [String: Any])
        #expect(spec["orphanType"] as? String == "replica")
        #expect(spec["dataEngine"] == nil)
        #expect(try roundTrip(dataOrphan) == dataOrphan)
    }

    @Test func nameOnlyDocumentsDecodeToZeroValues() throws {
        let named = #"{"metadata":{"name":"x"}}"#
        #expect(try decode(Volume.self, named) == Volume(metadata: ResourceMetadata(name: "x"), spec: VolumeSpec()))
        #expect(try decode(Engine.self, named) == Engine(metadata: ResourceMetadata(name: "x"), spec: EngineSpec()))
        #expect(try decode(Replica.self, named) == Replica(metadata: ResourceMetadata(name: "x"), spec: ReplicaSpec()))
        #expect(try decode(Setting.self, named) == Setting(metadata: ResourceMetadata(name: "x"), value: ""))
        #expect(try decode(VolumeSpec.self, "{}") == VolumeSpec())
        #expect(try decode(VolumeStatus.self, "{}") == VolumeStatus())
        #expect(try decode(EngineStatus.self, "{}") == EngineStatus())
        #expect(try decode(InstanceManagerStatus.self, "{}") == InstanceManagerStatus())
        #expect(try decode(InstanceProcessStatus.self, "{}") == InstanceProcessStatus())
        #expect(decodingFailure(Volume.self, #"{"spec":{}}"#) != nil)
    }
}
