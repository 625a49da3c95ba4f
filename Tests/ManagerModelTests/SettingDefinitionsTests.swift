import ManagerModel
import Testing

@Suite struct SettingDefinitionsTests {
    @Test func theTableHasLonghornsNamesAndDefaults() throws {
        let expected: [String: String] = [
            "v2-data-engine": "false",
            "v2-data-engine-hugepage-limit": "2048",
            "orphan-auto-deletion": "false",
            "storage-over-provisioning-percentage": "100",
            "storage-minimal-available-percentage": "25",
            "storage-reserved-percentage-for-default-disk": "30",
            "default-replica-count": #"{"v1":"3","v2":"3"}"#,
            "replica-soft-anti-affinity": "false",
            "replica-zone-soft-anti-affinity": "true",
            "replica-disk-soft-anti-affinity": "true",
            "allow-empty-node-selector-volume": "true",
            "allow-empty-disk-selector-volume": "true",
            "engine-replica-timeout": #"{"v1":"8","v2":"8"}"#,
            "default-data-path": "/var/lib/longhorn",
            "create-default-disk-labeled-nodes": "false",
            "disable-scheduling-on-cordoned-node": "true",
            "auto-salvage": "true",
            "v1-data-engine": "true",
        ]
        #expect(Dictionary(uniqueKeysWithValues: SettingDefinition.all.map { ($0.name, $0.defaultValue) }) == expected)
        #expect(SettingDefinition.all.map(\.name) == expected.keys.sorted())
    }

    @Test func everyDefaultPassesItsOwnValidation() throws {
        for definition in SettingDefinition.all {
            #expect(try definition.validate(definition.defaultValue) == definition.defaultValue, "\(definition.name)")
            #expect(!definition.displayName.isEmpty && !definition.description.isEmpty, "\(definition.name)")
        }
    }

    @Test func rangesAndEnginesAreLonghorns() throws {
        let replicaCount = try #require(SettingDefinition.named("default-replica-count"))
        #expect(replicaCount.type == .int)
        #expect(replicaCount.intRange == .init(minimum: 1, maximum: 20))
        #expect(replicaCount.dataEngines == [.v1, .v2])
        let timeout = try #require(SettingDefinition.named("engine-replica-timeout"))
        #expect(timeout.intRange == .init(minimum: 8, maximum: 30))
        #expect(timeout.dataEngineSpecific)
        let minimal = try #require(SettingDefinition.named("storage-minimal-available-percentage"))
        #expect(minimal.intRange == .init(minimum: 0, maximum: 100))
        #expect(!minimal.dataEngineSpecific)
        #expect(SettingDefinition.named("v2-data-engine")?.category == .dangerZone)
        #expect(SettingDefinition.named("v2-data-engine")?.type == .bool)
        #expect(SettingDefinition.named("no-such-setting") == nil)
    }

    @Test func engineValuesReadBackAStoredValue() throws {
        let replicaCount = try #require(SettingDefinition.named("default-replica-count"))
        #expect(replicaCount.engineValues(of: #"{"v1":"2","v2":"5"}"#) == [.v1: "2", .v2: "5"])
        #expect(replicaCount.engineValues(of: "3") == nil)
        #expect(replicaCount.engineValues(of: #"{"v1":"2"}"#) == nil)
        #expect(SettingDefinition.named("v2-data-engine")?.engineValues(of: "true") == nil)
    }
}
