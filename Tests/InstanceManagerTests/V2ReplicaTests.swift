// Replicas on a real `hornbill tgt`: exposure over NVMe/TCP, stop keeps the data, delete with
// cleanup removes the lvol, and requests that change nothing.

import BlockDevices
import Foundation
import Glibc
import InstanceManager
import JSONRPC
import TestSupport
import Testing

@Suite struct V2ReplicaTests {
    @Test func snapshotsTakenInTheTgtAreReportedUnderTheirReplica() async throws {
        let daemon = try TgtDaemon()
        let instances = makeInstances(daemon, ports: testPortRange())
        let file = try TemporaryFile(size: 64 << 20, name: "im-replica-snapshots")
        let disk = try await readyDisk(instances, name: "disk1", file: file)
        for name in ["vol-r-1", "vol-r-2"] {
            let replica = try await instances.replicaCreate(
                name: name, lvsName: "disk1", lvsUUID: disk.uuid, specSize: 4 << 20, portCount: 1)
            #expect(replica.state == .running, "\(replica.errorMsg)")
        }
        for (lvol, snapshot) in [("vol-r-1", "vol-r-1-snap-s1"), ("vol-r-1", "vol-r-1-snap-s2"), ("vol-r-2", "vol-r-2-snap-s1")] {
            _ = try daemon.call(
                "bdev_lvol_snapshot", [("lvol_name", .string("disk1/\(lvol)")), ("snapshot_name", .string(snapshot))]
            ).get()
        }
        await instances.reconcile()
        let first = try await instances.replicaGet(name: "vol-r-1")
        #expect(first.snapshots.keys.sorted() == ["s1", "s2"])
        #expect(first.snapshots["s2"]?.parent == "s1" && first.snapshots["s2"]?.children == ["volume-head": true])
        #expect(first.head?.parent == "s2")
        let second = try await instances.replicaGet(name: "vol-r-2")
        #expect(second.snapshots.keys.sorted() == ["s1"] && second.snapshots["s1"]?.uuid != first.snapshots["s1"]?.uuid)
        await instances.stop()
    }

    /// Another program holding the first port of the range (a listener, or a client socket the
    /// kernel bound there) does not fail a replica or an engine: they get the next free ports.
    @Test func portsAnotherProgramHoldsArePassedOver() async throws {
        let daemon = try TgtDaemon()
        let range = testPortRange()
        let instances = makeInstances(daemon, ports: range)
        let file = try TemporaryFile(size: 64 << 20, name: "im-replica-ports")
        let disk = try await readyDisk(instances, name: "disk1", file: file)
        let held = try TCPSocket.listen(host: "127.0.0.1", port: UInt16(range.lowerBound))
        defer { close(held) }
        let replica = try await instances.replicaCreate(
            name: "vol-r-1", lvsName: "disk1", lvsUUID: disk.uuid, specSize: 4 << 20, portCount: 1)
        #expect(replica.state == .running && replica.portStart == range.lowerBound + 1, "\(replica.errorMsg)")
        let held2 = try TCPSocket.listen(host: "127.0.0.1", port: UInt16(range.lowerBound + 2))
        defer { close(held2) }
        let endpoint = try await nbdEngine(
            instances, replicas: ["vol-r-1": "127.0.0.1:\(replica.portStart)"], size: 4 << 20)
        #expect(endpoint.contains(":\(range.lowerBound + 3)/"), "\(endpoint)")
        #expect(try fio(endpoint).status == 0)
        try await instances.engineDelete(name: "vol-e-0")
        await instances.stop()
    }

