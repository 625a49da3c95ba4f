// Volume create: Longhorn's defaults filled in, and every bad field refused with its reason.

import Foundation
import ManagerModel
import Testing

private let enabled = VolumeCreationContext(v2DataEngineEnabled: true, defaultReplicaCount: [.v1: 3, .v2: 2])
private let v2Off = VolumeCreationContext(v2DataEngineEnabled: false, defaultReplicaCount: [.v1: 3, .v2: 2])

private func request(_ json: String) throws -> VolumeCreateRequest {
    try JSONDecoder().decode(VolumeCreateRequest.self, from: Data(json.utf8))
}

@Suite struct VolumeCreationTests {
    @Test func defaults() throws {
        let volume = try VolumeCreation.volume(from: request(#"{"name":"vol1","size":"10Gi"}"#), context: enabled)
        #expect(volume.metadata.name == "vol1" && volume.spec.size.rawValue == 10 << 30)
        #expect(volume.spec.dataEngine == .v1 && volume.spec.numberOfReplicas == 3)
        #expect(volume.spec.frontend == .blockdev && volume.spec.accessMode == .readWriteOnce)
        #expect(volume.spec.staleReplicaTimeout == 2880 && volume.spec.dataLocality == .disabled)
        #expect(volume.spec.replicaSoftAntiAffinity == .ignored && volume.spec.diskSelector.isEmpty)
        #expect(volume.status.state == .creating && volume.status.robustness == .unknown)
        #expect(!volume.metadata.creationTimestamp.isEmpty)
    }

    @Test func aV2VolumeTakesItsEnginesDefaultsUnderEitherName() throws {
        for field in ["dataEngine", "backendStoreDriver"] {
            let volume = try VolumeCreation.volume(
                from: request(#"{"name":"vol2","size":"1073741824","\#(field)":"v2","frontend":"nvmf"}"#), context: enabled)
            #expect(volume.spec.dataEngine == .v2 && volume.spec.numberOfReplicas == 2 && volume.spec.frontend == .nvmf)
            #expect(volume.spec.unmapMarkSnapChainRemoved == .disabled)
        }
    }

    @Test func sizesAreQuantitiesRoundedUpTo2MiB() throws {
        let cases: [(String, Int64)] = [
            (#""1""#, 2 << 20), (#""2Mi""#, 2 << 20), (#""3Mi""#, 4 << 20), (#""1G""#, 1_000_341_504),
            ("5368709120", 5 << 30), (#""1.5Gi""#, 1536 << 20),
        ]
        for (size, bytes) in cases {
            let volume = try VolumeCreation.volume(from: request(#"{"name":"v","size":\#(size)}"#), context: enabled)
            #expect(volume.spec.size.rawValue == bytes, "size \(size)")
        }
    }

    @Test func badRequestsAreRefusedWithTheirReason() throws {
        let cases: [(String, String)] = [
            (#"{"size":"1Gi"}"#, "a volume needs a name"),
            (#"{"name":"Vol_1","size":"1Gi"}"#, "invalid volume name \"Vol_1\""),
            (#"{"name":"a-name-that-is-far-longer-than-forty-characters","size":"1Gi"}"#, "no more than 40 characters"),
            (#"{"name":"v"}"#, "a volume needs a size"),
            (#"{"name":"v","size":"0"}"#, "larger than 0 bytes"),
            (#"{"name":"v","size":"-1Gi"}"#, "is negative"),
            (#"{"name":"v","size":"ten"}"#, "is not a quantity"),
            (#"{"name":"v","size":"8Ei"}"#, "larger than"),
            (#"{"name":"v","size":"9223372036854775807"}"#, "too large"),
            (#"{"name":"v","size":"1Gi","numberOfReplicas":21}"#, "numberOfReplicas 21 is out of range"),
            (#"{"name":"v","size":"1Gi","numberOfReplicas":-1}"#, "numberOfReplicas -1 is out of range"),
            (#"{"name":"v","size":"1Gi","frontend":"iscsi"}"#, "frontend iscsi is not supported"),
            (#"{"name":"v","size":"1Gi","frontend":"ublk","dataEngine":"v2"}"#, "frontend ublk is not supported"),
            (#"{"name":"v","size":"1Gi","frontend":"nvmf"}"#, "frontend nvmf needs data engine v2"),
            (#"{"name":"v","size":"1Gi","dataEngine":"v1","backendStoreDriver":"v2"}"#, "disagree"),
            (#"{"name":"v","size":"1Gi","dataLocality":"strict-local"}"#, "strict-local needs numberOfReplicas 1"),
            (#"{"name":"v","size":"1Gi","staleReplicaTimeout":-5}"#, "staleReplicaTimeout -5 is negative"),
            (#"{"name":"v","size":"1Gi","diskSelector":["bad tag!"]}"#, "invalid diskSelector"),
            (#"{"name":"v","size":"1Gi","backingImage":"img"}"#, "backing images are not supported"),
            (#"{"name":"v","size":"1Gi","accessMode":"rwx"}"#, "accessMode rwx is not supported"),
            (#"{"name":"v","size":"1Gi","encrypted":true}"#, "encrypted volumes are not supported"),
            (#"{"name":"v","size":"1Gi","snapshotMaxCount":251}"#, "snapshotMaxCount 251 is out of range"),
            (#"{"name":"v","size":"1Gi","snapshotMaxCount":1}"#, "snapshotMaxCount 1 is out of range"),
        ]
        for (json, reason) in cases {
            let body = try request(json)
            do throws(VolumeCreationError) {
                _ = try VolumeCreation.volume(from: body, context: enabled)
                Issue.record("\(json) was accepted")
            } catch {
                #expect(error.message.contains(reason) && !error.forbidden, "\(json): \(error.message)")
            }
        }
    }

    @Test func aV2VolumeIsForbiddenWhileV2IsOff() throws {
        let body = try request(#"{"name":"v","size":"1Gi","dataEngine":"v2"}"#)
        do throws(VolumeCreationError) {
            _ = try VolumeCreation.volume(from: body, context: v2Off)
            Issue.record("a v2 volume was created while v2-data-engine is false")
        } catch {
            #expect(error.forbidden && error.message.contains("v2-data-engine data engine is not enabled"))
        }
    }

    @Test func selectorsNameTagsInUse() throws {
        let volume = try VolumeCreation.volume(
            from: request(#"{"name":"v","size":"1Gi","diskSelector":["ssd"],"nodeSelector":["fast"]}"#), context: enabled)
        try VolumeCreation.refuseUnknownTags(volume.spec, diskTags: ["ssd", "nvme"], nodeTags: ["fast"])
        let refusals: [(Set<String>, Set<String>, String)] = [
            (["nvme"], ["fast"], "specified disk tag ssd does not exist"),
            (["ssd"], [], "specified node tag fast does not exist"),
            // A node tag is not a disk tag.
            (["fast"], ["ssd"], "specified disk tag ssd does not exist"),
        ]
        for (diskTags, nodeTags, message) in refusals {
            #expect(throws: VolumeCreationError(message)) {
                try VolumeCreation.refuseUnknownTags(volume.spec, diskTags: diskTags, nodeTags: nodeTags)
            }
        }
    }

    @Test func malformedFieldsFailToDecode() {
        for json in [
            #"{"name":"v","size":true}"#, #"{"name":"v","size":"1Gi","dataEngine":"v3"}"#,
            #"{"name":"v","size":"1Gi","frontend":"scsi"}"#, #"{"name":"v","size":"1Gi","numberOfReplicas":"two"}"#,
        ] {
            #expect(throws: DecodingError.self, "\(json)") { try request(json) }
        }
    }
}
