// Rediscovery: a new V2Instances on a tgt that holds disks and replicas (an instance-manager
// restart), and a tgt restart under a running V2Instances (it forgets aio bdevs, RAIDs and
// subsystems; the lvstores come back when their files are loaded again).

import Foundation
import InstanceManager
import JSONRPC
import TestSupport
import Testing

@Suite struct V2RediscoveryTests {
    @Test func anInstanceManagerRestartFindsDisksAndReplicas() async throws {
        let daemon = try TgtDaemon()
        let range = testPortRange()
        let first = makeInstances(daemon, ports: range)
        let file = try TemporaryFile(size: 48 << 20, name: "im-rediscover")
        let disk = try await readyDisk(first, name: "disk1", file: file)
        let running = try await first.replicaCreate(
            name: "vol-r-1", lvsName: "disk1", lvsUUID: "", specSize: 4 << 20, portCount: 1)
        _ = try await first.replicaCreate(
            name: "vol-r-2", lvsName: "disk1", lvsUUID: "", specSize: 4 << 20, portCount: 1)
        try await first.replicaDelete(name: "vol-r-2", cleanupRequired: false)
        // A snapshot lvol is not a replica.
        _ = try daemon.call(
            "bdev_lvol_snapshot",
            [("lvol_name", .string("disk1/vol-r-2")), ("snapshot_name", .string("vol-r-2-snap-s1"))]
        ).get()
        let endpoint = try await nbdEngine(
            first, replicas: ["vol-r-1": "127.0.0.1:\(running.portStart)"], size: 4 << 20)
        // The engine holds the local replica's lvol: the replica is not exposed meanwhile.
        #expect(try exposedPort(daemon, "vol-r-1") == nil)
        await first.stop()

        let second = makeInstances(daemon, ports: range)
        await second.start()
        let found = try await second.diskGet(name: "disk1")
        #expect(found.state == .ready && found.uuid == disk.uuid && found.path == file.path && found.id == disk.id)
        let replicas = await second.replicaList()
        #expect(Set(replicas.keys) == ["vol-r-1", "vol-r-2"])
        #expect(replicas["vol-r-1"]?.state == .running && replicas["vol-r-1"]?.portStart == running.portStart)
        #expect(replicas["vol-r-2"]?.state == .stopped && replicas["vol-r-2"]?.snapshots.keys.sorted() == ["s1"])
        #expect(replicas["vol-r-2"]?.head?.parent == "s1")
        // The engine the tgt still holds is reported, as an error, with its port and its local
        // replica; delete tears it down and exposes the replica again on its port.
        let engine = try await second.engineGet(name: "vol-e-0")
        #expect(engine.state == .error && engine.volumeName == "vol" && engine.frontend == "nbd")
        #expect(endpoint == "nbd://127.0.0.1:\(engine.port)/vol" && engine.replicaModeMap == ["vol-r-1": .rw])
        #expect(engine.replicaAddressMap == ["vol-r-1": "127.0.0.1:\(running.portStart)"])
        try await second.engineDelete(name: "vol-e-0")
        #expect(try exposedPort(daemon, "vol-r-1") == Int(running.portStart))
        #expect(try daemon.call("nbd_export_list").get() == .array([]))
        #expect(try daemon.call("bdev_raid_get_bdevs", [("category", .string("all"))]).get() == .array([]))
        // The rediscovered replica's port is not handed out again.
        let third = try await second.replicaCreate(
            name: "vol-r-3", lvsName: "disk1", lvsUUID: "", specSize: 4 << 20, portCount: 1)
        #expect(third.state == .running && third.portStart != running.portStart)
        // A replica whose lvol vanished is dropped.
        _ = try daemon.call("nvmf_delete_subsystem", [("nqn", .string("nqn.2023-01.io.longhorn.spdk:vol-r-3"))]).get()
        _ = try daemon.call("bdev_lvol_delete", [("name", .string("disk1/vol-r-3"))]).get()
        await second.reconcile()
        #expect(await second.replicaList()["vol-r-3"] == nil)
        await second.stop()
    }

