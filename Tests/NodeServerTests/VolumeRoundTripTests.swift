// A volume's whole life through a running `hornbill server`, as a user drives it from the command
// line: create, attach with the `nbd` frontend, write with fio and verify, detach, attach again
// and verify again, detach, delete; for V2 on two block disks (files) of the node, for V1 on its
// default filesystem disk. After delete, nothing of the volume is left: no lvol in either lvstore
// (V2), no replica directory (V1).

import Foundation
import ManagerClient
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(8))) struct VolumeRoundTripTests {
    @Test func aV2VolumeOnTwoBlockDisksRoundTrips() async throws {
        let node = try NodeUnderTest()
        defer { node.stop() }
        let (files, uuids) = try await node.readyBlockDisks(2)
        defer { _ = files }
        let scheduled = try await node.createVolume("vol-v2", dataEngine: "v2")
        #expect(Set(scheduled.replicas.map(\.diskID)) == Set(uuids), "one replica on each block disk")

        let endpoint = try node.attach("vol-v2")
        #expect(endpoint.hasPrefix("nbd://"))
        let written = try fio(endpoint)
        #expect(written.status == 0, "\(written.output)")
        try node.detach("vol-v2")
        let again = try node.attach("vol-v2")
        let verified = try fio(again, verifyOnly: true)
        #expect(verified.status == 0, "\(verified.output)")
        try node.detach("vol-v2")
        // Detached, the replicas' lvols are kept, one in each lvstore.
        let kept = try node.tgtRPC(["bdev_lvol_get_lvols"])
        #expect(kept.output.components(separatedBy: "vol-v2-r-").count - 1 >= 2, "\(kept.output)")
        try node.delete("vol-v2")

        // The replicas' lvols are gone from both lvstores.
        let lvols = try node.tgtRPC(["bdev_lvol_get_lvols"])
        #expect(lvols.status == 0, "\(lvols.errors)")
        #expect(!lvols.output.contains("vol-v2-r-"), "\(lvols.output)")
    }

    @Test func aV1VolumeOnTheDefaultDiskRoundTrips() async throws {
        let node = try NodeUnderTest()
        defer { node.stop() }
        let defaultDisk = try await node.readyDefaultDisk()
        _ = try await node.createVolume("vol-v1", dataEngine: "v1")
        let endpoint = try node.attach("vol-v1")
        #expect(endpoint.hasPrefix("nbd://"))
        let written = try fio(endpoint)
        #expect(written.status == 0, "\(written.output)")
        try node.detach("vol-v1")
        let again = try node.attach("vol-v1")
        let verified = try fio(again, verifyOnly: true)
        #expect(verified.status == 0, "\(verified.output)")
        let replicas = defaultDisk.spec.path + "/replicas"
        let directories = try FileManager.default.contentsOfDirectory(atPath: replicas).filter { $0.hasPrefix("vol-v1-") }
        #expect(directories.count == 2, "\(directories)")
        try node.detach("vol-v1")
        try node.delete("vol-v1")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: replicas)) ?? []
        #expect(!left.contains { $0.hasPrefix("vol-v1-") }, "\(left)")
    }
}
