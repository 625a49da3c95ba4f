// Engines on real `hornbill tgt` processes: a RAID1 over a local replica (its lvol) and one on a
// second tgt (its own V2Instances, attached over NVMe/TCP), NBD and NVMe-oF frontends, replica
// removal and addition, a failed leg, and requests that change nothing.

import Foundation
import InstanceManager
import JSONRPC
import TestSupport
import Testing

@Suite struct V2EngineTests {
    /// Two nodes, each a tgt with a disk and a replica.
    final class TwoNodes: @unchecked Sendable {
        let daemonA = try! TgtDaemon()
        let daemonB = try! TgtDaemon()
        let fileA = try! TemporaryFile(size: 48 << 20, name: "im-node-a")
        let fileB = try! TemporaryFile(size: 48 << 20, name: "im-node-b")
        let rangeA = testPortRange()
        let a: V2Instances
        let b: V2Instances
        var map: [String: String] = [:]

        init() {
            a = makeInstances(daemonA, ports: rangeA)
            b = makeInstances(daemonB, ports: testPortRange())
        }

        func start(size: UInt64 = 8 << 20) async throws {
            let diskA = try await readyDisk(a, name: "disk-a", file: fileA)
            let diskB = try await readyDisk(b, name: "disk-b", file: fileB)
            let ra = try await a.replicaCreate(
                name: "vol-r-a", lvsName: diskA.name, lvsUUID: diskA.uuid, specSize: size, portCount: 5)
            let rb = try await b.replicaCreate(
                name: "vol-r-b", lvsName: diskB.name, lvsUUID: diskB.uuid, specSize: size, portCount: 5)
            #expect(ra.state == .running && rb.state == .running)
            map = ["vol-r-a": "127.0.0.1:\(ra.portStart)", "vol-r-b": "127.0.0.1:\(rb.portStart)"]
        }
    }

    @Test func nbdEngineOverTwoNodesWithReplicaRemoveAndAdd() async throws {
        let nodes = TwoNodes()
        try await nodes.start()
        let changes = nodes.a.changes.subscribe()
        let endpoint = try await nbdEngine(nodes.a, replicas: nodes.map)
        var engine = try await nodes.a.engineGet(name: "vol-e-0")
        #expect(engine.replicaModeMap == ["vol-r-a": .rw, "vol-r-b": .rw])
        #expect(engine.actualSize >= 8 << 20 && engine.volumeName == "vol" && engine.frontend == "nbd")
        var iterator = changes.makeAsyncIterator()
        #expect(await iterator.next() != nil)  // the engine's creation was announced
        let written = try fio(endpoint)
        #expect(written.status == 0, "\(written.output)")

        // Remove the remote replica: the volume reads on from the local one.
        try await nodes.a.engineReplicaDelete(
            engineName: "vol-e-0", replicaName: "vol-r-b", replicaAddress: nodes.map["vol-r-b"]!)
        engine = try await nodes.a.engineGet(name: "vol-e-0")
        #expect(engine.replicaModeMap == ["vol-r-a": .rw] && engine.replicaAddressMap.count == 1)
        #expect(
            try nodes.daemonA.call("bdev_get_bdevs", [("name", .string("vol-r-bn1"))])
                == .failure(JSONRPCError(code: -19, message: "No such device")))
        #expect(try fio(endpoint, verifyOnly: true).status == 0)

