// A Longhorn instance manager (`instancemanagers.longhorn.io`): the process on a node that runs
// the engines and replicas of one data engine, from one image. Its status mirrors the instances it
// reports (`InstanceService.InstanceList`).

/// An instance manager resource.
public struct InstanceManager: Codable, Sendable, Equatable {
    public var metadata: ResourceMetadata
    public var spec: InstanceManagerSpec
    public var status: InstanceManagerStatus

    public init(
        metadata: ResourceMetadata, spec: InstanceManagerSpec, status: InstanceManagerStatus = InstanceManagerStatus()
    ) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try c.decode(ResourceMetadata.self, forKey: .metadata)
        spec = try c.decodeIfPresent(InstanceManagerSpec.self, forKey: .spec) ?? InstanceManagerSpec()
        status = try c.decodeIfPresent(InstanceManagerStatus.self, forKey: .status) ?? InstanceManagerStatus()
    }
}

/// `aio` for every current instance manager; `engine` and `replica` are deprecated.
public enum InstanceManagerType: String, LonghornEnum {
    case aio, engine, replica
    public static var zero: InstanceManagerType { .aio }
}

/// The observed state of an instance manager.
public enum InstanceManagerState: String, LonghornEnum {
    case error, running, stopped, starting, unknown
    public static var zero: InstanceManagerState { .unknown }
}

/// Instance manager condition types.
public enum InstanceManagerConditionType {
    public static let nodeReady = "NodeReady"
    public static let podReady = "PodReady"
    public static let settingSynced = "SettingSynced"
}

/// Which instance manager to run.
public struct InstanceManagerSpec: Codable, Sendable, Equatable {
    public var image: String = ""
    public var nodeID: String = ""
    public var type: InstanceManagerType = .aio
    public var dataEngine: DataEngine = .v1
    public var dataEngineSpec: DataEngineSpec = DataEngineSpec()

    public init(image: String = "", nodeID: String = "", dataEngine: DataEngine = .v1) {
        self.image = image
        self.nodeID = nodeID
        self.dataEngine = dataEngine
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        image = try c.lenient(.image)
        nodeID = try c.lenient(.nodeID)
        type = try c.lenient(.type)
        dataEngine = try c.lenient(.dataEngine)
        dataEngineSpec = try c.decodeIfPresent(DataEngineSpec.self, forKey: .dataEngineSpec) ?? .init()
    }
}

/// Per-engine settings of an instance manager (`dataEngineSpec.v2`).
public struct DataEngineSpec: Codable, Sendable, Equatable {
    public var v2: V2DataEngineSpec = V2DataEngineSpec()
    public init(v2: V2DataEngineSpec = V2DataEngineSpec()) { self.v2 = v2 }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        v2 = try c.decodeIfPresent(V2DataEngineSpec.self, forKey: .v2) ?? .init()
    }
}

/// The v2 engine's CPU settings; `cpuIsolationEnabled` is `""`, `"true"` or `"false"`.
public struct V2DataEngineSpec: Codable, Sendable, Equatable {
    public var cpuMask: String = ""
    public var cpuIsolationEnabled: String = ""
    public init(cpuMask: String = "", cpuIsolationEnabled: String = "") {
        self.cpuMask = cpuMask
        self.cpuIsolationEnabled = cpuIsolationEnabled
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cpuMask = try c.lenient(.cpuMask)
        cpuIsolationEnabled = try c.lenient(.cpuIsolationEnabled)
    }
}

/// An instance manager without its instances: what is read of it where only its node, data engine
/// and state matter (the instances of a busy node cost more to decode than all the rest).
public struct InstanceManagerSummary: Decodable, Sendable, Equatable {
    public var spec: InstanceManagerSpec
    public var currentState: InstanceManagerState

    private enum CodingKeys: String, CodingKey { case spec, status }
    private struct Status: Decodable {
        var currentState: InstanceManagerState
        private enum CodingKeys: String, CodingKey { case currentState }
        init(from decoder: any Decoder) throws {
            currentState = try decoder.container(keyedBy: CodingKeys.self).lenient(.currentState)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        spec = try c.decodeIfPresent(InstanceManagerSpec.self, forKey: .spec) ?? InstanceManagerSpec()
        currentState = try c.decodeIfPresent(Status.self, forKey: .status)?.currentState ?? .unknown
    }
}
