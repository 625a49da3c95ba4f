// Kubernetes writes some int64 fields as JSON strings (Go's `json:",string"`): sizes such as
// `volumeSize`, `size`, `currentSize`, `snapshotMaxSize`. `StringInt64` is such a field: written
// as a decimal string, read from a decimal string or from a JSON integer; anything else (a
// fraction, an exponent, spaces, a number out of range, a bool) is a decoding error naming the
// value.

/// An int64 carried in JSON as a decimal string ("1073741824").
public struct StringInt64: RawRepresentable, Codable, Sendable, Hashable, Comparable, ZeroValued,
    ExpressibleByIntegerLiteral, CustomStringConvertible
{
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public init(_ value: Int64) { self.rawValue = value }
    public init(integerLiteral value: Int64) { self.rawValue = value }
    public static var zero: StringInt64 { StringInt64(0) }
    public var description: String { String(rawValue) }
    public static func < (lhs: StringInt64, rhs: StringInt64) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Parses Go's `strconv.ParseInt(s, 10, 64)` syntax: an optional sign and decimal digits.
    public static func parse(_ text: String) -> StringInt64? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "-" || $0 == "+") }),
            let value = Int64(text)
        else { return nil }
        return StringInt64(value)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            guard let value = Self.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "\"\(text)\" is not a decimal int64")
            }
            self = value
        } else if let number = try? container.decode(Int64.self) {
            self.rawValue = number
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected an int64 as a decimal string or an integer")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(String(rawValue))
    }
}
