/// The kind of an instance an instance manager runs.
public enum InstanceType: String, LonghornEnum {
    case engine, replica
    case engineFrontend = "engine-frontend"
    case shard, shardgroup
    public static var zero: InstanceType { .engine }
}

/// One instance as its instance manager reports it.
public struct InstanceProcess: Codable, Sendable, Equatable {
    public var spec: InstanceProcessSpec
    public var status: InstanceProcessStatus

    public init(spec: InstanceProcessSpec, status: InstanceProcessStatus = InstanceProcessStatus()) {
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        spec = try c.decodeIfPresent(InstanceProcessSpec.self, forKey: .spec) ?? InstanceProcessSpec()
        status = try c.decodeIfPresent(InstanceProcessStatus.self, forKey: .status) ?? InstanceProcessStatus()
    }
}

/// An instance's name and data engine.
public struct InstanceProcessSpec: Codable, Sendable, Equatable {
    public var name: String
    public var dataEngine: DataEngine

    public init(name: String = "", dataEngine: DataEngine = .v1) {
        self.name = name
        self.dataEngine = dataEngine
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.lenient(.name)
        dataEngine = try c.lenient(.dataEngine)
    }
}

/// An instance's state, ports and frontend as its instance manager reports them.
public struct InstanceProcessStatus: Codable, Sendable, Equatable {
    public var endpoint: String = ""
    public var frontend: String = ""
    public var activePath: String = ""
    public var preferredPath: String = ""
    public var errorMsg: String = ""
    public var conditions: [String: Bool] = [:]
    public var listen: String = ""
    public var portEnd: Int32 = 0
    public var portStart: Int32 = 0
    public var targetPortEnd: Int32 = 0
    public var targetPortStart: Int32 = 0
    public var state: InstanceState = .stopped
    public var type: InstanceType = .engine
    public var resourceVersion: Int64 = 0
    public var ublkID: Int32 = 0
    public var uuid: String = ""

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        endpoint = try c.lenient(.endpoint)
        frontend = try c.lenient(.frontend)
        activePath = try c.lenient(.activePath)
        preferredPath = try c.lenient(.preferredPath)
        errorMsg = try c.lenient(.errorMsg)
        conditions = try c.lenient(.conditions)
        listen = try c.lenient(.listen)
        portEnd = try c.lenient(.portEnd)
        portStart = try c.lenient(.portStart)
        targetPortEnd = try c.lenient(.targetPortEnd)
        targetPortStart = try c.lenient(.targetPortStart)
        state = try c.lenient(.state)
        type = try c.lenient(.type)
        resourceVersion = try c.lenient(.resourceVersion)
        ublkID = try c.lenient(.ublkID)
        uuid = try c.lenient(.uuid)
    }
}
