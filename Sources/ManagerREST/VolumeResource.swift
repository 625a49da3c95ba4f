// A volume as the API shows it (longhorn-api.md §8): `type:"volume"`, the spec's and status's
// fields at the top level, `conditions` as a map keyed by type, `controllers` (its engines),
// `replicas` (each with its mode in the current engine), `volumeAttachment` (its tickets and
// whether each is satisfied), `ready`, and the `actions` its state allows.

import ManagerModel

/// What a volume resource is rendered from: the volume and what it owns.
struct VolumeView: Sendable {
    var volume: Volume
    var engines: [Engine]
    var replicas: [Replica]
    var attachment: VolumeAttachment?
}

/// A volume's fields in its API resource.
struct VolumeFields: Encodable, Sendable {
    var name: String
    var size: StringInt64
    var frontend: String
    var disableFrontend: Bool
    var fromBackup: String
    var dataSource: String
    var cloneMode: String
    var dataLocality: String
    var staleReplicaTimeout: Int
    var state: String
    var robustness: String
    var image: String
    var currentImage: String
    var backingImage: String
    var created: String
    var lastBackup: String
    var lastBackupAt: String
    var lastAttachedBy: String
    var standby: Bool
    var restoreRequired: Bool
    var restoreInitiated: Bool
    var revisionCounterDisabled: Bool
    var snapshotDataIntegrity: String
    var unmapMarkSnapChainRemoved: String
    var backupCompressionMethod: String
    var backupBlockSize: StringInt64
    var replicaSoftAntiAffinity: String
    var replicaZoneSoftAntiAffinity: String
    var replicaDiskSoftAntiAffinity: String
    var dataEngine: String
    var backendStoreDriver: String
    var snapshotMaxCount: Int
    var snapshotMaxSize: StringInt64
    var replicaRebuildingBandwidthLimit: Int64
    var ublkQueueDepth: Int
    var ublkNumberOfQueue: Int
    var nvmeTcpNrIoQueues: Int
    var freezeFilesystemForSnapshot: String
    var backupTargetName: String
    var diskSelector: [String]
    var nodeSelector: [String]
    var numberOfReplicas: Int
    var replicaAutoBalance: String
    var rebuildConcurrentSyncLimit: Int
    var conditions: [String: Condition]
    var ready: Bool
    var notReadyMessage: String
    var accessMode: String
    var shareEndpoint: String
    var shareState: String
    var offlineRebuilding: String
    var migratable: Bool
    var encrypted: Bool
    var currentNodeID: String
    var controllers: [ControllerFields]
    var replicas: [ReplicaFields]
    var volumeAttachment: AttachmentFields

    init(_ view: VolumeView) {
        let volume = view.volume
        let spec = volume.spec
        let status = volume.status
        name = volume.metadata.name
        size = spec.size
        frontend = spec.frontend.rawValue
        disableFrontend = spec.disableFrontend
        fromBackup = spec.fromBackup
        dataSource = spec.dataSource
        cloneMode = spec.cloneMode
        dataLocality = spec.dataLocality.rawValue
        staleReplicaTimeout = spec.staleReplicaTimeout
        state = status.state.rawValue
        robustness = status.robustness.rawValue
        image = spec.image
        currentImage = status.currentImage
        backingImage = spec.backingImage
        created = volume.metadata.creationTimestamp
        lastBackup = status.lastBackup
        lastBackupAt = status.lastBackupAt
        lastAttachedBy = spec.lastAttachedBy
        standby = spec.standby
        restoreRequired = status.restoreRequired
        restoreInitiated = status.restoreInitiated
        revisionCounterDisabled = spec.revisionCounterDisabled
        snapshotDataIntegrity = spec.snapshotDataIntegrity.rawValue
        unmapMarkSnapChainRemoved = spec.unmapMarkSnapChainRemoved.rawValue
        backupCompressionMethod = spec.backupCompressionMethod.rawValue
        backupBlockSize = spec.backupBlockSize
        replicaSoftAntiAffinity = spec.replicaSoftAntiAffinity.rawValue
        replicaZoneSoftAntiAffinity = spec.replicaZoneSoftAntiAffinity.rawValue
        replicaDiskSoftAntiAffinity = spec.replicaDiskSoftAntiAffinity.rawValue
        dataEngine = spec.dataEngine.rawValue
        backendStoreDriver = spec.dataEngine.rawValue
        snapshotMaxCount = spec.snapshotMaxCount
        snapshotMaxSize = spec.snapshotMaxSize
        replicaRebuildingBandwidthLimit = spec.replicaRebuildingBandwidthLimit
        ublkQueueDepth = spec.ublkQueueDepth
        ublkNumberOfQueue = spec.ublkNumberOfQueue
        nvmeTcpNrIoQueues = spec.nvmeTcpNrIoQueues
        freezeFilesystemForSnapshot = spec.freezeFilesystemForSnapshot.rawValue
        backupTargetName = spec.backupTargetName
        diskSelector = spec.diskSelector
        nodeSelector = spec.nodeSelector
        numberOfReplicas = spec.numberOfReplicas
        replicaAutoBalance = spec.replicaAutoBalance.rawValue
        rebuildConcurrentSyncLimit = spec.rebuildConcurrentSyncLimit
        conditions = ConditionMap.byType(status.conditions)
        accessMode = spec.accessMode.rawValue
        shareEndpoint = status.shareEndpoint
        shareState = status.shareState
        offlineRebuilding = spec.offlineRebuilding.rawValue
        migratable = spec.migratable
        encrypted = spec.encrypted
        currentNodeID = status.currentNodeID
        let modes = view.engines.first(where: \.spec.active)?.status.replicaModeMap ?? [:]
        controllers = view.engines.sorted { $0.metadata.name < $1.metadata.name }.map(ControllerFields.init)
        replicas = view.replicas.sorted { $0.metadata.name < $1.metadata.name }.map {
            ReplicaFields($0, mode: modes[$0.metadata.name])
        }
        volumeAttachment = AttachmentFields(volume: name, attachment: view.attachment)
        let notReady = Self.notReadyMessage(volume)
        ready = notReady.isEmpty
        notReadyMessage = notReady
    }

