// Replicas that cannot be placed, through a running `hornbill server`: for each cause (not
// enough space, node or disk anti-affinity hard with too few nodes or disks, a disk or node
// selector nothing fulfils, a disk of the wrong type for the data engine) the volume says
// `Scheduled: False`, reason `ReplicaSchedulingFailure`, with Longhorn's reason string and what
// was seen; and once the cause is gone (a setting changed, a disk added, enabled or tagged, the
// node tagged) its replicas are placed without anything else asked.

import Foundation
import Glibc
import ManagerClient
import TestSupport
import Testing

/// A running server for node `node-a`, its API and command line.
private struct ServerUnderTest {
    let scratch: ScratchDirectory
    let server: Daemon
    let directory: String
    let api: [String]
    let client: ManagerClient

    init() throws {
        scratch = try ScratchDirectory()
        directory = scratch.path + "/data"
        let port = Int(freeTCPPort())
        // No replica is started here; the ranges only have to be the suite's own.
        let base = firstOfFreeTCPPorts(70)
        server = try Daemon(
            [
                "server", "--data-dir", directory, "--node-name", "node-a", "--address", "127.0.0.1",
                "--port", "\(port)", "--v1-instance-manager-port", "\(freeTCPPort())",
                "--v2-instance-manager-port", "\(freeTCPPort())", "--v1-process-ports", "\(base)-\(base + 9)",
                "--v2-instance-ports", "\(base + 10)-\(base + 29)",
            ],
            errorPath: scratch.path + "/server.err")
        api = ["--server", "http://127.0.0.1:\(port)"]
        client = try ManagerClient(server: "http://127.0.0.1:\(port)")
    }

    func cli(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
        try hornbill(arguments + api)
    }

    func set(_ setting: String, _ value: String) async throws {
        let result = try cli(["setting", "set", setting, value])
        #expect(result.status == 0, "\(setting)=\(value): \(result.errors)")
    }

    func node() async throws -> NodeItem {
        try JSONDecoder().decode(NodeItem.self, from: try await client.get("/v1/nodes/node-a"))
    }

    func volume(_ name: String) async throws -> VolumeItem {
        try JSONDecoder().decode(VolumeItem.self, from: try await client.get("/v1/volumes/\(name)"))
    }

    func create(_ body: String) async throws {
        _ = try await client.post("/v1/volumes", body: Data(body.utf8))
    }

    /// Node `PUT`: a full replacement of scheduling and tags.
    func updateNode(allowScheduling: Bool, tags: [String]) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["allowScheduling": allowScheduling, "tags": tags])
        _ = try await client.put("/v1/nodes/node-a", body: body)
    }

    /// Waits until the manager answers and `disk` is schedulable; the default disk's free share is
    /// the host's, not the test's, so the minimal-available floor is taken away.
    func waitForDisk(_ disk: String) async throws -> DiskItem {
        _ = try await eventually("the manager answers", seconds: 60) { () -> Bool? in
            try cli(["setting", "set", "storage-minimal-available-percentage", "0"]).status == 0 ? true : nil
        }
        return try await eventually(
            "\(disk) is schedulable", seconds: 60,
            explain: { logTails(directory + "/logs", lines: 30) }
        ) { () -> DiskItem? in
            guard let found = try? await node().disks[disk], found.conditions["Schedulable"]?.status == "True" else {
                return nil
            }
            return found
        }
    }

    /// Waits until the node's instance managers of `engines` run: a node whose instance manager
    /// does not run takes no replica, whatever else is tried.
    func waitForInstanceManagers(_ engines: Set<String>) async throws {
        struct Manager: Decodable {
            var dataEngine: String
            var currentState: String
        }
        var last: [Manager] = []
        _ = try await eventually(
            "the \(engines.sorted()) instance managers run", seconds: 90,
            explain: {
                "last: \(last.map { "\($0.dataEngine) \($0.currentState)" })\n" + server.errors.suffix(2000)
                    + logTails(directory + "/logs", lines: 30)
            }
        ) { () -> Bool? in
            last = try JSONDecoder().decode(
                APICollection<Manager>.self, from: try await client.get("/v1/instancemanagers")
            ).data
            let running = Set(last.filter { $0.currentState == "running" }.map(\.dataEngine))
            return running.isSuperset(of: engines) ? true : nil
        }
    }

    /// Waits until `name` says why a replica has no node, the message holding every one of `parts`.
    func waitForFailure(_ name: String, _ parts: [String]) async throws -> VolumeItem {
        var last = ""
        return try await eventually("\(name) says \(parts)", seconds: 60, explain: { "last: \(last)" }) {
            () -> VolumeItem? in
            let volume = try await volume(name)
            guard let scheduled = volume.conditions["Scheduled"] else { return nil }
            last = "\(scheduled.status) \(scheduled.reason): \(scheduled.message)"
            guard scheduled.status == "False", scheduled.reason == "ReplicaSchedulingFailure",
                parts.allSatisfy({ scheduled.message.contains($0) })
            else { return nil }
            return volume
        }
    }

    /// Waits until every replica of `name` has a node.
    func waitForScheduled(_ name: String) async throws -> VolumeItem {
        var last = ""
        return try await eventually("\(name) is scheduled", seconds: 60, explain: { "last: \(last)" }) {
            () -> VolumeItem? in
            let volume = try await volume(name)
            last = volume.conditions["Scheduled"].map { "\($0.status) \($0.reason): \($0.message)" } ?? "no condition"
            guard volume.conditions["Scheduled"]?.status == "True", volume.replicas.count == volume.numberOfReplicas,
                volume.replicas.allSatisfy({ $0.hostId == "node-a" && !$0.diskID.isEmpty })
            else { return nil }
            return volume
        }
    }

    func stop() { server.stop(SIGTERM) }
}

