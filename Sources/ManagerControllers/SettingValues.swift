// Settings as controllers read them: the stored value, or the setting's default when it is not
// stored (or holds something that no longer validates, which a controller must survive).

import ManagerModel
import ManagerStore

/// Reads settings from the store.
struct SettingValues: Sendable {
    let store: any ResourceStore

    /// The value of setting `name` (its default when not stored).
    func value(_ name: String) async throws -> String {
        let definition = try SettingDefinition.definition(of: name)
        guard let stored = try await store.get(Setting.self, name) else { return definition.defaultValue }
        return (try? definition.validate(stored.value.value)) ?? definition.defaultValue
    }

    func bool(_ name: String) async throws -> Bool {
        try await value(name) == "true"
    }

    /// An integer setting; its default when the stored value is not an integer.
    func integer(_ name: String) async throws -> Int64 {
        if let value = Int64(try await value(name)) { return value }
        return Int64(try SettingDefinition.definition(of: name).defaultValue) ?? 0
    }
}

/// The settings the node, instance-manager and volume controllers follow.
enum SettingName {
    static let v2DataEngine = "v2-data-engine"
    static let autoSalvage = "auto-salvage"
    static let storageMinimalAvailablePercentage = "storage-minimal-available-percentage"
    static let storageReservedPercentageForDefaultDisk = "storage-reserved-percentage-for-default-disk"
    static let storageOverProvisioningPercentage = "storage-over-provisioning-percentage"
}
