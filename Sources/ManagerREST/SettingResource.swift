// A setting as stored and as the API shows it.
//
// Stored: kind "settings", named after the setting, document `SettingDocument` (Longhorn's
// Setting: `metadata.name`, `value`, `status.applied`). A setting not stored has its default.
// In the API: `type:"setting"`, fields `name`, `value`, `applied` and `definition`, the definition
// as Longhorn returns it (`displayName`, `description`, `category`, `type`, `required`, `readOnly`,
// `default`, `options` and `range` when the setting has them, `dataEngineSpecific`).

import ManagerModel

/// The stored document of a setting, in the shape of Longhorn's Setting resource:
/// `{"metadata":{"name":…,"labels":{},"creationTimestamp":…},"value":…,"status":{"applied":…}}`.
struct SettingDocument: Codable, Sendable, Equatable {
    static let kind = ResourceKind(rawValue: "settings")

    struct Metadata: Codable, Sendable, Equatable {
        var name: String
        var labels: [String: String] = [:]
        var creationTimestamp: String

        init(name: String, creationTimestamp: String) {
            self.name = name
            self.creationTimestamp = creationTimestamp
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
            creationTimestamp = try container.decodeIfPresent(String.self, forKey: .creationTimestamp) ?? ""
        }
    }

    struct Status: Codable, Sendable, Equatable {
        /// The value is in force.
        var applied: Bool
    }

    var metadata: Metadata
    var value: String
    var status: Status

    init(name: String, value: String, applied: Bool, creationTimestamp: String) {
        metadata = Metadata(name: name, creationTimestamp: creationTimestamp)
        self.value = value
        status = Status(applied: applied)
    }
}

/// A setting's fields in its API resource.
struct SettingFields: Encodable, Sendable {
    var name: String
    var value: String
    var applied: Bool
    var definition: SettingDefinitionFields

    init(_ definition: SettingDefinition, document: SettingDocument?) {
        name = definition.name
        value = document?.value ?? definition.defaultValue
        applied = document?.status.applied ?? true
        self.definition = SettingDefinitionFields(definition)
    }

    static let schema = APISchema(
        id: "setting", pluralName: "settings", collectionMethods: ["GET"], resourceMethods: ["GET", "PUT"],
        resourceFields: [
            "name": .init("string"), "value": .init("string", update: true), "applied": .init("boolean"),
            "definition": .init("json"),
        ])
}

/// Longhorn's `definition` object.
struct SettingDefinitionFields: Encodable, Sendable {
    var displayName: String
    var description: String
    var category: String
    var type: String
    var required: Bool
    var readOnly: Bool
    var `default`: String
    var options: [String]?
    var range: SettingDefinition.IntegerRange?
    var floatRange: SettingDefinition.FloatRange?
    var dataEngineSpecific: Bool

    init(_ definition: SettingDefinition) {
        displayName = definition.displayName
        description = definition.description
        category = definition.category.rawValue
        type = definition.type.rawValue
        required = definition.required
        readOnly = definition.readOnly
        self.default = definition.defaultValue
        options = definition.options.isEmpty ? nil : definition.options
        range = definition.intRange
        floatRange = definition.floatRange
        dataEngineSpecific = definition.dataEngineSpecific
    }
}
