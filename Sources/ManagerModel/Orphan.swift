// A Longhorn orphan (`orphans.longhorn.io`): data or a running instance no volume owns any more,
// found on a node's disk or instance manager, kept until it is deleted (and cleaned up).

/// An orphan resource.
public struct Orphan: Codable, Sendable, Equatable {
    public var metadata: ResourceMetadata
    public var spec: OrphanSpec
    public var status: OrphanStatus

    public init(metadata: ResourceMetadata, spec: OrphanSpec, status: OrphanStatus = OrphanStatus()) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try c.decode(ResourceMetadata.self, forKey: .metadata)
        spec = try c.decodeIfPresent(OrphanSpec.self, forKey: .spec) ?? OrphanSpec()
        status = try c.decodeIfPresent(OrphanStatus.self, forKey: .status) ?? OrphanStatus()
    }
}

/// What is orphaned. Replica data is `replica` (not `replica-data`).
public enum OrphanType: String, LonghornEnum {
    case replicaData = "replica"
    case engineInstance = "engine-instance"
    case replicaInstance = "replica-instance"
    case shardInstance = "shard-instance"
    case shardGroupInstance = "shardgroup-instance"
    public static var zero: OrphanType { .replicaData }
}

/// Keys of `spec.parameters`, exact.
public enum OrphanParameter {
    public static let dataName = "DataName"
    public static let diskName = "DiskName"
    public static let diskUUID = "DiskUUID"
    public static let diskPath = "DiskPath"
    public static let diskType = "DiskType"
    public static let instanceName = "InstanceName"
    public static let instanceUUID = "InstanceUUID"
    public static let instanceManager = "InstanceManager"
}

/// Orphan condition types.
public enum OrphanConditionType {
    public static let error = "Error"
    public static let dataCleanable = "DataCleanable"
    public static let instanceExist = "InstanceExist"
}

/// Where the orphan is and what identifies it.
public struct OrphanSpec: Codable, Sendable, Equatable {
    /// The node whose controller handles the orphan.
    public var nodeID: String
    public var orphanType: OrphanType
    /// Set for instance orphans; omitted when nil.
    public var dataEngine: DataEngine?
    /// See OrphanParameter.
    public var parameters: [String: String]

    public init(
        nodeID: String = "", orphanType: OrphanType = .replicaData, dataEngine: DataEngine? = nil,
        parameters: [String: String] = [:]
    ) {
        self.nodeID = nodeID
        self.orphanType = orphanType
        self.dataEngine = dataEngine
        self.parameters = parameters
    }

    private enum CodingKeys: String, CodingKey { case nodeID, orphanType, dataEngine, parameters }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nodeID = try c.lenient(.nodeID)
        orphanType = try c.lenient(.orphanType)
        // Absent, null and "" all mean no data engine.
        let spelling: String? = try c.lenient(.dataEngine)
        dataEngine = spelling?.isEmpty == false ? try c.decode(DataEngine.self, forKey: .dataEngine) : nil
        parameters = try c.lenient(.parameters)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nodeID, forKey: .nodeID)
        try c.encode(orphanType, forKey: .orphanType)
        try c.encodeUnlessNil(dataEngine, forKey: .dataEngine)
        try c.encode(parameters, forKey: .parameters)
    }
}

/// Who owns the orphan and what is known of it.
public struct OrphanStatus: Codable, Sendable, Equatable {
    public var ownerID: String
    /// Error, DataCleanable, InstanceExist.
    public var conditions: [Condition]

    public init(ownerID: String = "", conditions: [Condition] = []) {
        self.ownerID = ownerID
        self.conditions = conditions
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ownerID = try c.lenient(.ownerID)
        conditions = try c.lenient(.conditions)
    }
}
