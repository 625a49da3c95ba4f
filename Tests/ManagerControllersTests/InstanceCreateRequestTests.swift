import Foundation
import InstanceManagerAPI
import ManagerModel
import Testing

@testable import ManagerControllers

/// What the instance handler sends to create an instance (longhorn-api.md §3.8), and what it
/// refuses to send.
@Suite struct InstanceCreateRequestTests {
    private let launch = V1ProcessLaunch(executable: "/usr/bin/hornbill", runDirectory: "/var/lib/hornbill/run")

    private func replica(_ engine: DataEngine, size: Int64 = 16 << 20, directory: String = "vol-0a1b2c3d") -> Replica {
        replicaResource(
            "vol-r-0a1b2c3d", volume: "vol", size: size, engine: engine, diskID: "lvs-uuid", diskPath: "/data",
            dataDirectoryName: directory)
    }

    private func engine(_ data: DataEngine, frontend: VolumeFrontend, replicas: [String: String]) -> Engine {
        var engine = engineResource(
            "vol-e-0", volume: "vol", size: 16 << 20, engine: data, frontend: frontend, replicas: replicas)
        engine.prepareForCreate()
        return engine
    }

    private func refusal(_ body: () throws(InstanceCreateRefusal) -> Imrpc_InstanceSpec) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return error.description
        }
    }

    @Test func aV2ReplicaNamesItsLvstoreAndAsksForFivePorts() throws {
        let spec = try InstanceCreateRequests.v2Replica(replica(.v2), diskName: "block-1")
        #expect(spec.name == "vol-r-0a1b2c3d" && spec.type == "replica" && spec.volumeName == "vol")
        #expect(spec.dataEngine == .v2 && spec.backendStoreDriver == .v2)
        #expect(spec.portCount == 5 && spec.portArgs == ["--listen,:"])
        #expect(spec.spdkInstanceSpec.size == 16 << 20)
        #expect(spec.spdkInstanceSpec.diskName == "block-1" && spec.spdkInstanceSpec.diskUuid == "lvs-uuid")
        #expect(refusal { () throws(InstanceCreateRefusal) in try InstanceCreateRequests.v2Replica(replica(.v2), diskName: "") } != nil)
        #expect(
            refusal { () throws(InstanceCreateRefusal) in
                try InstanceCreateRequests.v2Replica(replica(.v2, size: 0), diskName: "block-1")
            }?.contains("no size") == true)
    }

    @Test func aV2EngineGetsTheReplicaAddressesItRecordedAndTheSPDKFrontend() throws {
        let replicas = ["vol-r-1": "10.0.0.1:20001", "vol-r-2": "10.0.0.2:20001"]
        let spec = try InstanceCreateRequests.v2Engine(engine(.v2, frontend: .nvmf, replicas: replicas), address: "10.0.0.1")
        #expect(spec.type == "engine" && spec.portCount == 1 && spec.dataEngine == .v2)
        #expect(spec.initiatorAddress == "10.0.0.1" && spec.targetAddress == "10.0.0.1")
        #expect(spec.spdkInstanceSpec.replicaAddressMap == replicas && spec.spdkInstanceSpec.frontend == "spdk-tcp-nvmf")
        let frontends: [(VolumeFrontend, Bool, String)] = [
            (.blockdev, false, "spdk-tcp-blockdev"), (.nvmf, false, "spdk-tcp-nvmf"), (.nbd, false, "nbd"),
            (.ublk, false, "ublk"), (.unset, false, ""), (.blockdev, true, ""),
        ]
        for (frontend, disabled, expected) in frontends {
            var engineSpec = EngineSpec()
            engineSpec.frontend = frontend
            engineSpec.disableFrontend = disabled
            #expect(try InstanceCreateRequests.v2Frontend(engineSpec) == expected)
        }
    }

    @Test func aV1ReplicaRunsThisExecutableOverItsDataDirectory() throws {
        let spec = try InstanceCreateRequests.v1Replica(replica(.v1), address: "10.0.0.1", launch: launch)
        #expect(spec.dataEngine == .v1 && spec.type == "replica")
        #expect(spec.processInstanceSpec.binary == "/usr/bin/hornbill")
        #expect(spec.processInstanceSpec.args == ["replica", "/data/replicas/vol-0a1b2c3d", "--size", "\(16 << 20)"])
        #expect(spec.portCount == 1 && spec.portArgs == ["--listen,10.0.0.1:"])
        for directory in ["", ".", "..", "a/b", "../x"] {
            #expect(
                refusal { () throws(InstanceCreateRefusal) in
                    try InstanceCreateRequests.v1Replica(replica(.v1, directory: directory), address: "10.0.0.1", launch: launch)
                } != nil, "\(directory)")
        }
        #expect(
            refusal { () throws(InstanceCreateRefusal) in
                try InstanceCreateRequests.v1Replica(replica(.v1, size: 4097), address: "10.0.0.1", launch: launch)
            }?.contains("4096") == true)
    }

    @Test func aV1EngineRunsTheControllerWithNBDOrSaysWhyNot() throws {
        let spec = try InstanceCreateRequests.v1Engine(
            engine(.v1, frontend: .nbd, replicas: ["vol-r-2": "10.0.0.2:10000", "vol-r-1": "10.0.0.1:10000"]),
            address: "10.0.0.1", launch: launch)
        #expect(
            spec.processInstanceSpec.args == [
                "controller", "vol", "--size", "\(16 << 20)", "--frontend", "nbd", "--status-socket",
                "/var/lib/hornbill/run/vol-e-0.sock", "--replica", "tcp://10.0.0.1:10000", "--replica",
                "tcp://10.0.0.2:10000",
            ])
        #expect(spec.portCount == 1 && spec.portArgs == ["--listen,10.0.0.1:"])

        let refused: [(VolumeFrontend, [String: String], V1ProcessLaunch, String)] = [
            (.blockdev, ["vol-r-1": "10.0.0.1:10000"], launch, "blockdev"),
            (.iscsi, ["vol-r-1": "10.0.0.1:10000"], launch, "iscsi"),
            (.nbd, [:], launch, "no healthy or scheduled replica"),
            (.nbd, ["vol-r-1": "10.0.0.1"], launch, "ip:port"),
            (.nbd, ["vol-r-1": "10.0.0.1:70000"], launch, "ip:port"),
            (
                .nbd, ["vol-r-1": "10.0.0.1:10000"],
                V1ProcessLaunch(executable: "/h", runDirectory: "/" + String(repeating: "d", count: 120)), "longer than"
            ),
        ]
        for (frontend, replicas, launch, message) in refused {
            let text = refusal { () throws(InstanceCreateRefusal) in
                try InstanceCreateRequests.v1Engine(
                    engine(.v1, frontend: frontend, replicas: replicas), address: "10.0.0.1", launch: launch)
            }
            #expect(text?.contains(message) == true, "\(frontend) \(replicas): \(text ?? "accepted")")
        }
    }

    @Test func instanceManagerStatesMapAsLonghornMapsThem() {
        let states: [(String, InstanceState)] = [
            ("running", .running), ("stopped", .stopped), ("starting", .starting), ("stopping", .stopping),
            ("suspended", .suspended), ("pending", .error), ("terminating", .error), ("error", .error), ("", .error),
        ]
        for (text, state) in states { #expect(InstanceObservation.state(text) == state, "\(text)") }
    }
}
