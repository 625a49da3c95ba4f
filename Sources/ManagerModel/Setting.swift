// A Longhorn setting (`settings.longhorn.io`): a name and a string value at the top level of the
// document (no spec), and whether the value has been applied. A data-engine-specific setting's
// value is either a plain value or a JSON object keyed by engine (`{"v1":"3","v2":"3"}`).

/// A setting resource.
public struct Setting: Codable, Sendable, Equatable {
    public var metadata: ResourceMetadata
    public var value: String
    public var status: SettingStatus

    public init(metadata: ResourceMetadata, value: String, status: SettingStatus = SettingStatus()) {
        self.metadata = metadata
        self.value = value
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try c.decode(ResourceMetadata.self, forKey: .metadata)
        value = try c.lenient(.value)
        status = try c.decodeIfPresent(SettingStatus.self, forKey: .status) ?? SettingStatus()
    }
}

/// Whether the setting's value is in effect.
public struct SettingStatus: Codable, Sendable, Equatable {
    public var applied: Bool
    public init(applied: Bool = false) { self.applied = applied }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        applied = try c.lenient(.applied)
    }
}