@Suite(.serialized, .timeLimit(.minutes(4))) struct VolumeSchedulingTests {
    @Test func v1FailuresNameTheirCauseAndClearWhenItGoes() async throws {
        let node = try ServerUnderTest()
        defer { node.stop() }
        let defaultDisk = try await node.waitForDisk("default-disk")
        try await node.waitForInstanceManagers(["v1"])
        for name in ["disk-2", "disk-3"] {
            try FileManager.default.createDirectory(
                atPath: node.scratch.path + "/" + name, withIntermediateDirectories: true)
        }
        #expect(
            try node.cli(["node", "disk", "add", "node-a", "disk-2", "--path", node.scratch.path + "/disk-2"]).status
                == 0)
        _ = try await node.waitForDisk("disk-2")

        // Not enough space: more than the disks' maximum at 100% over-provisioning.
        let big = defaultDisk.storageMaximum / 2 * 3
        try await node.create(#"{"name":"vol-big","size":"\#(big)","numberOfReplicas":1}"#)
        let tooBig = try await node.waitForFailure(
            "vol-big", ["insufficient storage", "node-a/default-disk has", "do not fit"])
        #expect(tooBig.replicas.allSatisfy { $0.hostId.isEmpty } && !tooBig.ready)
        try await node.set("storage-over-provisioning-percentage", "200")
        _ = try await node.waitForScheduled("vol-big")
        // Gone again (its size counts on its disk), and the setting back to Longhorn's default.
        #expect(try node.cli(["volume", "delete", "vol-big", "--wait"]).status == 0)
        try await node.set("storage-over-provisioning-percentage", "100")

        // Node anti-affinity hard (Longhorn's default), two replicas, one node.
        try await node.create(#"{"name":"vol-pair","size":"64Mi","numberOfReplicas":2}"#)
        let pair = try await node.waitForFailure(
            "vol-pair",
            ["replica scheduling failed", "node anti-affinity is hard and every candidate node holds a replica"])
        #expect(pair.replicas.filter { !$0.hostId.isEmpty }.count == 1)
        try await node.set("replica-soft-anti-affinity", "true")
        let paired = try await node.waitForScheduled("vol-pair")
        #expect(Set(paired.replicas.map(\.diskID)).count == 2, "one replica on each disk")

        // Disk anti-affinity hard (the volume's own setting), three replicas, two disks.
        try await node.create(
            #"{"name":"vol-three","size":"64Mi","numberOfReplicas":3,"replicaSoftAntiAffinity":"enabled","replicaDiskSoftAntiAffinity":"disabled"}"#
        )
        let three = try await node.waitForFailure(
            "vol-three",
            ["replica scheduling failed", "disk anti-affinity is hard and every candidate disk holds a replica"])
        #expect(three.replicas.filter { !$0.hostId.isEmpty }.count == 2)
        #expect(
            try node.cli(["node", "disk", "add", "node-a", "disk-3", "--path", node.scratch.path + "/disk-3"]).status
                == 0)
        let spread = try await node.waitForScheduled("vol-three")
        #expect(Set(spread.replicas.map(\.diskID)).count == 3, "one replica on each disk")

        // A disk selector no disk fulfils (each tag exists, on different disks).
        #expect(try node.cli(["node", "disk", "update", "node-a", "default-disk", "--tags", "ssd"]).status == 0)
        #expect(try node.cli(["node", "disk", "update", "node-a", "disk-2", "--tags", "fast"]).status == 0)
        try await node.create(#"{"name":"vol-tags","size":"64Mi","numberOfReplicas":1,"diskSelector":["ssd","fast"]}"#)
        _ = try await node.waitForFailure(
            "vol-tags",
            ["tags not fulfilled", "disk node-a/default-disk lacks the tags [\"fast\"]", "disk node-a/disk-3 lacks"])
        #expect(try node.cli(["node", "disk", "update", "node-a", "default-disk", "--tags", "ssd,fast"]).status == 0)
        let tagged = try await node.waitForScheduled("vol-tags")
        #expect(tagged.replicas.map(\.diskID) == [defaultDisk.diskUUID])

        // A node selector the node no longer fulfils: first the node takes no replica at all, then
        // it lacks the tag, then it has it.
        try await node.updateNode(allowScheduling: false, tags: ["edge"])
        try await node.create(#"{"name":"vol-edge","size":"64Mi","numberOfReplicas":1,"nodeSelector":["edge"]}"#)
        _ = try await node.waitForFailure("vol-edge", ["nodes are unavailable", "node-a does not allow scheduling"])
        try await node.updateNode(allowScheduling: true, tags: [])
        _ = try await node.waitForFailure("vol-edge", ["tags not fulfilled", "node node-a lacks the tags [\"edge\"]"])
        try await node.updateNode(allowScheduling: true, tags: ["edge"])
        _ = try await node.waitForScheduled("vol-edge")
    }

    @Test func aDiskOfTheWrongTypeTakesNoReplica() async throws {
        let node = try ServerUnderTest()
        defer { node.stop() }
        let defaultDisk = try await node.waitForDisk("default-disk")
        try await node.set("v2-data-engine-hugepage-limit", "64")
        try await node.set("v2-data-engine", "true")
        try await node.waitForInstanceManagers(["v1", "v2"])

        // A V2 volume on a node whose only disk is a filesystem disk.
        try await node.create(#"{"name":"vol-v2","size":"64Mi","numberOfReplicas":1,"dataEngine":"v2"}"#)
        _ = try await node.waitForFailure(
            "vol-v2",
            [
                "disks are unavailable",
                "disk type filesystem of node-a/default-disk is not compatible with data engine v2",
            ])
        let file = try TemporaryFile(size: 256 << 20, name: "scheduling-block")
        _ = try await eventually("block-1 is added once V2 runs", seconds: 60) { () -> Bool? in
            try node.cli(["node", "disk", "add", "node-a", "block-1", "--path", file.path, "--type", "block"]).status
                == 0
                ? true : nil
        }
        let block = try await node.waitForDisk("block-1")
        let v2 = try await node.waitForScheduled("vol-v2")
        #expect(v2.replicas.map(\.diskID) == [block.diskUUID])

        // A V1 volume when the only disk that allows scheduling is a block disk.
        #expect(
            try node.cli(["node", "disk", "update", "node-a", "default-disk", "--allow-scheduling", "false"]).status
                == 0)
        try await node.create(#"{"name":"vol-v1","size":"64Mi","numberOfReplicas":1}"#)
        _ = try await node.waitForFailure(
            "vol-v1",
            [
                "disks are unavailable", "node-a/default-disk does not allow scheduling",
                "disk type block of node-a/block-1 is not compatible with data engine v1",
            ])
        #expect(
            try node.cli(["node", "disk", "update", "node-a", "default-disk", "--allow-scheduling", "true"]).status == 0
        )
        let v1 = try await node.waitForScheduled("vol-v1")
        #expect(v1.replicas.map(\.diskID) == [defaultDisk.diskUUID])
    }
}