    /// Why the volume cannot be attached now, or empty (Longhorn's `ready`).
    static func notReadyMessage(_ volume: Volume) -> String {
        if volume.metadata.isBeingDeleted { return "the volume is being deleted" }
        if volume.status.state == .creating { return "the volume is being created" }
        if volume.status.robustness == .faulted { return "the volume is faulted: salvage it first" }
        if let scheduled = volume.status.conditions.condition(ofType: VolumeConditionType.scheduled),
            scheduled.status == .isFalse
        {
            return "not every replica is scheduled: \(scheduled.message)"
        }
        return ""
    }

    /// The actions a volume offers in its state (longhorn-api.md §8).
    static func actions(_ volume: Volume) -> [String] {
        if volume.metadata.isBeingDeleted { return [] }
        if volume.status.robustness == .faulted && volume.status.state == .detached {
            return ["attach", "detach", "salvage"]
        }
        switch volume.status.state {
        case .detached: return ["attach", "detach", "updateReplicaCount"]
        case .attached: return ["attach", "detach", "updateReplicaCount"]
        default: return ["attach", "detach"]
        }
    }

    static let schema = APISchema(
        id: "volume", pluralName: "volumes", collectionMethods: ["GET", "POST"], resourceMethods: ["GET", "DELETE"],
        resourceFields: [
            "name": .init("string", create: true), "size": .init("string", create: true),
            "numberOfReplicas": .init("int", create: true), "frontend": .init("enum", create: true),
            "dataEngine": .init("enum", create: true), "backendStoreDriver": .init("enum", create: true),
            "dataLocality": .init("enum", create: true), "accessMode": .init("enum", create: true),
            "staleReplicaTimeout": .init("int", create: true), "disableFrontend": .init("boolean", create: true),
            "diskSelector": .init("array[string]", create: true), "nodeSelector": .init("array[string]", create: true),
            "replicaSoftAntiAffinity": .init("enum", create: true),
            "replicaZoneSoftAntiAffinity": .init("enum", create: true),
            "replicaDiskSoftAntiAffinity": .init("enum", create: true),
            "revisionCounterDisabled": .init("boolean", create: true), "snapshotMaxCount": .init("int", create: true),
            "state": .init("enum"), "robustness": .init("enum"), "conditions": .init("map[json]"),
            "ready": .init("boolean"), "notReadyMessage": .init("string"), "currentNodeID": .init("string"),
            "controllers": .init("array[controller]"), "replicas": .init("array[replica]"),
            "volumeAttachment": .init("volumeAttachment"), "created": .init("date"),
        ],
        resourceActions: [
            "attach": .init(input: "attachInput", output: "volume"),
            "detach": .init(input: "detachInput", output: "volume"),
            "salvage": .init(input: "salvageInput", output: "volume"),
            "updateReplicaCount": .init(input: "updateReplicaCountInput", output: "volume"),
        ])

