// A replica that fails while its volume is attached and written, through a running
// `hornbill server`: fio writes over NBD with crc32c verify headers (at a bounded rate, so the
// failure lands in the middle of the writes) while one replica is lost: for V1 its `hornbill
// replica` process is killed (SIGKILL); for V2, where both replicas are lvols of the one tgt (no
// NVMe/TCP connection to cut), the aio bdev of its block disk is deleted, as a failing disk goes
// away. The volume becomes degraded and keeps serving; the replica is marked failed, taken out of
// the engine and stopped; fio's verify passes, and a later verify-only pass reads every block
// back. Detach and delete work afterwards.

import Foundation
import Glibc
import ManagerClient
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(6))) struct VolumeFailureTests {
    @Test func aV1ReplicaKilledWhileWritingLeavesTheVolumeDegradedAndServing() async throws {
        let node = try NodeUnderTest()
        defer { node.stop() }
        let disk = try await node.readyDefaultDisk()
        let created = try await node.createVolume("vol-f1", dataEngine: "v1")
        let original = Set(created.replicas.map(\.name))
        let endpoint = try node.attach("vol-f1")
        let directories = try FileManager.default.contentsOfDirectory(atPath: disk.spec.path + "/replicas")
            .filter { $0.hasPrefix("vol-f1-") }.sorted()
        try #require(directories.count == 2, "\(directories)")
        let victim = disk.spec.path + "/replicas/" + directories[0]
        let pid = try #require(replicaProcess(directory: victim), "no hornbill replica process over \(victim)")

        let writer = BackgroundThread { try fio(endpoint, rateLimited: true) }
        usleep(1_500_000)
        #expect(kill(pid, SIGKILL) == 0)
        let written = try await writer.value()
        #expect(written.status == 0 && written.output.contains("err= 0"), "\(written.output)")

        try await expectDegradedWithOneReplicaFailed(node, "vol-f1", original: original)
        let verified = try fio(endpoint, verifyOnly: true)
        #expect(verified.status == 0 && verified.output.contains("err= 0"), "\(verified.output)")
        try node.detach("vol-f1")
        try node.delete("vol-f1")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: disk.spec.path + "/replicas")) ?? []
        #expect(!left.contains { $0.hasPrefix("vol-f1-") }, "\(left)")
    }

    @Test func aV2ReplicaWhoseDiskGoesAwayWhileWritingLeavesTheVolumeDegradedAndServing() async throws {
        let node = try NodeUnderTest()
        defer { node.stop() }
        let (files, uuids) = try await node.readyBlockDisks(2)
        defer { withExtendedLifetime(files) {} }
        let created = try await node.createVolume("vol-f2", dataEngine: "v2")
        #expect(Set(created.replicas.map(\.diskID)) == Set(uuids), "one replica on each block disk")
        let original = Set(created.replicas.map(\.name))
        let endpoint = try node.attach("vol-f2")
        let victim = try #require(created.replicas.first { $0.diskID == uuids[1] })

        let writer = BackgroundThread { try fio(endpoint, rateLimited: true) }
        usleep(1_500_000)
        // The disk's aio bdev goes (a hot remove): its lvstore unloads, the replica's lvol with it.
        let removed = try node.tgtRPC(["bdev_aio_delete", #"{"name": "block-2"}"#])
        #expect(removed.status == 0, "\(removed.output) \(removed.errors)")
        let written = try await writer.value()
        #expect(written.status == 0 && written.output.contains("err= 0"), "\(written.output)")

        let failed = try await expectDegradedWithOneReplicaFailed(node, "vol-f2", original: original)
        #expect(failed == victim.name)
        let verified = try fio(endpoint, verifyOnly: true)
        #expect(verified.status == 0 && verified.output.contains("err= 0"), "\(verified.output)")
        try node.detach("vol-f2")
        try node.delete("vol-f2")
        let lvols = try node.tgtRPC(["bdev_lvol_get_lvols"])
        #expect(lvols.status == 0 && !lvols.output.contains("vol-f2-r-"), "\(lvols.output)")
    }

    /// Waits until the volume is attached and degraded, exactly one of its `original` replicas is
    /// failed and stopped (out of the engine: no mode), the other RW; the failed one's name.
    @discardableResult
    private func expectDegradedWithOneReplicaFailed(
        _ node: NodeUnderTest, _ name: String, original: Set<String>
    ) async throws -> String {
        let volume = try await eventually(
            "\(name) is degraded with one replica failed and stopped", seconds: 60,
            explain: {
                "\(String(describing: try? node.volume(name)))\n" + logTails(node.directory + "/logs", lines: 30)
            }
        ) { () -> VolumeItem? in
            guard let volume = try node.volume(name), volume.state == "attached", volume.robustness == "degraded"
            else { return nil }
            let replicas = volume.replicas.filter { original.contains($0.name) }
            let failed = replicas.filter { !$0.failedAt.isEmpty }
            guard failed.count == 1, !failed[0].running, failed[0].mode.isEmpty else { return nil }
            return volume
        }
        let replicas = volume.replicas.filter { original.contains($0.name) }
        let healthy = try #require(replicas.first { $0.failedAt.isEmpty })
        #expect(healthy.running && healthy.mode == "RW", "\(replicas)")
        return try #require(replicas.first { !$0.failedAt.isEmpty }).name
    }
}

/// fio over NBD: 24 MiB written with crc32c verify headers and checked (at 8 MiB/s when
/// `rateLimited`: three seconds of writes at least), or (verifyOnly) checked again.
private func fio(
    _ endpoint: String, rateLimited: Bool = false, verifyOnly: Bool = false
) throws
    -> (status: Int32, output: String)
{
    try runCommand(
        [
            "fio", "--name=volume", "--ioengine=nbd", "--uri=\(endpoint)", "--rw=randwrite", "--bs=4k", "--iodepth=16",
            "--size=24M", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0",
            "--randrepeat=1",
        ] + (rateLimited ? ["--rate=8m"] : []) + (verifyOnly ? ["--verify_only=1"] : []))
}

/// The `hornbill replica` process serving `directory`, found by its command line.
private func replicaProcess(directory: String) -> Int32? {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    for entry in entries {
        guard let pid = Int32(entry),
            let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
        else { continue }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        if arguments.contains("replica") && arguments.contains(directory) { return pid }
    }
    return nil
}