    /// The V2 port range running out is a clear ResourceExhausted for a replica, and an engine
    /// that cannot get its frontend's port is an error saying so; nothing is left half made.
    @Test func runningOutOfV2PortsIsAClearError() async throws {
        let daemon = try TgtDaemon()
        let range = testPortRange()
        let instances = makeInstances(daemon, ports: range.lowerBound...(range.lowerBound + 1))
        let file = try TemporaryFile(size: 64 << 20, name: "im-replica-no-ports")
        let disk = try await readyDisk(instances, name: "disk1", file: file)
        let first = try await instances.replicaCreate(
            name: "vol-r-1", lvsName: "disk1", lvsUUID: disk.uuid, specSize: 4 << 20, portCount: 1)
        #expect(first.state == .running, "\(first.errorMsg)")
        do {
            _ = try await instances.replicaCreate(
                name: "vol-r-2", lvsName: "disk1", lvsUUID: disk.uuid, specSize: 4 << 20, portCount: 2)
            Issue.record("a replica was given 2 ports from a range with 1 free")
        } catch {
            #expect(error.code == .resourceExhausted && error.message.contains("cannot allocate 2 consecutive ports"), "\(error)")
        }
        #expect(await instances.replicaList()["vol-r-2"] == nil)
        _ = try await instances.replicaCreate(
            name: "vol-r-3", lvsName: "disk1", lvsUUID: disk.uuid, specSize: 4 << 20, portCount: 1)
        let engine = try await instances.engineCreate(
            name: "vol-e-0", volumeName: "vol", specSize: 4 << 20,
            replicaAddressMap: ["vol-r-1": "127.0.0.1:\(first.portStart)"], frontend: "nbd")
        #expect(engine.state == .error && engine.errorMsg.contains("cannot allocate 1 consecutive ports"), "\(engine.errorMsg)")
        // The failed build gave the local replica back: exposed again on its port.
        #expect(try exposedPort(daemon, "vol-r-1") == Int(first.portStart))
        try await instances.engineDelete(name: "vol-e-0")
        await instances.stop()
    }

    @Test func createStopStartDeleteKeepsDataAcrossStop() async throws {
        let daemon = try TgtDaemon()
        let range = testPortRange()
        let instances = makeInstances(daemon, ports: range)
        let file = try TemporaryFile(size: 64 << 20, name: "im-replica")
        let disk = try await readyDisk(instances, name: "disk1", file: file)

        let replica = try await instances.replicaCreate(
            name: "vol-r-1", lvsName: "disk1", lvsUUID: disk.uuid, specSize: (8 << 20) - 512, portCount: 5)
        #expect(replica.state == .running, "\(replica.errorMsg)")
        #expect(range.contains(Int(replica.portStart)) && replica.portEnd == replica.portStart + 4)
        #expect(replica.head?.specSize == 8 << 20 && replica.head?.name == "volume-head")
        #expect(replica.lvsName == "disk1" && replica.lvsUUID == disk.uuid && !replica.uuid.isEmpty)
        let subsystems = try daemon.call("nvmf_get_subsystems").get()
        #expect(String(decoding: subsystems.encoded(), as: UTF8.self).contains("\"trsvcid\":\"\(replica.portStart)\""))
        #expect(String(decoding: subsystems.encoded(), as: UTF8.self).contains("\"nqn\":\"nqn.2023-01.io.longhorn.spdk:vol-r-1\""))
        // Thin: the head lvol takes no cluster until written.
        let head = try daemon.call("bdev_get_bdevs", [("name", .string("disk1/vol-r-1"))]).get()
        #expect(head[0]?["driver_specific"]?["lvol"]?["thin_provision"] == .bool(true))
        await #expect(throws: InstanceManagerError.self) {
            try await instances.replicaCreate(
                name: "vol-r-1", lvsName: "disk1", lvsUUID: "", specSize: 8 << 20, portCount: 5)
        }

        // Data through an engine over it.
        let endpoint = try await nbdEngine(instances, replicas: ["vol-r-1": "127.0.0.1:\(replica.portStart)"])
        let written = try fio(endpoint)
        #expect(written.status == 0, "\(written.output)")
        try await instances.engineDelete(name: "vol-e-0")

