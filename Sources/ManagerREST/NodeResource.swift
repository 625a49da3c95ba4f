// A node as the API shows it (longhorn-api.md §8): `type:"node"`, the spec's fields at the top
// level, `address`, `conditions` and each disk's conditions as maps keyed by type, each disk its
// spec's fields with its status's beside them. Maps and lists are never null: a node without disks
// has `"disks":{}`, a disk without replicas `"scheduledReplica":{}`.

import ManagerModel

/// A node's fields in its API resource.
struct NodeFields: Encodable, Sendable {
    var name: String
    var address: String
    var allowScheduling: Bool
    var evictionRequested: Bool
    var disks: [String: DiskFields]
    var conditions: [String: Condition]
    var tags: [String]
    var region: String
    var zone: String
    var instanceManagerCPURequest: Int
    var autoEvicting: Bool

    init(_ node: Node, address: String) {
        name = node.metadata.name
        self.address = address
        allowScheduling = node.spec.allowScheduling
        evictionRequested = node.spec.evictionRequested
        var disks: [String: DiskFields] = [:]
        for (diskName, spec) in node.spec.disks {
            disks[diskName] = DiskFields(spec: spec, status: node.status.diskStatus[diskName] ?? DiskStatus())
        }
        self.disks = disks
        conditions = ConditionMap.byType(node.status.conditions)
        tags = node.spec.tags
        region = node.status.region
        zone = node.status.zone
        instanceManagerCPURequest = node.spec.instanceManagerCPURequest
        autoEvicting = node.status.autoEvicting
    }

    static let actions = ["diskUpdate"]

    static let schema = APISchema(
        id: "node", pluralName: "nodes", collectionMethods: ["GET"], resourceMethods: ["GET", "PUT"],
        resourceFields: [
            "name": .init("string"), "address": .init("string"),
            "allowScheduling": .init("boolean", update: true), "evictionRequested": .init("boolean", update: true),
            "disks": .init("map[diskInfo]"), "conditions": .init("map[json]"),
            "tags": .init("array[string]", update: true), "region": .init("string"), "zone": .init("string"),
            "instanceManagerCPURequest": .init("int", update: true), "autoEvicting": .init("boolean"),
        ],
        resourceActions: ["diskUpdate": .init(input: "diskUpdateInput", output: "node")])

    static let diskUpdateInputSchema = APISchema(
        id: "diskUpdateInput", pluralName: "diskUpdateInputs", collectionMethods: [], resourceMethods: [],
        resourceFields: ["disks": .init("map[diskSpec]", create: true)])

    static let diskSpecSchema = APISchema(
        id: "diskSpec", pluralName: "diskSpecs", collectionMethods: [], resourceMethods: [],
        resourceFields: [
            "diskType": .init("string", create: true), "path": .init("string", create: true),
            "diskDriver": .init("string", create: true), "allowScheduling": .init("boolean", create: true),
            "evictionRequested": .init("boolean", create: true), "storageReserved": .init("int", create: true),
            "tags": .init("array[string]", create: true),
        ])

    static let diskInfoSchema = APISchema(
        id: "diskInfo", pluralName: "diskInfos", collectionMethods: [], resourceMethods: [],
        resourceFields: [
            "diskType": .init("string"), "path": .init("string"), "diskDriver": .init("string"),
            "allowScheduling": .init("boolean"), "evictionRequested": .init("boolean"),
            "storageReserved": .init("int"), "tags": .init("array[string]"), "conditions": .init("map[json]"),
            "storageAvailable": .init("int"), "storageScheduled": .init("int"), "storageMaximum": .init("int"),
            "scheduledReplica": .init("map[int]"), "scheduledBackingImage": .init("map[int]"),
            "diskUUID": .init("string"), "diskName": .init("string"), "diskPath": .init("string"),
            "filesystemType": .init("string"), "instanceManagerName": .init("string"), "healthData": .init("map[json]"),
            "healthDataLastCollectedAt": .init("string"),
        ])
}

/// One disk of a node in its API resource: the spec's fields, then the status's.
struct DiskFields: Encodable, Sendable {
    var diskType: String
    var path: String
    var diskDriver: String
    var allowScheduling: Bool
    var evictionRequested: Bool
    var storageReserved: Int64
    var tags: [String]
    var conditions: [String: Condition]
    var storageAvailable: Int64
    var storageScheduled: Int64
    var storageMaximum: Int64
    var scheduledReplica: [String: Int64]
    var scheduledBackingImage: [String: Int64]
    var diskUUID: String
    var diskName: String
    var diskPath: String
    var filesystemType: String
    var instanceManagerName: String
    var healthData: [String: String] = [:]
    var healthDataLastCollectedAt = ""

    init(spec: DiskSpec, status: DiskStatus) {
        diskType = spec.diskType.rawValue
        path = spec.path
        diskDriver = spec.diskDriver.rawValue
        allowScheduling = spec.allowScheduling
        evictionRequested = spec.evictionRequested
        storageReserved = spec.storageReserved
        tags = spec.tags
        conditions = ConditionMap.byType(status.conditions)
        storageAvailable = status.storageAvailable
        storageScheduled = status.storageScheduled
        storageMaximum = status.storageMaximum
        scheduledReplica = status.scheduledReplica
        scheduledBackingImage = status.scheduledBackingImage
        diskUUID = status.diskUUID
        diskName = status.diskName
        diskPath = status.diskPath
        filesystemType = status.filesystemType
        instanceManagerName = status.instanceManagerName
    }
}

/// Conditions as the API shows them: a map keyed by type.
enum ConditionMap {
    static func byType(_ conditions: [Condition]) -> [String: Condition] {
        Dictionary(conditions.map { ($0.type, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