    static let inputSchemas = [
        APISchema(
            id: "attachInput", pluralName: "attachInputs", collectionMethods: [], resourceMethods: [],
            resourceFields: [
                "hostId": .init("string", create: true), "disableFrontend": .init("boolean", create: true),
                "attachedBy": .init("string", create: true), "attacherType": .init("string", create: true),
                "attachmentID": .init("string", create: true),
            ]),
        APISchema(
            id: "detachInput", pluralName: "detachInputs", collectionMethods: [], resourceMethods: [],
            resourceFields: [
                "attachmentID": .init("string", create: true), "hostId": .init("string", create: true),
                "forceDetach": .init("boolean", create: true),
            ]),
        APISchema(
            id: "salvageInput", pluralName: "salvageInputs", collectionMethods: [], resourceMethods: [],
            resourceFields: ["names": .init("array[string]", create: true)]),
        APISchema(
            id: "updateReplicaCountInput", pluralName: "updateReplicaCountInputs", collectionMethods: [],
            resourceMethods: [], resourceFields: ["replicaCount": .init("int", create: true)]),
    ]
}

/// One engine of a volume, as `controllers[]` shows it.
struct ControllerFields: Encodable, Sendable {
    var name: String
    var hostId: String
    var address: String
    var running: Bool
    var image: String
    var currentImage: String
    var instanceManagerName: String
    var size: StringInt64
    var actualSize: StringInt64
    var endpoint: String
    var isExpanding: Bool
    var lastExpansionError: String
    var lastExpansionFailedAt: String
    var unmapMarkSnapChainRemovedEnabled: Bool

    init(_ engine: Engine) {
        name = engine.metadata.name
        hostId = engine.spec.instance.nodeID
        address = engine.status.instance.ip
        running = engine.status.instance.currentState == .running
        image = engine.spec.instance.image
        currentImage = engine.status.instance.currentImage
        instanceManagerName = engine.status.instance.instanceManagerName
        size = engine.spec.instance.volumeSize
        actualSize = engine.status.currentSize
        endpoint = engine.status.endpoint
        isExpanding = engine.status.isExpanding
        lastExpansionError = engine.status.lastExpansionError
        lastExpansionFailedAt = engine.status.lastExpansionFailedAt
        unmapMarkSnapChainRemovedEnabled = engine.status.unmapMarkSnapChainRemovedEnabled
    }
}

/// One replica of a volume, as `replicas[]` shows it.
struct ReplicaFields: Encodable, Sendable {
    var name: String
    var hostId: String
    var address: String
    var running: Bool
    var image: String
    var currentImage: String
    var instanceManagerName: String
    var diskID: String
    var diskPath: String
    var dataPath: String
    var mode: String
    var failedAt: String
    var dataEngine: String

    init(_ replica: Replica, mode: ReplicaMode?) {
        name = replica.metadata.name
        hostId = replica.spec.instance.nodeID
        address = replica.status.ip
        running = replica.status.currentState == .running
        image = replica.spec.instance.image
        currentImage = replica.status.currentImage
        instanceManagerName = replica.status.instanceManagerName
        diskID = replica.spec.diskID
        diskPath = replica.spec.diskPath
        dataPath = replica.spec.diskPath.isEmpty ? "" : "\(replica.spec.diskPath)/replicas/\(replica.spec.dataDirectoryName)"
        self.mode = mode?.rawValue ?? ""
        failedAt = replica.spec.failedAt
        dataEngine = replica.spec.instance.dataEngine.rawValue
    }
}

/// A volume's attachment tickets, as `volumeAttachment` shows them.
struct AttachmentFields: Encodable, Sendable {
    var volume: String
    var attachments: [String: TicketFields]

    init(volume: String, attachment: VolumeAttachment?) {
        self.volume = volume
        var attachments: [String: TicketFields] = [:]
        for (id, ticket) in attachment?.spec.attachmentTickets ?? [:] {
            let status = attachment?.status.attachmentTicketStatuses[id]
            attachments[id] = TicketFields(
                attachmentID: id, attachmentType: ticket.type, nodeID: ticket.nodeID, parameters: ticket.parameters,
                satisfied: status?.satisfied ?? false, conditions: ConditionMap.byType(status?.conditions ?? []))
        }
        self.attachments = attachments
    }
}

struct TicketFields: Encodable, Sendable {
    var attachmentID: String
    var attachmentType: String
    var nodeID: String
    var parameters: [String: String]
    var satisfied: Bool
    var conditions: [String: Condition]
}