        // Stop: unexposed, ports back, lvol kept.
        try await instances.replicaDelete(name: "vol-r-1", cleanupRequired: false)
        let stopped = try await instances.replicaGet(name: "vol-r-1")
        #expect(stopped.state == .stopped && stopped.portStart == 0)
        #expect(
            !String(decoding: try daemon.call("nvmf_get_subsystems").get().encoded(), as: UTF8.self).contains("vol-r-1")
        )
        #expect((try? daemon.call("bdev_get_bdevs", [("name", .string("disk1/vol-r-1"))]).get()) != nil)

        // Start again, bigger: the lvol is reused and grown, the data is there.
        let started = try await instances.replicaCreate(
            name: "vol-r-1", lvsName: "disk1", lvsUUID: disk.uuid, specSize: 10 << 20, portCount: 5)
        #expect(started.state == .running && started.head?.specSize == 10 << 20 && started.uuid == replica.uuid)
        let again = try await nbdEngine(instances, replicas: ["vol-r-1": "127.0.0.1:\(started.portStart)"])
        let verified = try fio(again, verifyOnly: true)
        #expect(verified.status == 0, "\(verified.output)")
        try await instances.engineDelete(name: "vol-e-0")

        // Every replica is listed as a replica instance of the disk.
        let listed = try await instances.diskReplicaInstanceList(diskName: "disk1")
        #expect(listed["vol-r-1"]?.diskName == "disk1" && listed["vol-r-1"]?.specSize == 10 << 20)

        // Delete with cleanup: the lvol goes and the replica is forgotten.
        try await instances.diskReplicaInstanceDelete(diskName: "disk1", diskUUID: disk.uuid, instanceName: "vol-r-1")
        await #expect(throws: InstanceManagerError.notFound("replica vol-r-1")) {
            try await instances.replicaGet(name: "vol-r-1")
        }
        #expect(try daemon.call("bdev_lvol_get_lvols").get() == .array([]))
        await instances.stop()
    }

    @Test func badReplicaRequestsChangeNothing() async throws {
        let daemon = try TgtDaemon()
        let instances = makeInstances(daemon, ports: testPortRange())
        let file = try TemporaryFile(size: 32 << 20, name: "im-badreplica")
        let disk = try await readyDisk(instances, name: "disk1", file: file)
        let bad: [(String, UInt64, Int32)] = [
            ("", 1 << 20, 1), ("r", 0, 1), ("r", 1000, 1), ("r", 1 << 20, 0), ("r-snap-x", 1 << 20, 1),
        ]
        for (name, size, ports) in bad {
            await #expect(throws: InstanceManagerError.self) {
                try await instances.replicaCreate(
                    name: name, lvsName: "disk1", lvsUUID: disk.uuid, specSize: size, portCount: ports)
            }
        }
        do {
            _ = try await instances.replicaCreate(
                name: "r", lvsName: "nodisk", lvsUUID: "", specSize: 1 << 20, portCount: 1)
            Issue.record("an unknown lvstore was accepted")
        } catch {
            #expect(error.code == .notFound && error.message.contains("cannot find"))
        }
        #expect(await instances.replicaList().isEmpty)
        #expect(try daemon.call("bdev_lvol_get_lvols").get() == .array([]))
        for call in [
            { try await instances.replicaGet(name: "nothing") as Any },
            { try await instances.replicaDelete(name: "nothing", cleanupRequired: true) as Any },
            { try await instances.engineGet(name: "nothing") as Any },
            { try await instances.engineDelete(name: "nothing") as Any },
            { try await instances.diskGet(name: "nothing") as Any },
        ] as [() async throws -> Any] {
            do {
                _ = try await call()
                Issue.record("an unknown name was found")
            } catch let error as InstanceManagerError {
                #expect(error.code == .notFound && error.message.contains("cannot find"))
            }
        }
    }
}

/// An engine "vol-e-0" of volume "vol" over `replicas` with the NBD frontend; its endpoint.
func nbdEngine(_ instances: V2Instances, replicas: [String: String], size: UInt64 = 8 << 20) async throws -> String {
    let engine = try await instances.engineCreate(
        name: "vol-e-0", volumeName: "vol", specSize: size, replicaAddressMap: replicas, frontend: "nbd")
    #expect(engine.state == .running, "\(engine.errorMsg)")
    #expect(engine.endpoint == "nbd://127.0.0.1:\(engine.port)/vol")
    return engine.endpoint
}
