// The data engine of a volume and of its engines and replicas. Longhorn 1.5 called the field
// `backendStoreDriver`, 1.6 carried both names, later releases only `dataEngine`. Volume, Engine
// and Replica documents here accept either name on input (both must agree when both are present)
// and always write both, with the same value.

/// `v1` (the replica processes and their engine) or `v2` (the SPDK-style target and lvols).
public enum DataEngine: String, LonghornEnum {
    case v1, v2
    /// Longhorn's mutator default.
    public static var zero: DataEngine { .v1 }
}

extension DataEngine {
    private enum CompatibleKeys: String, CodingKey { case dataEngine, backendStoreDriver }

    /// Reads the data engine of a Volume, Engine or Replica spec from either of its two names.
    /// A document that carries both with different values is rejected.
    public static func decodeCompatible(from decoder: any Decoder) throws -> DataEngine {
        let container = try decoder.container(keyedBy: CompatibleKeys.self)
        let current: DataEngine? = try container.lenient(.dataEngine)
        let legacy: DataEngine? = try container.lenient(.backendStoreDriver)
        switch (current, legacy) {
        case (let current?, let legacy?) where current != legacy:
            throw DecodingError.dataCorruptedError(
                forKey: .backendStoreDriver, in: container,
                debugDescription:
                    "dataEngine \"\(current.rawValue)\" and backendStoreDriver \"\(legacy.rawValue)\" differ; give one, or both with the same value"
            )
        case (let current?, _): return current
        case (nil, let legacy?): return legacy
        case (nil, nil): return .zero
        }
    }

    /// Writes the data engine under both of its names.
    public func encodeCompatible(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CompatibleKeys.self)
        try container.encode(self, forKey: .dataEngine)
        try container.encode(self, forKey: .backendStoreDriver)
    }
}
