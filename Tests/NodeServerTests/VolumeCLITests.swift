// `hornbill volume …` against a running `hornbill server`, as a newcomer types it: a volume
// created and waited for until detached with its replica placed on the node's default disk; a
// second one that cannot place its second replica (one node, node anti-affinity hard) says why;
// bad input gets one line on stderr and a non-zero exit, and creates nothing.

import Foundation
import Glibc
import ManagerClient
import TestSupport
import Testing

@Suite(.serialized, .timeLimit(.minutes(5))) struct VolumeCLITests {
    @Test func createListGetAndRefusals() async throws {
        let node = try NodeUnderTest()
        defer { node.stop() }
        let api = node.api
        // The default disk is the host's filesystem: its free share is the host's, not the test's.
        _ = try await eventually("the manager answers", seconds: 60) { () -> Bool? in
            try hornbill(["setting", "set", "storage-minimal-available-percentage", "0"] + api).status == 0 ? true : nil
        }
        _ = try await eventually("the node's V1 instance manager runs and its default disk is ready", seconds: 60) {
            () -> Bool? in
            let got = try hornbill(["node", "get", "node-a", "--output", "json"] + api)
            guard got.status == 0, let node = try? JSONDecoder().decode(NodeItem.self, from: Data(got.output.utf8)),
                node.disks["default-disk"]?.conditions["Schedulable"]?.status == "True"
            else { return nil }
            let managers = try hornbill(["node", "list"] + api)
            return managers.status == 0 ? true : nil
        }

        let create = try hornbill(["volume", "create", "vol1", "--size", "1Gi", "--replicas", "1", "--wait"] + api)
        #expect(create.status == 0 && create.output.hasPrefix("NAME"), "\(create.errors)")
        // Its replica is placed once the node's instance manager is reported running (each resync tries).
        let created = try await eventually("vol1's replica is scheduled", seconds: 30) { () -> VolumeItem? in
            let result = try hornbill(["volume", "get", "vol1", "--output", "json"] + api)
            guard result.status == 0 else { return nil }
            let volume = try JSONDecoder().decode(VolumeItem.self, from: Data(result.output.utf8))
            return volume.conditions["Scheduled"]?.status == "True" ? volume : nil
        }
        #expect(created.state == "detached" && created.size == 1 << 30 && created.dataEngine == "v1")
        #expect(created.replicas.count == 1 && created.replicas.first?.hostId == "node-a")
        #expect(created.conditions["Scheduled"]?.status == "True", "\(created.conditions["Scheduled"]?.message ?? "")")

        let table = try hornbill(["volume", "list"] + api)
        #expect(table.status == 0 && table.output.hasPrefix("NAME"))
        #expect(table.output.split(separator: "\n").contains { $0.hasPrefix("vol1 ") && $0.contains("detached") })
        let shown = try hornbill(["volume", "get", "vol1"] + api)
        #expect(shown.status == 0 && shown.output.contains("REPLICA") && shown.output.contains("vol1-r-"))

        // Two replicas on one node: the second cannot be placed, and the volume says why.
        let two = try hornbill(["volume", "create", "vol2", "--size", "1Gi", "--replicas", "2", "--wait", "--timeout", "30"] + api)
        #expect(two.status == 0, "\(two.errors)")
        _ = try await eventually("vol2 says why its second replica has no node") { () -> Bool? in
            let shown = try hornbill(["volume", "get", "vol2"] + api)
            return shown.output.contains("Scheduled: False (ReplicaSchedulingFailure)")
                && shown.output.contains("node anti-affinity is hard") ? true : nil
        }

        let refusals: [([String], String)] = [
            (["volume", "create", "Bad_Name", "--size", "1Gi"], "invalid volume name"),
            (["volume", "create", "vol3", "--size", "lots"], "is not a quantity"),
            (["volume", "create", "vol3", "--size", "1Gi", "--data-engine", "v2"], "v2-data-engine data engine is not enabled"),
            (["volume", "create", "vol1", "--size", "1Gi"], "already exists"),
            (["volume", "get", "nope"], "volume nope not found"),
            (["volume", "attach", "vol1", "--node", "node-z"], "node node-z not found"),
        ]
        for (arguments, message) in refusals {
            let result = try hornbill(arguments + api)
            #expect(result.status != 0, "\(arguments)")
            let lines = result.errors.split(separator: "\n")
            #expect(lines.count == 1 && result.errors.contains(message), "\(arguments): \(result.errors)")
        }
        let names = try hornbill(["volume", "list", "--output", "json"] + api)
        let listed = try JSONDecoder().decode(APICollection<VolumeItem>.self, from: Data(names.output.utf8))
        #expect(listed.data.map(\.name).sorted() == ["vol1", "vol2"])
    }
}
