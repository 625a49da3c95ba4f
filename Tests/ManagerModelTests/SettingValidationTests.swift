import ManagerModel
import Testing

@Suite struct SettingValidationTests {
    private func reason(_ name: String, _ value: String) -> String? {
        do {
            _ = try SettingDefinition.validate(name: name, value: value)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func valuesAreTrimmedAndNormalized() throws {
        #expect(try SettingDefinition.validate(name: "v2-data-engine", value: "  true \n") == "true")
        #expect(try SettingDefinition.validate(name: "v2-data-engine", value: "False") == "false")
        #expect(try SettingDefinition.validate(name: "v2-data-engine", value: "1") == "true")
        #expect(try SettingDefinition.validate(name: "storage-over-provisioning-percentage", value: " +0200 ") == "200")
        #expect(
            try SettingDefinition.validate(name: "default-data-path", value: " /data/longhorn ") == "/data/longhorn")
    }

    @Test func aBooleanIsTrueOrFalse() {
        let message = reason("replica-soft-anti-affinity", "yes")
        #expect(message?.contains("replica-soft-anti-affinity with invalid value yes") == true)
        #expect(message?.contains("not a boolean") == true)
        #expect(reason("replica-soft-anti-affinity", "tRUE") != nil)
    }

    @Test func integersStayInTheirRange() {
        #expect(reason("storage-minimal-available-percentage", "0") == nil)
        #expect(reason("storage-minimal-available-percentage", "100") == nil)
        let above = reason("storage-minimal-available-percentage", "101")
        #expect(above?.contains("storage-minimal-available-percentage with invalid value 101") == true)
        #expect(above?.contains("less than or equal to 100") == true)
        #expect(reason("storage-minimal-available-percentage", "-1")?.contains("larger than or equal to 0") == true)
        #expect(reason("storage-over-provisioning-percentage", "12.5")?.contains("not an integer") == true)
        #expect(
            reason("storage-over-provisioning-percentage", "99999999999999999999")?.contains("not an integer") == true)
    }

    @Test func aRequiredSettingRefusesAnEmptyValue() {
        #expect(reason("default-data-path", "   ")?.contains("requires a value") == true)
        #expect(reason("default-replica-count", "")?.contains("requires a value") == true)
    }

    @Test func aPathMustBeAbsolute() {
        #expect(reason("default-data-path", "var/lib/longhorn")?.contains("not an absolute path") == true)
    }

    @Test func aPlainValueAppliesToEveryEngine() throws {
        #expect(try SettingDefinition.validate(name: "default-replica-count", value: " 2 ") == #"{"v1":"2","v2":"2"}"#)
        #expect(
            try SettingDefinition.validate(name: "engine-replica-timeout", value: "30") == #"{"v1":"30","v2":"30"}"#)
        #expect(reason("engine-replica-timeout", "7")?.contains("larger than or equal to 8") == true)
    }

    @Test func aValuePerEngineIsCheckedEngineByEngine() throws {
        #expect(
            try SettingDefinition.validate(name: "default-replica-count", value: #"{ "v2": " 1", "v1": "4" }"#)
                == #"{"v1":"4","v2":"1"}"#)
        let tooMany = reason("default-replica-count", #"{"v1":"3","v2":"21"}"#)
        #expect(tooMany?.contains("default-replica-count with invalid value ") == true)
        #expect(tooMany?.contains("data engine v2: value 21 should be less than or equal to 20") == true)
        #expect(
            reason("default-replica-count", #"{"v1":"3","v2":"3","v3":"3"}"#)?.contains(
                "data engine v3 is not supported") == true)
        #expect(reason("default-replica-count", #"{"v1":"3"}"#)?.contains("missing v2") == true)
        #expect(reason("default-replica-count", #"{"v1":3,"v2":"3"}"#)?.contains("must be a JSON string") == true)
        #expect(reason("default-replica-count", #"{"v1":"3""#)?.contains("not a JSON object") == true)
    }

    @Test func aSettingOfOneValueTakesNoObject() {
        #expect(
            reason("storage-over-provisioning-percentage", #"{"v1":"100","v2":"100"}"#)?.contains("not an integer")
                == true)
    }

    @Test func anUnknownSettingIsNotFound() {
        #expect(throws: SettingError.notFound(name: "no-such-setting")) {
            try SettingDefinition.validate(name: "no-such-setting", value: "1")
        }
        #expect(SettingError.notFound(name: "x").description.contains("not found"))
    }
}