        // Add it back (it holds the same data: the tgt's RAID1 does not rebuild a new leg).
        try await nodes.a.engineReplicaAdd(
            engineName: "vol-e-0", replicaName: "vol-r-b", replicaAddress: nodes.map["vol-r-b"]!)
        engine = try await nodes.a.engineGet(name: "vol-e-0")
        #expect(engine.replicaModeMap == ["vol-r-a": .rw, "vol-r-b": .rw])
        await #expect(throws: InstanceManagerError.self) {
            try await nodes.a.engineReplicaAdd(
                engineName: "vol-e-0", replicaName: "vol-r-b", replicaAddress: nodes.map["vol-r-b"]!)
        }

        // The remote replica stops: its leg fails on the next I/O and is reported ERR.
        try await nodes.b.replicaDelete(name: "vol-r-b", cleanupRequired: false)
        #expect(try fio(endpoint).status == 0)
        let degraded = try await eventually { () async throws -> EngineInfo? in
            let current = try await nodes.a.engineGet(name: "vol-e-0")
            return current.replicaModeMap["vol-r-b"] == .err ? current : nil
        }
        #expect(degraded.replicaModeMap["vol-r-a"] == .rw && degraded.state == .running)

        try await nodes.a.engineDelete(name: "vol-e-0")
        #expect(await nodes.a.engineList().isEmpty)
        let bdevs = String(decoding: try nodes.daemonA.call("bdev_get_bdevs").get().encoded(), as: UTF8.self)
        #expect(!bdevs.contains("vol-e-0") && !bdevs.contains("vol-r-an1"))
        #expect(try nodes.daemonA.call("nbd_export_list").get() == .array([]))
        await nodes.a.stop()
        await nodes.b.stop()
    }

    @Test func nvmfFrontendIsDiscoverable() async throws {
        let nodes = TwoNodes()
        try await nodes.start()
        let engine = try await nodes.a.engineCreate(
            name: "vol-e-1", volumeName: "vol", specSize: 8 << 20, replicaAddressMap: nodes.map,
            frontend: "spdk-tcp-nvmf")
        #expect(engine.state == .running, "\(engine.errorMsg)")
        let nqn = "nqn.2023-01.io.longhorn.spdk:volume-vol"
        #expect(engine.endpoint == "nvmf://127.0.0.1:\(engine.port)/\(nqn)")
        let discovered = try runCommand([
            hornbillExecutable().path, "nvme", "discover", "-a", "127.0.0.1", "-s", String(engine.port),
        ])
        #expect(discovered.status == 0 && discovered.output.contains(nqn), "\(discovered.output)")
        try await nodes.a.engineDelete(name: "vol-e-1")
        #expect(
            !String(decoding: try nodes.daemonA.call("nvmf_get_subsystems").get().encoded(), as: UTF8.self).contains(
                nqn))
    }

    @Test func failuresAfterValidationAreReportedOnTheEngine() async throws {
        let nodes = TwoNodes()
        try await nodes.start()
        // A replica that does not answer is ERR, the others carry the engine.
        var map = nodes.map
        map["vol-r-gone"] = "127.0.0.1:\(freeTCPPort())"
        let engine = try await nodes.a.engineCreate(
            name: "vol-e-0", volumeName: "vol", specSize: 8 << 20, replicaAddressMap: map, frontend: "")
        #expect(engine.state == .running && engine.endpoint.isEmpty)
        #expect(engine.replicaModeMap == ["vol-r-a": .rw, "vol-r-b": .rw, "vol-r-gone": .err])
        try await nodes.a.engineDelete(name: "vol-e-0")

        // Replicas smaller than the engine: none usable, the engine is an error until deleted.
        let big = try await nodes.a.engineCreate(
            name: "vol-e-2", volumeName: "vol", specSize: 9 << 20, replicaAddressMap: nodes.map, frontend: "nbd")
        #expect(big.state == .error && big.errorMsg.contains("smaller than the engine"))
        #expect(try await nodes.a.engineGet(name: "vol-e-2").state == .error)
        try await nodes.a.engineDelete(name: "vol-e-2")

        // The block-device frontend needs the kernel's NVMe/TCP initiator.
        let blockdev = try await nodes.a.engineCreate(
            name: "vol-e-3", volumeName: "vol", specSize: 8 << 20, replicaAddressMap: nodes.map,
            frontend: "spdk-tcp-blockdev")
        #expect(blockdev.state == .error)
        if !KernelNVMeTCP.isAvailable() { #expect(blockdev.errorMsg.contains("the kernel has no NVMe/TCP initiator")) }
        try await nodes.a.engineDelete(name: "vol-e-3")
        let bdevs = String(decoding: try nodes.daemonA.call("bdev_get_bdevs").get().encoded(), as: UTF8.self)
        #expect(!bdevs.contains("vol-e-") && !bdevs.contains("n1\""))
    }

    @Test func badEngineRequestsChangeNothing() async throws {
        let nodes = TwoNodes()
        try await nodes.start()
        let bad: [(String, String, UInt64, [String: String], String)] = [
            ("", "vol", 8 << 20, nodes.map, "nbd"),
            ("e", "", 8 << 20, nodes.map, "nbd"),
            ("e", "vol", 0, nodes.map, "nbd"),
            ("e", "vol", 1000, nodes.map, "nbd"),
            ("e", "vol", 8 << 20, nodes.map, "iscsi"),
            ("e", "vol", 8 << 20, [:], "nbd"),
            ("e", "vol", 8 << 20, ["": ""], "nbd"),
            ("e", "vol", 8 << 20, ["vol-r-a": "nowhere"], "nbd"),
        ]
        for (name, volume, size, map, frontend) in bad {
            do {
                _ = try await nodes.a.engineCreate(
                    name: name, volumeName: volume, specSize: size, replicaAddressMap: map, frontend: frontend)
                Issue.record("accepted \(name) \(volume) \(size) \(map) \(frontend)")
            } catch {
                #expect(error.code == .invalidArgument, "\(error)")
            }
        }
        #expect(await nodes.a.engineList().isEmpty)
        let bdevs = String(decoding: try nodes.daemonA.call("bdev_get_bdevs").get().encoded(), as: UTF8.self)
        #expect(!bdevs.contains("n1\""))
        await #expect(throws: InstanceManagerError.notFound("engine e")) {
            try await nodes.a.engineReplicaAdd(
                engineName: "e", replicaName: "vol-r-b", replicaAddress: nodes.map["vol-r-b"]!)
        }
    }
}
