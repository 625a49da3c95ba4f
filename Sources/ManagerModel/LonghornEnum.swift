// Longhorn's enumerations are Go string types. Here each is a Swift enum over its exact spellings;
// decoding a spelling Longhorn does not define fails with an error naming the accepted ones, and
// the empty string (Go's zero value, what a resource holds before Longhorn's mutator fills it in)
// decodes as the type's zero value.

/// A Longhorn string enumeration: exact spellings as raw values, a zero value for `""` and
/// missing fields.
public protocol LonghornEnum: RawRepresentable<String>, CaseIterable, Codable, Sendable, Hashable, ZeroValued {}

extension LonghornEnum {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let spelling = try container.decode(String.self)
        if let value = Self(rawValue: spelling) {
            self = value
        } else if spelling.isEmpty {
            self = .zero
        } else {
            let accepted = Self.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "invalid \(Self.self) \"\(spelling)\": expected one of \(accepted)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
