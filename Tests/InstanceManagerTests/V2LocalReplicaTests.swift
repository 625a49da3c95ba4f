// An engine over a replica of its own node uses the replica's lvol as the RAID base (no NVMe/TCP
// controller), unexposes the replica while it holds it and exposes it again on the same port when
// it lets go (engine delete, replica remove, a failed build, a tgt restart); a new instance manager
// over the same tgt finds that again.

import Foundation
import InstanceManager
import JSONRPC
import TestSupport
import Testing

@Suite struct V2LocalReplicaTests {
    typealias TwoNodes = V2EngineTests.TwoNodes

    @Test func theLocalLegIsTheLvolAndTheReplicaComesBackOnItsPort() async throws {
        let nodes = TwoNodes()
        try await nodes.start()
        let local = try await nodes.a.replicaGet(name: "vol-r-a")
        let endpoint = try await nbdEngine(nodes.a, replicas: nodes.map)
        #expect(try raidBases(nodes.daemonA, "vol-e-0") == [local.uuid: true, "vol-r-bn1": true])
        #expect(!(try bdevNames(nodes.daemonA)).contains("vol-r-an1"))
        #expect(try exposedPort(nodes.daemonA, "vol-r-a") == nil)
        // Held, the replica is still running on its ports, and cannot be stopped or deleted.
        let held = try await nodes.a.replicaGet(name: "vol-r-a")
        #expect(held.state == .running && held.portStart == local.portStart && held.portEnd == local.portEnd)
        for cleanup in [false, true] {
            do {
                try await nodes.a.replicaDelete(name: "vol-r-a", cleanupRequired: cleanup)
                Issue.record("a replica an engine holds was deleted (cleanup \(cleanup))")
            } catch {
                #expect(error.code == .failedPrecondition && error.message.contains("engine vol-e-0"), "\(error)")
            }
        }
        #expect(try exposedPort(nodes.daemonA, "vol-r-a") == nil)
        let written = try fio(endpoint)
        #expect(written.status == 0, "\(written.output)")

        // Removed from the engine, the local replica is exposed again; added back, held again.
        try await nodes.a.engineReplicaDelete(engineName: "vol-e-0", replicaName: "vol-r-a", replicaAddress: "")
        #expect(try exposedPort(nodes.daemonA, "vol-r-a") == Int(local.portStart))
        #expect(try raidBases(nodes.daemonA, "vol-e-0").keys.sorted() == ["vol-r-bn1"])
        try await nodes.a.engineReplicaAdd(
            engineName: "vol-e-0", replicaName: "vol-r-a", replicaAddress: nodes.map["vol-r-a"]!)
        #expect(try exposedPort(nodes.daemonA, "vol-r-a") == nil)
        #expect(try await nodes.a.engineGet(name: "vol-e-0").replicaModeMap == ["vol-r-a": .rw, "vol-r-b": .rw])
        #expect(try fio(endpoint, verifyOnly: true).status == 0)

        try await nodes.a.engineDelete(name: "vol-e-0")
        #expect(try exposedPort(nodes.daemonA, "vol-r-a") == Int(local.portStart))
        let released = try await nodes.a.replicaGet(name: "vol-r-a")
        #expect(
            released.state == .running && released.portStart == local.portStart && released.portEnd == local.portEnd)