    @Test func aTgtRestartKeepsDisksAndDataAndReportsTheEngine() async throws {
        let daemon = try TgtDaemon()
        let instances = makeInstances(daemon, ports: testPortRange())
        await instances.start()
        let file = try TemporaryFile(size: 48 << 20, name: "im-tgt-restart")
        let disk = try await readyDisk(instances, name: "disk1", file: file)
        let replica = try await instances.replicaCreate(
            name: "vol-r-1", lvsName: "disk1", lvsUUID: "", specSize: 8 << 20, portCount: 1)
        let endpoint = try await nbdEngine(instances, replicas: ["vol-r-1": "127.0.0.1:\(replica.portStart)"])
        #expect(try fio(endpoint).status == 0)
        // The engine's RAID holds the local replica's lvol: the replica is not exposed meanwhile.
        #expect(try exposedPort(daemon, "vol-r-1") == nil)
        #expect(try raidBases(daemon, "vol-e-0") == [replica.uuid: true])

        try daemon.restart()
        // The engine's RAID is gone: reported as an error.
        let engine = try await instances.engineGet(name: "vol-e-0")
        #expect(engine.state == .error && engine.errorMsg.contains("gone"))
        // The reconcile loop (every 3 s) loads the disk again: its lvstore and lvols come back.
        _ = try await eventually(10) { () async throws -> JSONValue? in
            try? daemon.call("bdev_get_bdevs", [("name", .string("disk1/vol-r-1"))]).get()
        }
        let reloaded = try await instances.diskGet(name: "disk1")
        #expect(reloaded.state == .ready && reloaded.uuid == disk.uuid)
        // The reconcile exposes the replica again on its port (the tgt lost its NVMe/TCP export),
        // retrying each round until that works.
        let exposed = try await exposedAndRunning(daemon, instances, "vol-r-1")
        #expect(exposed.portStart == replica.portStart && exposed.uuid == replica.uuid)

        // Delete and create the engine: the data is there.
        try await instances.engineDelete(name: "vol-e-0")
        #expect(try exposedPort(daemon, "vol-r-1") == Int(replica.portStart))
        let again = try await nbdEngine(instances, replicas: ["vol-r-1": "127.0.0.1:\(exposed.portStart)"])
        let verified = try fio(again, verifyOnly: true)
        #expect(verified.status == 0, "\(verified.output)")
        try await instances.engineDelete(name: "vol-e-0")
        await instances.stop()
    }

    /// A stopped replica (its lvol kept, not exposed) keeps its data across an instance-manager
    /// restart and then a tgt restart: found again `stopped`, started, its data verifies.
    @Test func aStoppedReplicaKeepsItsDataAcrossRestarts() async throws {
        let range = testPortRange()
        let (daemon, first, file, replica) = try await oneReplica(file: "im-stopped-restart", ports: range)
        let endpoint = try await nbdEngine(first, replicas: ["vol-r-1": "127.0.0.1:\(replica.portStart)"])
        let written = try fio(endpoint)
        #expect(written.status == 0, "\(written.output)")
        try await first.engineDelete(name: "vol-e-0")
        try await first.replicaDelete(name: "vol-r-1", cleanupRequired: false)
        #expect(try exposedPort(daemon, "vol-r-1") == nil)
        await first.stop()

        // A new instance manager, then a tgt restart under it.
        let second = makeInstances(daemon, ports: range)
        await second.start()
        #expect(try await second.replicaGet(name: "vol-r-1").state == .stopped)
        try daemon.restart()
        _ = try await eventually(20) { () async throws -> JSONValue? in
            try? daemon.call("bdev_get_bdevs", [("name", .string("disk1/vol-r-1"))]).get()
        }
        let found = try await second.replicaGet(name: "vol-r-1")
        #expect(found.state == .stopped && found.uuid == replica.uuid)
        let started = try await second.replicaCreate(
            name: "vol-r-1", lvsName: "disk1", lvsUUID: "", specSize: 8 << 20, portCount: 1)
        #expect(started.state == .running, "\(started.errorMsg)")
        let again = try await nbdEngine(second, replicas: ["vol-r-1": "127.0.0.1:\(started.portStart)"])
        let verified = try fio(again, verifyOnly: true)
        #expect(verified.status == 0, "\(verified.output)")
        try await second.engineDelete(name: "vol-e-0")
        await second.stop()
        withExtendedLifetime(file) {}
    }

    @Test func aReplicaOutlivesTgtRestartsThatLandInTheMiddleOfAReconcileRound() async throws {
        // Rounds back to back, so that restarts fall between a round's reading of the disks and of
        // the replicas: a round must not take the restarted tgt's empty lvol list for a lost lvol.
        let (daemon, instances, file, replica) = try await oneReplica(
            file: "im-tgt-restarts", reconcileInterval: .milliseconds(5))
        await instances.start()
        for round in 0..<12 {
            try daemon.restart()
            let exposed = try await exposedAndRunning(daemon, instances, "vol-r-1")
            #expect(exposed.portStart == replica.portStart && exposed.uuid == replica.uuid, "restart \(round)")
        }
        await instances.stop()
        withExtendedLifetime(file) {}
    }

    @Test func aReplicaWhosePortIsTakenAfterATgtRestartIsErrorThenRunningAgain() async throws {
        let (daemon, instances, file, replica) = try await oneReplica(file: "im-port-taken")
        try daemon.restart()
        // Something else holds the replica's port when the tgt is asked to expose it again.
        var holder: RawListener? = try RawListener(port: UInt16(replica.portStart))
        await instances.reconcile()
        let failed = try await instances.replicaGet(name: "vol-r-1")
        #expect(failed.state == .error && failed.portStart == replica.portStart)
        #expect(failed.errorMsg.contains("exposing it again failed"))
        // The failed attempt left no subsystem behind.
        guard case .array(let subsystems) = try daemon.call("nvmf_get_subsystems").get() else {
            Issue.record("nvmf_get_subsystems is not an array")
            return
        }
        #expect(!subsystems.contains { $0["nqn"] == .string(V2Naming.nqn("vol-r-1")) })
        // Once the port is free, the next round exposes it there and it runs again.
        holder = nil
        _ = holder
        await instances.reconcile()
        let again = try await instances.replicaGet(name: "vol-r-1")
        #expect(again.state == .running && again.errorMsg.isEmpty && again.portStart == replica.portStart)
        #expect(canConnect(port: Int(replica.portStart)))
        withExtendedLifetime(file) {}
    }

