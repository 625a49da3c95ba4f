import Foundation
import ManagerModel
import Testing

@Suite struct DataEngineCompatibilityTests {
    @Test func eitherNameIsAccepted() throws {
        #expect(try decode(VolumeSpec.self, #"{"dataEngine":"v2"}"#).dataEngine == .v2)
        #expect(try decode(VolumeSpec.self, #"{"backendStoreDriver":"v2"}"#).dataEngine == .v2)
        #expect(try decode(VolumeSpec.self, #"{"dataEngine":"v2","backendStoreDriver":"v2"}"#).dataEngine == .v2)
        #expect(try decode(EngineSpec.self, #"{"backendStoreDriver":"v2"}"#).dataEngine == .v2)
        #expect(try decode(ReplicaSpec.self, #"{"dataEngine":"v2"}"#).dataEngine == .v2)
        #expect(try decode(VolumeSpec.self, "{}").dataEngine == .v1)
        #expect(try decode(VolumeSpec.self, #"{"dataEngine":""}"#).dataEngine == .v1)
    }

    @Test func differentValuesAreRejected() {
        for type in [VolumeSpec.self, EngineSpec.self, ReplicaSpec.self] as [any Decodable.Type] {
            let failure = decodingFailureOf(type, #"{"dataEngine":"v2","backendStoreDriver":"v1"}"#) ?? ""
            #expect(failure.contains("dataEngine \"v2\" and backendStoreDriver \"v1\" differ"), "\(type)")
        }
    }

    @Test func bothNamesAreWrittenWithTheSameValue() throws {
        var volume = VolumeSpec()
        volume.dataEngine = .v2
        var engine = EngineSpec()
        engine.dataEngine = .v2
        var replica = ReplicaSpec()
        replica.dataEngine = .v2
        for object in [try jsonObject(volume), try jsonObject(engine), try jsonObject(replica)] {
            #expect(object["dataEngine"] as? String == "v2")
            #expect(object["backendStoreDriver"] as? String == "v2")
        }
    }
}

private func decodingFailureOf(_ type: any Decodable.Type, _ json: String) -> String? {
    do {
        _ = try JSONDecoder().decode(type, from: Data(json.utf8))
        return nil
    } catch {
        return String(describing: error)
    }
}