        // Each replica alone holds the data: a second engine uses the local one again, a third the remote one.
        try await verifyAlone(nodes, "vol-r-a")
        try await verifyAlone(nodes, "vol-r-b")
        await nodes.a.stop()
        await nodes.b.stop()
    }

    @Test func aNewInstanceManagerFindsTheHeldReplicaAndItsEngine() async throws {
        let nodes = TwoNodes()
        try await nodes.start()
        let local = try await nodes.a.replicaGet(name: "vol-r-a")
        let endpoint = try await nbdEngine(nodes.a, replicas: nodes.map)
        #expect(try fio(endpoint).status == 0)
        await nodes.a.stop()

        let second = makeInstances(nodes.daemonA, ports: nodes.rangeA)
        await second.start()
        let found = try await second.replicaGet(name: "vol-r-a")
        #expect(found.state == .running && found.portStart == local.portStart && found.portEnd == local.portEnd)
        let engine = try await second.engineGet(name: "vol-e-0")
        #expect(engine.state == .error && engine.replicaModeMap == ["vol-r-a": .rw, "vol-r-b": .rw])
        #expect(engine.replicaAddressMap["vol-r-a"] == nodes.map["vol-r-a"])
        // Its reconcile rounds leave the held replica alone (the RAID still claims the lvol).
        await second.reconcile()
        #expect(try exposedPort(nodes.daemonA, "vol-r-a") == nil)
        #expect(try await second.replicaGet(name: "vol-r-a").state == .running)
        await #expect(throws: InstanceManagerError.self) {
            try await second.replicaDelete(name: "vol-r-a", cleanupRequired: false)
        }
        // Its ports are not handed out again.
        let diskA = try await second.diskGet(name: "disk-a")
        let other = try await second.replicaCreate(
            name: "vol2-r-a", lvsName: diskA.name, lvsUUID: diskA.uuid, specSize: 4 << 20, portCount: 5)
        #expect(other.state == .running && (other.portEnd < local.portStart || other.portStart > local.portEnd))

        try await second.engineDelete(name: "vol-e-0")
        #expect(try exposedPort(nodes.daemonA, "vol-r-a") == Int(local.portStart))
        #expect(try raidNames(nodes.daemonA).isEmpty)
        try await verifyAlone(nodes, "vol-r-a", on: second)
        try await second.replicaDelete(name: "vol-r-a", cleanupRequired: false)
        #expect(try await second.replicaGet(name: "vol-r-a").state == .stopped)
        await second.stop()
        await nodes.b.stop()
    }

    @Test func aFailedBuildAndATgtRestartGiveTheReplicaBack() async throws {
        let nodes = TwoNodes()
        try await nodes.start()
        let local = try await nodes.a.replicaGet(name: "vol-r-a")
        // Every other port taken: the frontend cannot get one, the build fails after the RAID was made.
        let free = nodes.rangeA.count - Int(local.portEnd - local.portStart + 1)
        let filler = try await nodes.a.replicaCreate(
            name: "filler", lvsName: "disk-a", lvsUUID: "", specSize: 1 << 20, portCount: Int32(free))
        #expect(filler.state == .running)
        let failed = try await nodes.a.engineCreate(
            name: "vol-e-0", volumeName: "vol", specSize: 8 << 20, replicaAddressMap: nodes.map, frontend: "nbd")
        #expect(failed.state == .error && failed.replicaModeMap["vol-r-a"] == .err, "\(failed.errorMsg)")
        #expect(try exposedPort(nodes.daemonA, "vol-r-a") == Int(local.portStart))
        #expect(try raidNames(nodes.daemonA).isEmpty)
        try await nodes.a.engineDelete(name: "vol-e-0")
        try await nodes.a.replicaDelete(name: "filler", cleanupRequired: true)

        // A tgt restart loses the RAID: the engine is an error and the replica is exposed again.
        let endpoint = try await nbdEngine(nodes.a, replicas: nodes.map)
        #expect(try fio(endpoint).status == 0)
        #expect(try exposedPort(nodes.daemonA, "vol-r-a") == nil)
        try nodes.daemonA.restart()
        let broken = try await eventually { () async throws -> EngineInfo? in
            let engine = try await nodes.a.engineGet(name: "vol-e-0")
            return engine.state == .error ? engine : nil
        }
        #expect(broken.errorMsg.contains("gone"))
        let port = try await eventually { () async throws -> Int? in
            await nodes.a.reconcile()
            return try exposedPort(nodes.daemonA, "vol-r-a")
        }
        #expect(port == Int(local.portStart))
        let exposed = try await nodes.a.replicaGet(name: "vol-r-a")
        #expect(exposed.state == .running && exposed.portStart == local.portStart && exposed.portEnd == local.portEnd)
        try await nodes.a.engineDelete(name: "vol-e-0")
        try await verifyAlone(nodes, "vol-r-a")
        try await verifyAlone(nodes, "vol-r-b")
        await nodes.a.stop()
        await nodes.b.stop()
    }

    /// An engine over `replica` alone verifies fio's data, then goes.
    private func verifyAlone(_ nodes: TwoNodes, _ replica: String, on instances: V2Instances? = nil) async throws {
        let instances = instances ?? nodes.a
        let engine = try await nbdEngine(instances, replicas: [replica: nodes.map[replica]!])
        let verified = try fio(engine, verifyOnly: true)
        #expect(verified.status == 0, "\(replica): \(verified.output)")
        try await instances.engineDelete(name: "vol-e-0")
    }
}

/// The port the tgt exposes a replica's subsystem on; nil when it does not.
func exposedPort(_ daemon: TgtDaemon, _ replica: String) throws -> Int? {
    guard case .array(let subsystems) = try daemon.call("nvmf_get_subsystems").get() else { return nil }
    guard let subsystem = subsystems.first(where: { $0["nqn"] == .string(V2Naming.nqn(replica)) }),
        case .string(let port)? = subsystem["listen_addresses"]?[0]?["trsvcid"]
    else { return nil }
    return Int(port)
}

/// A RAID's base names → configured.
func raidBases(_ daemon: TgtDaemon, _ raid: String) throws -> [String: Bool] {
    guard case .array(let raids) = try daemon.call("bdev_raid_get_bdevs", [("category", .string("all"))]).get(),
        let found = raids.first(where: { $0["name"] == .string(raid) }),
        case .array(let slots)? = found["base_bdevs_list"]
    else { return [:] }
    var bases: [String: Bool] = [:]
    for slot in slots {
        if case .string(let name)? = slot["name"] { bases[name] = slot["is_configured"] == .bool(true) }
    }
    return bases
}

func raidNames(_ daemon: TgtDaemon) throws -> [String] {
    guard case .array(let raids) = try daemon.call("bdev_raid_get_bdevs", [("category", .string("all"))]).get()
    else { return [] }
    return raids.compactMap { if case .string(let name)? = $0["name"] { name } else { nil } }
}

func bdevNames(_ daemon: TgtDaemon) throws -> [String] {
    guard case .array(let bdevs) = try daemon.call("bdev_get_bdevs").get() else { return [] }
    return bdevs.compactMap { if case .string(let name)? = $0["name"] { name } else { nil } }
}