    @Test func aSubsystemLeftByAnExposingThatReportedFailureIsTakenOrRemoved() async throws {
        let (daemon, instances, file, replica) = try await oneReplica(file: "im-stale-subsystem")
        let nqn = V2Naming.nqn("vol-r-1")
        func makeSubsystem(listening: Bool) throws {
            _ = try daemon.call("nvmf_create_subsystem", [("nqn", .string(nqn)), ("allow_any_host", .bool(true))]).get()
            _ = try daemon.call(
                "nvmf_subsystem_add_ns",
                [("nqn", .string(nqn)), ("namespace", .object([("bdev_name", .string(replica.uuid))]))]
            ).get()
            guard listening else { return }
            _ = try daemon.call(
                "nvmf_subsystem_add_listener",
                [
                    ("nqn", .string(nqn)),
                    (
                        "listen_address",
                        .object([
                            ("trtype", .string("TCP")), ("adrfam", .string("IPv4")), ("traddr", .string("127.0.0.1")),
                            ("trsvcid", .string(String(replica.portStart))),
                        ])
                    ),
                ]
            ).get()
        }
        func failExposing() async throws {
            try daemon.restart()
            let holder = try RawListener(port: UInt16(replica.portStart))
            await instances.reconcile()
            #expect(try await instances.replicaGet(name: "vol-r-1").state == .error)
            _ = holder
        }
        // A subsystem without the replica's listener is removed; the next round exposes the lvol.
        try await failExposing()
        try makeSubsystem(listening: false)
        await instances.reconcile()
        #expect(try exposedPort(daemon, "vol-r-1") == nil)
        #expect(try await instances.replicaGet(name: "vol-r-1").state == .error)
        await instances.reconcile()
        #expect(try await instances.replicaGet(name: "vol-r-1").state == .running)
        #expect(try exposedPort(daemon, "vol-r-1") == Int(replica.portStart))
        // A subsystem that exposes the lvol on the replica's port is the replica's: it runs.
        try await failExposing()
        try makeSubsystem(listening: true)
        await instances.reconcile()
        let taken = try await instances.replicaGet(name: "vol-r-1")
        #expect(taken.state == .running && taken.errorMsg.isEmpty && taken.portStart == replica.portStart)
        #expect(canConnect(port: Int(replica.portStart)))
        withExtendedLifetime(file) {}
    }
}

/// A tgt, a V2Instances on it (not started), a ready disk `disk1` on a 48 MiB file and a running
/// 8 MiB replica `vol-r-1`. The file must outlive the test's tgt restarts, which load it again by
/// path: the test keeps it alive to its end.
private func oneReplica(
    file name: String, ports: ClosedRange<Int> = testPortRange(), reconcileInterval: Duration = .seconds(3)
) async throws -> (TgtDaemon, V2Instances, TemporaryFile, ReplicaInfo) {
    let daemon = try TgtDaemon()
    let instances = makeInstances(daemon, ports: ports, reconcileInterval: reconcileInterval)
    let file = try TemporaryFile(size: 48 << 20, name: name)
    _ = try await readyDisk(instances, name: "disk1", file: file)
    let replica = try await instances.replicaCreate(
        name: "vol-r-1", lvsName: "disk1", lvsUUID: "", specSize: 8 << 20, portCount: 1)
    return (daemon, instances, file, replica)
}

/// Waits (up to 20 s) until the tgt exposes `name` again and the instances report it running.
private func exposedAndRunning(_ daemon: TgtDaemon, _ instances: V2Instances, _ name: String) async throws -> ReplicaInfo {
    try await eventually(20) { () async throws -> ReplicaInfo? in
        guard case .array(let subsystems)? = try? daemon.call("nvmf_get_subsystems").get(),
            subsystems.contains(where: { $0["nqn"] == .string(V2Naming.nqn(name)) }),
            let found = try? await instances.replicaGet(name: name), found.state == .running
        else { return nil }
        return found
    }
}

@Suite struct TgtClientReconnectTests {
    @Test func theAsyncClientReconnectsWhenTheTgtRestarts() async throws {
        let daemon = try TgtDaemon()
        let client = JSONRPCAsyncClient(path: daemon.socket, defaultTimeout: .seconds(5))
        #expect(try await client.call("spdk_get_version")["version"] != nil)
        try daemon.restart()
        // The call in flight when the tgt went (or the first after) may fail; the next one connects again.
        var answered = false
        for _ in 0..<3 where !answered {
            answered = (try? await client.call("spdk_get_version")) != nil
        }
        #expect(answered)
        await client.close()
    }
}
