// A setting as stored and as the API shows it.
//
// Stored: kind "settings", named after the setting, document ManagerModel's `Setting`
// (`metadata.name`, `value`, `status.applied`). A setting not stored has its default.
// In the API: `type:"setting"`, fields `name`, `value`, `applied` and `definition`, the definition
// as Longhorn returns it (`displayName`, `description`, `category`, `type`, `required`, `readOnly`,
// `default`, `options` and `range` when the setting has them, `dataEngineSpecific`).

import ManagerModel

/// Where settings are stored.
enum SettingStorage {
    static let kind = ResourceKind.settings
}

/// A setting's fields in its API resource.
struct SettingFields: Encodable, Sendable {
    var name: String
    var value: String
    var applied: Bool
    var definition: SettingDefinitionFields

    init(_ definition: SettingDefinition, document: Setting?) {
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
