import Foundation
import ManagerModel
import Testing

private struct Sized: Codable, Equatable {
    var size: StringInt64
}

@Suite struct StringInt64Tests {
    @Test func encodesAsDecimalString() throws {
        let object = try jsonObject(Sized(size: 10_737_418_240))
        #expect(object["size"] as? String == "10737418240")
        let negative = try jsonObject(Sized(size: StringInt64(Int64.min)))
        #expect(negative["size"] as? String == "-9223372036854775808")
    }

    @Test func decodesFromStringOrInteger() throws {
        #expect(try decode(Sized.self, #"{"size":"1073741824"}"#).size == 1_073_741_824)
        #expect(try decode(Sized.self, #"{"size":1073741824}"#).size == 1_073_741_824)
        #expect(try decode(Sized.self, #"{"size":"9223372036854775807"}"#).size.rawValue == Int64.max)
        #expect(try decode(Sized.self, #"{"size":"-5"}"#).size == -5)
    }

    @Test(arguments: [
        #"{"size":"10Gi"}"#, #"{"size":"1.5"}"#, #"{"size":" 1"}"#, #"{"size":""}"#,
        #"{"size":"9223372036854775808"}"#, #"{"size":1.5}"#, #"{"size":true}"#, #"{"size":[1]}"#,
        #"{"size":1e30}"#,
    ])
    func rejectsEverythingElse(json: String) {
        let failure = decodingFailure(Sized.self, json)
        #expect(failure != nil, "\(json) decoded")
    }

    @Test func errorNamesTheValue() {
        let failure = decodingFailure(Sized.self, #"{"size":"12abc"}"#) ?? ""
        #expect(failure.contains("\"12abc\" is not a decimal int64"))
    }

    @Test func missingOrNullIsZero() throws {
        #expect(try decode(VolumeSpec.self, "{}").size == 0)
        #expect(try decode(VolumeSpec.self, #"{"size":null}"#).size == 0)
    }
}

@Suite struct LonghornEnumTests {
    @Test func exactSpellings() throws {
        #expect(try roundTrip([VolumeAccessMode.readWriteOncePod]) == [.readWriteOncePod])
        let object = try jsonObject(["mode": DataLocality.strictLocal, "other": DataLocality.bestEffort])
        #expect(object["mode"] as? String == "strict-local")
        #expect(object["other"] as? String == "best-effort")
        #expect(
            try decode([String: ConditionStatus].self, #"{"a":"True","b":"False","c":"Unknown"}"#)
                == ["a": .isTrue, "b": .isFalse, "c": .unknown])
    }

    @Test func unknownSpellingNamesTheAcceptedOnes() {
        let failure = decodingFailure([VolumeState].self, #"["attached","parked"]"#) ?? ""
        #expect(failure.contains("invalid VolumeState \"parked\""))
        #expect(
            failure.contains("\"creating\", \"attached\", \"detached\", \"attaching\", \"detaching\", \"deleting\""))
        #expect(decodingFailure([DataEngine].self, #"["V2"]"#) != nil)
    }

    @Test func emptySpellingIsTheZeroValue() throws {
        #expect(try decode([InstanceState].self, #"[""]"#) == [.stopped])
        #expect(try decode([DiskType].self, #"[""]"#) == [.filesystem])
        #expect(try decode([DiskDriver].self, #"["", "auto", "aio", "nvme"]"#) == [.unset, .auto, .aio, .nvme])
        #expect(try decode([VolumeFrontend].self, #"[""]"#) == [.unset])
    }
}
