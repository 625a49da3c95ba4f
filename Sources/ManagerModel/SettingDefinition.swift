// A setting's definition: what Longhorn's API returns as a setting's `definition` (display name,
// description, category, value type, default, allowed options and range), and the rules a value
// must follow.
//
// A data-engine-specific setting holds one value per data engine it applies to; its default and
// every value it stores are a JSON object keyed by engine (`{"v1":"3","v2":"3"}`).

/// One setting's definition.
public struct SettingDefinition: Sendable, Equatable {
    /// The type of a setting's value (Longhorn's `type`).
    public enum ValueType: String, Sendable, Equatable, Codable {
        case string, int, float, bool, deprecated
    }

    /// The group a setting is shown in (Longhorn's `category`, its exact strings).
    public enum Category: String, Sendable, Equatable, Codable {
        case general
        case scheduling
        case orphan
        case dangerZone = "danger Zone"
        case v2DataEngine = "v2 data engine"
    }

    /// The bounds of an `int` setting, each optional (Longhorn's `range`: `minimum`, `maximum`).
    public struct IntegerRange: Sendable, Equatable, Codable {
        public var minimum: Int64?
        public var maximum: Int64?
        public init(minimum: Int64? = nil, maximum: Int64? = nil) {
            self.minimum = minimum
            self.maximum = maximum
        }
    }

    /// The bounds of a `float` setting (Longhorn's `floatRange`).
    public struct FloatRange: Sendable, Equatable, Codable {
        public var minimum: Double?
        public var maximum: Double?
        public init(minimum: Double? = nil, maximum: Double? = nil) {
            self.minimum = minimum
            self.maximum = maximum
        }
    }

    /// What a `string` value must look like beyond being one of `options`.
    public enum StringFormat: Sendable, Equatable {
        case any
        /// An absolute path on the node (`/…`).
        case absolutePath
    }

    public var name: String
    public var displayName: String
    public var description: String
    public var category: Category
    public var type: ValueType
    /// An empty value is refused.
    public var required: Bool
    public var readOnly: Bool
    /// The default as stored: plain text, or for a data-engine-specific setting a JSON object
    /// keyed by engine.
    public var defaultValue: String
    /// The allowed values of an enumerated setting; empty: any value of the type.
    public var options: [String]
    public var intRange: IntegerRange?
    public var floatRange: FloatRange?
    public var stringFormat: StringFormat
    /// The data engines a data-engine-specific setting holds a value for, sorted; nil for a
    /// setting with one value for every engine.
    public var dataEngines: [DataEngine]?

    public var dataEngineSpecific: Bool { dataEngines != nil }

    public init(
        name: String, displayName: String, description: String, category: Category, type: ValueType,
        required: Bool = true, readOnly: Bool = false, defaultValue: String, options: [String] = [],
        intRange: IntegerRange? = nil, floatRange: FloatRange? = nil, stringFormat: StringFormat = .any,
        dataEngines: [DataEngine]? = nil
    ) {
        self.name = name
        self.displayName = displayName
        self.description = description
        self.category = category
        self.type = type
        self.required = required
        self.readOnly = readOnly
        self.defaultValue = defaultValue
        self.options = options
        self.intRange = intRange
        self.floatRange = floatRange
        self.stringFormat = stringFormat
        self.dataEngines = dataEngines?.sorted { $0.rawValue < $1.rawValue }
    }
}
