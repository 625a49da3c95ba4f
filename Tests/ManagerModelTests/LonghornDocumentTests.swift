import Foundation
import ManagerModel
import Testing

/// Documents in the shape Longhorn's manager stores them (longhorn-api.md §1), with fields this
/// model does not keep (finalizers, owner references, V1 backup status): they decode, unknown
/// fields are ignored, and sizes may be strings.
@Suite struct LonghornDocumentTests {
    @Test func v2Volume() throws {
        let json = #"""
            {"apiVersion":"longhorn.io/v1beta2","kind":"Volume",
             "metadata":{"name":"pvc-1a2b","namespace":"longhorn-system","finalizers":["longhorn.io"],
                         "labels":{"longhornvolume":"pvc-1a2b"},"creationTimestamp":"2026-12-01T10:00:00Z",
                         "resourceVersion":"4711","uid":"0f9c"},
             "spec":{"size":"10737418240","frontend":"blockdev","numberOfReplicas":2,"dataEngine":"v2",
                     "backendStoreDriver":"v2","accessMode":"rwo","dataLocality":"disabled","Standby":false,
                     "diskSelector":[],"nodeSelector":[],"nodeID":"node-1","image":"longhornio/longhorn-instance-manager:v1.6.0",
                     "staleReplicaTimeout":2880,"unmapMarkSnapChainRemoved":"disabled","replicaAutoBalance":"ignored",
                     "snapshotDataIntegrity":"ignored","backupCompressionMethod":"lz4","snapshotMaxCount":250,
                     "snapshotMaxSize":"0","replicaSoftAntiAffinity":"ignored","replicaZoneSoftAntiAffinity":"ignored",
                     "replicaDiskSoftAntiAffinity":"ignored","offlineReplicaRebuilding":"disabled"},
             "status":{"ownerID":"node-1","state":"attached","robustness":"healthy","currentNodeID":"node-1",
                       "currentImage":"longhornio/longhorn-instance-manager:v1.6.0","frontendDisabled":false,
                       "conditions":[{"type":"Scheduled","status":"True","lastProbeTime":"",
                                      "lastTransitionTime":"2026-12-01T10:00:05Z","reason":"","message":""},
                                     {"type":"TooManySnapshots","status":"False","lastProbeTime":"",
                                      "lastTransitionTime":"2026-12-01T10:00:05Z","reason":"","message":""}],
                       "kubernetesStatus":{"pvName":"","pvStatus":"","namespace":"","pvcName":"","lastPVCRefAt":"",
                                           "workloadsStatus":null,"lastPodRefAt":""},
                       "actualSize":4194304,"isStandby":false}}
            """#
        let volume = try decode(Volume.self, json)
        #expect(volume.metadata.name == "pvc-1a2b")
        #expect(volume.metadata.labels == ["longhornvolume": "pvc-1a2b"])
        #expect(volume.metadata.creationTimestamp == "2026-12-01T10:00:00Z")
        #expect(volume.spec.size == 10_737_418_240)
        #expect(volume.spec.dataEngine == .v2)
        #expect(volume.spec.numberOfReplicas == 2)
        #expect(volume.spec.unmapMarkSnapChainRemoved == .disabled)
        #expect(volume.status.state == .attached)
        #expect(volume.status.robustness == .healthy)
        #expect(volume.status.conditions.isTrue(VolumeConditionType.scheduled))
        #expect(volume.status.kubernetesStatus.workloadsStatus == [])
        #expect(try roundTrip(volume) == volume)
    }

    @Test func v2Node() throws {
        let json = #"""
            {"metadata":{"name":"node-1"},
             "spec":{"name":"node-1","allowScheduling":true,"evictionRequested":false,"tags":[],
                     "instanceManagerCPURequest":0,
                     "disks":{"block-disk-1":{"diskType":"block","path":"/dev/nvme1n1","diskDriver":"auto",
                                              "allowScheduling":true,"evictionRequested":false,"storageReserved":0,
                                              "tags":["nvme"]},
                              "default-disk-1f2e":{"path":"/var/lib/longhorn/","allowScheduling":true,
                                                   "storageReserved":32212254720,"tags":null}}},
             "status":{"region":"","zone":"",
                       "conditions":[{"type":"Ready","status":"True","reason":"","message":"Node node-1 is ready"},
                                     {"type":"Schedulable","status":"True"}],
                       "diskStatus":{"block-disk-1":{"conditions":[{"type":"Ready","status":"True"},
                                                                   {"type":"Schedulable","status":"True"}],
                                                     "storageAvailable":107374182400,"storageMaximum":107374182400,
                                                     "storageScheduled":2147483648,
                                                     "scheduledReplica":{"pvc-1a2b-r-0123abcd":2147483648},
                                                     "diskUUID":"9f0e8d7c-6b5a-4c3d-8e1f-0a1b2c3d4e5f",
                                                     "diskName":"block-disk-1","diskPath":"/dev/nvme1n1",
                                                     "diskType":"block","diskDriver":"aio","filesystemType":"",
                                                     "instanceManagerName":"instance-manager-0123",
                                                     "healthData":{},"healthDataLastCollectedAt":null}},
                       "snapshotCheckStatus":{}}}
            """#
        let node = try decode(Node.self, json)
        let blockDisk = try #require(node.spec.disks["block-disk-1"])
        #expect(blockDisk.diskType == .block)
        #expect(blockDisk.diskDriver == .auto)
        #expect(blockDisk.tags == ["nvme"])
        let fileDisk = try #require(node.spec.disks["default-disk-1f2e"])
        #expect(fileDisk.diskType == .filesystem)
        #expect(fileDisk.diskDriver == .unset)
        #expect(fileDisk.storageReserved == 32_212_254_720)
        #expect(fileDisk.tags == [])
        let status = try #require(node.status.diskStatus["block-disk-1"])
        #expect(status.storageScheduled == 2_147_483_648)
        #expect(status.scheduledReplica["pvc-1a2b-r-0123abcd"] == 2_147_483_648)
        #expect(status.diskDriver == .aio)
        #expect(status.conditions.isTrue("Schedulable"))
        #expect(node.status.conditions.condition(ofType: NodeConditionType.ready)?.message == "Node node-1 is ready")
        #expect(try roundTrip(node) == node)
    }

    @Test func legacyEngineAndReplica() throws {
        // Longhorn 1.5 wrote only `backendStoreDriver`.
        let engineJSON = #"""
            {"metadata":{"name":"pvc-1a2b-e-0","labels":{"longhornvolume":"pvc-1a2b"}},
             "spec":{"volumeName":"pvc-1a2b","volumeSize":"10737418240","nodeID":"node-1","image":"im:v1.5.1",
                     "desireState":"running","logRequested":false,"backendStoreDriver":"v2","frontend":"blockdev",
                     "replicaAddressMap":{"pvc-1a2b-r-0123abcd":"10.42.0.7:20001"},"active":true,
                     "disableFrontend":false,"upgradedReplicaAddressMap":{}},
             "status":{"ownerID":"node-1","instanceManagerName":"instance-manager-0123","currentState":"running",
                       "currentImage":"im:v1.5.1","ip":"10.42.0.6","storageIP":"10.42.0.6","port":20000,
                       "started":true,"currentSize":"10737418240","endpoint":"/dev/longhorn/pvc-1a2b",
                       "replicaModeMap":{"pvc-1a2b-r-0123abcd":"RW"},
                       "currentReplicaAddressMap":{"pvc-1a2b-r-0123abcd":"10.42.0.7:20001"},
                       "snapshots":{"volume-head":{"name":"volume-head","parent":"","children":{},"removed":false,
                                                   "usercreated":false,"created":"2026-12-01T10:00:05Z","size":"0",
                                                   "labels":null}},
                       "backupStatus":null,"restoreStatus":null,"purgeStatus":null,"rebuildStatus":null,
                       "conditions":[{"type":"InstanceCreation","status":"True"}]}}
            """#
        let engine = try decode(Engine.self, engineJSON)
        #expect(engine.spec.dataEngine == .v2)
        #expect(engine.spec.volumeSize == 10_737_418_240)
        #expect(engine.spec.desireState == .running)
        #expect(engine.spec.replicaAddressMap == ["pvc-1a2b-r-0123abcd": "10.42.0.7:20001"])
        #expect(engine.status.currentState == .running)
        #expect(engine.status.port == 20000)
        #expect(engine.status.replicaModeMap == ["pvc-1a2b-r-0123abcd": .readWrite])
        #expect(engine.status.snapshots["volume-head"]?.labels == [:])
        #expect(try roundTrip(engine) == engine)

        let replicaJSON = #"""
            {"metadata":{"name":"pvc-1a2b-r-0123abcd"},
             "spec":{"volumeName":"pvc-1a2b","volumeSize":10737418240,"nodeID":"node-2","desireState":"stopped",
                     "dataEngine":"v2","backendStoreDriver":"v2","engineName":"pvc-1a2b-e-0",
                     "diskID":"9f0e8d7c-6b5a-4c3d-8e1f-0a1b2c3d4e5f","diskPath":"/dev/nvme1n1",
                     "dataDirectoryName":"pvc-1a2b-89abcdef","active":true,"rebuildRetryCount":0},
             "status":{"currentState":"stopped","instanceManagerName":"","port":0}}
            """#
        let replica = try decode(Replica.self, replicaJSON)
        #expect(replica.spec.volumeSize == 10_737_418_240)
        #expect(replica.spec.diskID == "9f0e8d7c-6b5a-4c3d-8e1f-0a1b2c3d4e5f")
        #expect(replica.status.currentState == .stopped)
        #expect(try roundTrip(replica) == replica)
    }

    @Test func settingAttachmentOrphanInstanceManager() throws {
        let setting = try decode(
            Setting.self,
            #"{"metadata":{"name":"default-replica-count"},"value":"{\"v1\":\"3\",\"v2\":\"2\"}","status":{"applied":true}}"#
        )
        #expect(setting.value == #"{"v1":"3","v2":"2"}"#)
        #expect(setting.status.applied)

        let attachment = try decode(
            VolumeAttachment.self,
            #"""
            {"metadata":{"name":"pvc-1a2b"},
             "spec":{"volume":"pvc-1a2b","attachmentTickets":{"csi-abc":{"id":"csi-abc","type":"csi-attacher",
                     "nodeID":"node-1","parameters":{"disableFrontend":"false"},"generation":0}}},
             "status":{"attachmentTicketStatuses":{"csi-abc":{"id":"csi-abc","satisfied":true,
                       "conditions":[{"type":"Satisfied","status":"True"}],"generation":0}}}}
            """#)
        #expect(attachment.spec.attachmentTickets["csi-abc"]?.type == AttacherType.csiAttacher)
        #expect(attachment.status.attachmentTicketStatuses["csi-abc"]?.satisfied == true)

        let orphan = try decode(
            Orphan.self,
            #"""
            {"metadata":{"name":"orphan-5f3a"},
             "spec":{"nodeID":"node-1","orphanType":"replica","dataEngine":"",
                     "parameters":{"DataName":"pvc-1a2b-r-0123abcd","DiskName":"block-disk-1","DiskUUID":"9f0e",
                                   "DiskPath":"/dev/nvme1n1","DiskType":"block"}},
             "status":{"ownerID":"node-1","conditions":[{"type":"DataCleanable","status":"True"}]}}
            """#)
        #expect(orphan.spec.orphanType == .replicaData)
        #expect(orphan.spec.dataEngine == nil)
        #expect(orphan.spec.parameters[OrphanParameter.diskType] == "block")
        #expect(decodingFailure(Orphan.self, #"{"metadata":{"name":"o"},"spec":{"orphanType":"replica-data"}}"#) != nil)

        let manager = try decode(
            InstanceManager.self,
            #"""
            {"metadata":{"name":"instance-manager-0123"},
             "spec":{"image":"im:v1.6.0","nodeID":"node-1","type":"aio","dataEngine":"v2",
                     "dataEngineSpec":{"v2":{"cpuMask":"0x1"}}},
             "status":{"currentState":"running","ip":"10.42.0.6","apiMinVersion":1,"apiVersion":5,
                       "instanceEngines":{"pvc-1a2b-e-0":{"spec":{"name":"pvc-1a2b-e-0","dataEngine":"v2"},
                         "status":{"endpoint":"/dev/longhorn/pvc-1a2b","state":"running","type":"engine",
                                   "portStart":20000,"portEnd":20000,"listen":"","resourceVersion":3,
                                   "conditions":{"FilesystemReadOnly":false}}}},
                       "instances":{},"dataEngineStatus":{"v2":{"cpuMask":"0x1","cpuCoreNumber":1}}}}
            """#)
        #expect(manager.spec.dataEngine == .v2)
        #expect(manager.spec.dataEngineSpec.v2.cpuMask == "0x1")
        #expect(manager.status.currentState == .running)
        #expect(manager.status.instanceEngines["pvc-1a2b-e-0"]?.status.portStart == 20000)
        #expect(manager.status.dataEngineStatus.v2.cpuCoreNumber == 1)
        #expect(try roundTrip(manager) == manager)
    }
}
