// A Longhorn volume (`volumes.longhorn.io`): its size, replica count, frontend and where it is
// wanted attached (spec), and its lifecycle state, robustness and conditions (status). Sizes are
// int64 as JSON strings; `dataEngine` is also written as `backendStoreDriver`.

/// A volume resource.
public struct Volume: Codable, Sendable, Equatable {
    public var metadata: ResourceMetadata
    public var spec: VolumeSpec
    public var status: VolumeStatus

    public init(metadata: ResourceMetadata, spec: VolumeSpec, status: VolumeStatus = VolumeStatus()) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try c.decode(ResourceMetadata.self, forKey: .metadata)
        spec = try c.decodeIfPresent(VolumeSpec.self, forKey: .spec) ?? VolumeSpec()
        status = try c.decodeIfPresent(VolumeStatus.self, forKey: .status) ?? VolumeStatus()
    }
}

/// Volume condition types.
public enum VolumeConditionType {
    public static let scheduled = "Scheduled"
    public static let restore = "Restore"
    public static let tooManySnapshots = "TooManySnapshots"
    public static let waitForBackingImage = "WaitForBackingImage"
    public static let backingImageIncompatible = "BackingImageIncompatible"
    public static let offlineRebuilding = "OfflineRebuilding"
}

/// A zone and region replicas must be placed in.
public struct TopologyRequirement: Codable, Sendable, Equatable {
    public var zone: String
    public var region: String
    public init(zone: String = "", region: String = "") {
        self.zone = zone
        self.region = region
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        zone = try c.lenient(.zone)
        region = try c.lenient(.region)
    }
}
