/// What the instance manager controller observes.
public struct InstanceManagerStatus: Codable, Sendable, Equatable {
    public var ownerID: String = ""
    public var currentState: InstanceManagerState = .unknown
    /// NodeReady, PodReady, SettingSynced.
    public var conditions: [Condition] = []
    /// Omitted when empty.
    public var instanceEngines: [String: InstanceProcess] = [:]
    /// Omitted when empty.
    public var instanceReplicas: [String: InstanceProcess] = [:]
    /// Every instance, engines and replicas together: the field older clients read (Longhorn
    /// releases up to v1.9). Omitted when empty.
    public var instances: [String: InstanceProcess] = [:]
    public var ip: String = ""
    public var apiMinVersion: Int = 0
    public var apiVersion: Int = 0
    public var proxyApiMinVersion: Int = 0
    public var proxyApiVersion: Int = 0
    public var dataEngineStatus: DataEngineStatus = DataEngineStatus()

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case ownerID, currentState, conditions, instanceEngines, instanceReplicas, instances, ip, apiMinVersion
        case apiVersion
        case proxyApiMinVersion, proxyApiVersion, dataEngineStatus
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ownerID = try c.lenient(.ownerID)
        currentState = try c.lenient(.currentState)
        conditions = try c.lenient(.conditions)
        instanceEngines = try c.lenient(.instanceEngines)
        instanceReplicas = try c.lenient(.instanceReplicas)
        instances = try c.lenient(.instances)
        ip = try c.lenient(.ip)
        apiMinVersion = try c.lenient(.apiMinVersion)
        apiVersion = try c.lenient(.apiVersion)
        proxyApiMinVersion = try c.lenient(.proxyApiMinVersion)
        proxyApiVersion = try c.lenient(.proxyApiVersion)
        dataEngineStatus = try c.decodeIfPresent(DataEngineStatus.self, forKey: .dataEngineStatus) ?? .init()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ownerID, forKey: .ownerID)
        try c.encode(currentState, forKey: .currentState)
        try c.encode(conditions, forKey: .conditions)
        try c.encodeUnlessZero(instanceEngines, forKey: .instanceEngines)
        try c.encodeUnlessZero(instanceReplicas, forKey: .instanceReplicas)
        try c.encodeUnlessZero(instances, forKey: .instances)
        try c.encode(ip, forKey: .ip)
        try c.encode(apiMinVersion, forKey: .apiMinVersion)
        try c.encode(apiVersion, forKey: .apiVersion)
        try c.encode(proxyApiMinVersion, forKey: .proxyApiMinVersion)
        try c.encode(proxyApiVersion, forKey: .proxyApiVersion)
        try c.encode(dataEngineStatus, forKey: .dataEngineStatus)
    }
}

/// Per-engine state of an instance manager (`dataEngineStatus.v2`).
public struct DataEngineStatus: Codable, Sendable, Equatable {
    public var v2: V2DataEngineStatus = V2DataEngineStatus()
    public init(v2: V2DataEngineStatus = V2DataEngineStatus()) { self.v2 = v2 }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        v2 = try c.decodeIfPresent(V2DataEngineStatus.self, forKey: .v2) ?? .init()
    }
}

/// The v2 engine's CPUs as the instance manager runs them.
public struct V2DataEngineStatus: Codable, Sendable, Equatable {
    public var cpuMask: String = ""
    public var cpuCoreNumber: Int64 = 0
    /// `""`, `"true"` or `"false"`.
    public var interruptModeEnabled: String = ""
    public init(cpuMask: String = "", cpuCoreNumber: Int64 = 0, interruptModeEnabled: String = "") {
        self.cpuMask = cpuMask
        self.cpuCoreNumber = cpuCoreNumber
        self.interruptModeEnabled = interruptModeEnabled
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cpuMask = try c.lenient(.cpuMask)
        cpuCoreNumber = try c.lenient(.cpuCoreNumber)
        interruptModeEnabled = try c.lenient(.interruptModeEnabled)
    }
}
