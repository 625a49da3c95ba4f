// The fields every instance (engine, replica) status shares, inlined into the resource's status
// like InstanceSpec is into its spec.

/// What an instance is: who owns it, which instance manager runs it, its state and address.
public struct InstanceStatus: Codable, Sendable, Equatable {
    /// The manager node that owns the resource.
    public var ownerID: String
    public var instanceManagerName: String
    public var currentState: InstanceState
    public var currentImage: String
    /// The instance manager's IP.
    public var ip: String
    /// The instance manager's IP on the storage network (`ip` when there is none).
    public var storageIP: String
    /// The instance's first port as its instance manager reports it.
    public var port: Int
    public var starting: Bool
    public var started: Bool
    public var logFetched: Bool
    public var salvageExecuted: Bool
    public var conditions: [Condition]
    /// Omitted when nil.
    public var ublkID: Int32?
    /// The instance's UUID as its instance manager reports it; omitted when empty.
    public var uuid: String

    public init(
        ownerID: String = "", instanceManagerName: String = "", currentState: InstanceState = .stopped,
        currentImage: String = "", ip: String = "", storageIP: String = "", port: Int = 0,
        starting: Bool = false, started: Bool = false, logFetched: Bool = false, salvageExecuted: Bool = false,
        conditions: [Condition] = [], ublkID: Int32? = nil, uuid: String = ""
    ) {
        self.ownerID = ownerID
        self.instanceManagerName = instanceManagerName
        self.currentState = currentState
        self.currentImage = currentImage
        self.ip = ip
        self.storageIP = storageIP
        self.port = port
        self.starting = starting
        self.started = started
        self.logFetched = logFetched
        self.salvageExecuted = salvageExecuted
        self.conditions = conditions
        self.ublkID = ublkID
        self.uuid = uuid
    }

    private enum CodingKeys: String, CodingKey {
        case ownerID, instanceManagerName, currentState, currentImage, ip, storageIP, port, starting, started
        case logFetched, salvageExecuted, conditions, ublkID, uuid
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ownerID = try c.lenient(.ownerID)
        instanceManagerName = try c.lenient(.instanceManagerName)
        currentState = try c.lenient(.currentState)
        currentImage = try c.lenient(.currentImage)
        ip = try c.lenient(.ip)
        storageIP = try c.lenient(.storageIP)
        port = try c.lenient(.port)
        starting = try c.lenient(.starting)
        started = try c.lenient(.started)
        logFetched = try c.lenient(.logFetched)
        salvageExecuted = try c.lenient(.salvageExecuted)
        conditions = try c.lenient(.conditions)
        ublkID = try c.lenient(.ublkID)
        uuid = try c.lenient(.uuid)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ownerID, forKey: .ownerID)
        try c.encode(instanceManagerName, forKey: .instanceManagerName)
        try c.encode(currentState, forKey: .currentState)
        try c.encode(currentImage, forKey: .currentImage)
        try c.encode(ip, forKey: .ip)
        try c.encode(storageIP, forKey: .storageIP)
        try c.encode(port, forKey: .port)
        try c.encode(starting, forKey: .starting)
        try c.encode(started, forKey: .started)
        try c.encode(logFetched, forKey: .logFetched)
        try c.encode(salvageExecuted, forKey: .salvageExecuted)
        try c.encode(conditions, forKey: .conditions)
        try c.encodeUnlessNil(ublkID, forKey: .ublkID)
        if !uuid.isEmpty { try c.encode(uuid, forKey: .uuid) }
    }
}
