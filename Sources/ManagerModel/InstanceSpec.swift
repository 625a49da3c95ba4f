// The fields every instance (engine, replica) spec shares. Longhorn inlines them into the
// resource's spec: they are decoded from and encoded into the same JSON object as the resource's
// own spec fields. `dataEngine` is written under both of its names (see DataEngine.swift).

/// What an instance should be: where it runs, from which image, and whether it should run.
public struct InstanceSpec: Codable, Sendable, Equatable {
    public var volumeName: String
    public var volumeSize: StringInt64
    /// The node the instance must run on; `""` when it is not scheduled or must stop.
    public var nodeID: String
    /// For v2, the instance manager's image.
    public var image: String
    public var desireState: InstanceState
    public var logRequested: Bool
    public var salvageRequested: Bool
    public var dataEngine: DataEngine

    public init(
        volumeName: String = "", volumeSize: StringInt64 = 0, nodeID: String = "", image: String = "",
        desireState: InstanceState = .stopped, logRequested: Bool = false, salvageRequested: Bool = false,
        dataEngine: DataEngine = .v1
    ) {
        self.volumeName = volumeName
        self.volumeSize = volumeSize
        self.nodeID = nodeID
        self.image = image
        self.desireState = desireState
        self.logRequested = logRequested
        self.salvageRequested = salvageRequested
        self.dataEngine = dataEngine
    }

    private enum CodingKeys: String, CodingKey {
        case volumeName, volumeSize, nodeID, image, desireState, logRequested, salvageRequested
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        volumeName = try c.lenient(.volumeName)
        volumeSize = try c.lenient(.volumeSize)
        nodeID = try c.lenient(.nodeID)
        image = try c.lenient(.image)
        desireState = try c.lenient(.desireState)
        logRequested = try c.lenient(.logRequested)
        salvageRequested = try c.lenient(.salvageRequested)
        dataEngine = try DataEngine.decodeCompatible(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(volumeName, forKey: .volumeName)
        try c.encode(volumeSize, forKey: .volumeSize)
        try c.encode(nodeID, forKey: .nodeID)
        try c.encode(image, forKey: .image)
        try c.encode(desireState, forKey: .desireState)
        try c.encode(logRequested, forKey: .logRequested)
        try c.encode(salvageRequested, forKey: .salvageRequested)
        try dataEngine.encodeCompatible(to: encoder)
    }
}
