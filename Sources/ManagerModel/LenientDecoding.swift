// Decoding as lenient as Longhorn's: Kubernetes decodes a resource into Go structs, where a field
// the document lacks (or holds `null`) keeps its zero value and a field the struct does not know is
// ignored. Every resource here decodes the same way: each field is read with `lenient(_:)`, which
// falls back to the type's zero value, and unknown keys are never looked at.

/// A type with a zero value: what a field holds when a document does not carry it (Go's zero
/// value, or Longhorn's default where Longhorn's mutator fills one in).
public protocol ZeroValued {
    static var zero: Self { get }
}

extension String: ZeroValued { public static var zero: String { "" } }
extension Bool: ZeroValued { public static var zero: Bool { false } }
extension Int: ZeroValued {}
extension Int32: ZeroValued {}
extension Int64: ZeroValued {}
extension Array: ZeroValued { public static var zero: Array { [] } }
extension Dictionary: ZeroValued { public static var zero: Dictionary { [:] } }
extension Optional: ZeroValued { public static var zero: Optional { nil } }

extension KeyedDecodingContainer {
    /// The value under `key`, or the type's zero value when the key is missing or `null`.
    public func lenient<Value: Decodable & ZeroValued>(_ key: Key) throws -> Value {
        try decodeIfPresent(Value.self, forKey: key) ?? .zero
    }

    /// The value under `key`, `nil` when the key is missing or `null`.
    public func lenient<Value: Decodable>(_ key: Key) throws -> Value? {
        try decodeIfPresent(Value.self, forKey: key)
    }
}

extension KeyedEncodingContainer {
    /// Writes `value` unless it is nil (Go's `omitempty` on a pointer or an optional field).
    public mutating func encodeUnlessNil<Value: Encodable>(_ value: Value?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) }
    }
}

extension KeyedEncodingContainer {
    /// Writes `value` unless it is its type's zero value (Go's `omitempty`).
    public mutating func encodeUnlessZero<Value: Encodable & Equatable & ZeroValued>(
        _ value: Value, forKey key: Key
    ) throws {
        if value != .zero { try encode(value, forKey: key) }
    }
}
