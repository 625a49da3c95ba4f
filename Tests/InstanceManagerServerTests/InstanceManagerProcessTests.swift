// `hornbill instance-manager` as Longhorn's manager drives it: real instance-manager and tgt
// processes, the generated gRPC clients over loopback sockets, data checked with fio over NBD.

import Foundation
import GRPCCore
import Glibc
import InstanceManagerAPI
import Synchronization
import SwiftProtobuf
import TestSupport
import Testing

private let diskSize = 64 << 20
private let volumeSize: UInt64 = 8 << 20

/// A node: a tgt, an instance manager on it, and a ready disk "disk-1" on a sparse file.
private struct Node {
    let tgt: Tgt
    let manager: ManagerProcess
    let diskUUID: String

    init(_ scratch: ScratchSpace, name: String) async throws {
        tgt = try Tgt(scratch, name: "\(name)-tgt")
        manager = try ManagerProcess(scratch, name: "\(name)-im", tgt: tgt)
        let path = try scratch.file("\(name)-disk.img", size: diskSize)
        diskUUID = try await withServices(manager) { _, disks in
            _ = try await disks.diskCreate(Requests.diskCreate("disk-1", path: path))
            let disk = try await eventually("disk ready") { () async throws -> Imrpc_Disk? in
                let disk = try await disks.diskGet(Requests.diskGet("disk-1"))
                return disk.state == "ready" ? disk : nil
            }
            return disk.uuid
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(3))) struct InstanceManagerProcessTests {
    @Test func diskLifecycleAsTheManagerDrivesIt() async throws {
        let scratch = try ScratchSpace()
        let tgt = try Tgt(scratch, name: "tgt")
        let manager = try ManagerProcess(scratch, name: "im", tgt: tgt)
        let path = try scratch.file("disk.img", size: diskSize)
        try await withServices(manager) { instances, disks in
            let missing = await rpcError { _ = try await disks.diskGet(Requests.diskGet("disk-1")) }
            #expect(missing?.code == .notFound && missing?.message.contains("cannot find") == true)
            let filesystem = await rpcError { _ = try await disks.diskGet(Requests.diskGet("disk-1", type: .filesystem)) }
            #expect(filesystem?.code == .unimplemented)
            let noName = await rpcError { _ = try await disks.diskCreate(Requests.diskCreate("", path: path)) }
            #expect(noName?.code == .invalidArgument)

            let created = try await disks.diskCreate(Requests.diskCreate("disk-1", path: path))
            #expect(created.state == "creating" || created.state == "ready")
            let ready = try await eventually("disk ready") { () async throws -> Imrpc_Disk? in
                let disk = try await disks.diskGet(Requests.diskGet("disk-1"))
                return disk.state == "ready" ? disk : nil
            }
            #expect(ready.type == "block" && ready.driver == "aio" && !ready.uuid.isEmpty)
            #expect(ready.totalSize > 0 && ready.freeSize <= ready.totalSize && ready.clusterSize == 1 << 20)
            let again = try await disks.diskCreate(Requests.diskCreate("disk-1", path: path))
            #expect(again.uuid == ready.uuid && again.state == "ready")
            let health = await rpcError { _ = try await disks.diskHealthGet(.with { $0.diskType = .block; $0.diskName = "disk-1" }) }
            #expect(health?.code == .unimplemented)
            let version = try await disks.versionGet(Google_Protobuf_Empty())
            #expect(version.instanceManagerDiskServiceApiversion == 1)

            _ = try await instances.instanceCreate(
                Requests.replica("r-orphan", disk: "disk-1", diskUUID: ready.uuid, size: volumeSize))
            var list = Imrpc_DiskReplicaInstanceListRequest()
            list.diskType = .block
            list.diskName = "disk-1"
            let listed = try await disks.diskReplicaInstanceList(list)
            #expect(listed.replicaInstances["r-orphan"]?.diskUuid == ready.uuid)
            #expect(listed.replicaInstances["r-orphan"]?.specSize == volumeSize)

            var delete = Imrpc_DiskReplicaInstanceDeleteRequest()
            delete.diskType = .block
            delete.diskName = "disk-1"
            delete.diskUuid = ready.uuid
            let incomplete = await rpcError { _ = try await disks.diskReplicaInstanceDelete(delete) }
            #expect(incomplete?.code == .invalidArgument)
            delete.replciaInstanceName = "r-orphan"
            _ = try await disks.diskReplicaInstanceDelete(delete)
            #expect(try await disks.diskReplicaInstanceList(list).replicaInstances.isEmpty)
            let gone = await rpcError { _ = try await instances.instanceGet(Requests.get("r-orphan", type: "replica")) }
            #expect(gone?.code == .notFound && gone?.message.contains("cannot find") == true)

            var deleteDisk = Imrpc_DiskDeleteRequest()
            deleteDisk.diskType = .block
            deleteDisk.diskName = "disk-1"
            deleteDisk.diskUuid = ready.uuid
            _ = try await disks.diskDelete(deleteDisk)
            let deleted = await rpcError { _ = try await disks.diskGet(Requests.diskGet("disk-1")) }
            #expect(deleted?.code == .notFound)
        }
        #expect(manager.daemon.stop(SIGTERM) == 0, "\(manager.daemon.log)")
    }

    @Test func replicaStopStartKeepsDataAndWatchesSeeChanges() async throws {
        let scratch = try ScratchSpace()
        let node = try await Node(scratch, name: "a")
        try await withServices(node.manager) { instances, _ in
            // Two streams at once: both are told of a change; the second then goes away, and the
            // first is told of the next changes still.
            let notifications = Counter()
            let secondNotifications = Counter()
            let watch = Task {
                try await instances.instanceWatch(Google_Protobuf_Empty()) { response in
                    for try await _ in response.messages { notifications.increment() }
                }
            }
            defer { watch.cancel() }
            let secondWatch = Task {
                try await instances.instanceWatch(Google_Protobuf_Empty()) { response in
                    for try await _ in response.messages { secondNotifications.increment() }
                }
            }
            defer { secondWatch.cancel() }
            try await Task.sleep(for: .milliseconds(300))
            let beforeCreate = notifications.count
            let secondBeforeCreate = secondNotifications.count

            let replica = try await instances.instanceCreate(
                Requests.replica("r-1", disk: "disk-1", diskUUID: node.diskUUID, size: volumeSize))
            #expect(replica.status.state == "running" && replica.spec.type == "replica" && replica.spec.dataEngine == .v2)
            #expect(replica.status.portEnd - replica.status.portStart == 4)
            _ = try await eventually("a notification of the create") {
                notifications.count > beforeCreate ? true : nil
            }
            _ = try await eventually("a notification of the create on the second stream") {
                secondNotifications.count > secondBeforeCreate ? true : nil
            }
            secondWatch.cancel()
            _ = await secondWatch.result
            let beforeEngine = notifications.count
            let address = "127.0.0.1:\(replica.status.portStart)"

            let engine = try await instances.instanceCreate(
                Requests.engine("vol-e-0", volume: "vol", size: volumeSize, replicas: ["r-1": address], frontend: "nbd"))
            #expect(engine.status.state == "running" && engine.status.portStart == engine.status.portEnd)
            #expect(engine.status.endpoint.hasPrefix("nbd://"))
            let written = try await fio(engine.status.endpoint)
            #expect(written.status == 0, "\(written.output)")
            _ = try await eventually("a notification of the engine on the stream left") {
                notifications.count > beforeEngine ? true : nil
            }
            let deletedEngine = try await instances.instanceDelete(Requests.delete("vol-e-0", type: "engine"))
            #expect(deletedEngine.deleted && deletedEngine.status.state == "stopped")

            // Stop (cleanup false): listed as stopped, no ports; start again: the data is there.
            let stopped = try await instances.instanceDelete(Requests.delete("r-1", type: "replica", cleanup: false))
            #expect(stopped.deleted && stopped.status.state == "stopped")
            let afterStop = try await instances.instanceGet(Requests.get("r-1", type: "replica"))
            #expect(afterStop.status.state == "stopped" && afterStop.status.portStart == 0)
            let restarted = try await instances.instanceCreate(
                Requests.replica("r-1", disk: "disk-1", diskUUID: node.diskUUID, size: volumeSize))
            #expect(restarted.status.state == "running")
            let again = try await instances.instanceCreate(
                Requests.engine(
                    "vol-e-1", volume: "vol", size: volumeSize,
                    replicas: ["r-1": "127.0.0.1:\(restarted.status.portStart)"], frontend: "nbd"))
            let verified = try await fio(again.status.endpoint, verifyOnly: true)
            #expect(verified.status == 0, "\(verified.output)")
            let listed = try await instances.instanceList(Google_Protobuf_Empty())
            #expect(Set(listed.instances.keys) == ["r-1", "vol-e-1"])
            _ = try await instances.instanceDelete(Requests.delete("vol-e-1", type: "engine"))

            try await Task.sleep(for: .milliseconds(300))
            let beforeDelete = notifications.count
            let deleted = try await instances.instanceDelete(Requests.delete("r-1", type: "replica", cleanup: true))
            #expect(deleted.deleted)
            _ = try await eventually("a notification of the delete") {
                notifications.count > beforeDelete ? true : nil
            }
            #expect(try await instances.instanceList(Google_Protobuf_Empty()).instances.isEmpty)

            // Log settings reach the tgt.
            var setLevel = Imrpc_LogSetLevelRequest()
            setLevel.dataEngine = .v2
            setLevel.level = "DEBUG"
            _ = try await instances.logSetLevel(setLevel)
            #expect(try await instances.logGetLevel(.with { $0.dataEngine = .v2 }).level == "DEBUG")
            var setFlags = Imrpc_LogSetFlagsRequest()
            setFlags.dataEngine = .v2
            setFlags.flags = "lvol,bdev_raid"
            _ = try await instances.logSetFlags(setFlags)
            let flags = try await instances.logGetFlags(.with { $0.dataEngine = .v2 }).flags.split(separator: ",")
            #expect(flags.contains("lvol") && flags.contains("bdev_raid"))
            setLevel.level = "LOUD"
            let badLevel = await rpcError { _ = try await instances.logSetLevel(setLevel) }
            #expect(badLevel?.code == .internalError)
        }
    }

    @Test func engineOverTwoNodesServesNBDAndNVMf() async throws {
        let scratch = try ScratchSpace()
        let local = try await Node(scratch, name: "a")
        let remote = try await Node(scratch, name: "b")
        let localReplica = try await withServices(local.manager) { instances, _ in
            try await instances.instanceCreate(
                Requests.replica("r-a", disk: "disk-1", diskUUID: local.diskUUID, size: volumeSize))
        }
        let remoteReplica = try await withServices(remote.manager) { instances, _ in
            try await instances.instanceCreate(
                Requests.replica("r-b", disk: "disk-1", diskUUID: remote.diskUUID, size: volumeSize))
        }
        let replicas = [
            "r-a": "127.0.0.1:\(localReplica.status.portStart)", "r-b": "127.0.0.1:\(remoteReplica.status.portStart)",
        ]
        try await withServices(local.manager) { instances, _ in
            let engine = try await instances.instanceCreate(
                Requests.engine("vol-e-0", volume: "vol", size: volumeSize, replicas: replicas, frontend: "nbd"))
            #expect(engine.status.state == "running", "\(engine.status.errorMsg)")
            #expect(engine.spec.spdkInstanceSpec.replicaAddressMap == replicas)
            let written = try await fio(engine.status.endpoint)
            #expect(written.status == 0, "\(written.output)")
            _ = try await instances.instanceDelete(Requests.delete("vol-e-0", type: "engine"))

            let nvmf = try await instances.instanceCreate(
                Requests.engine("vol-e-1", volume: "vol", size: volumeSize, replicas: replicas, frontend: "spdk-tcp-nvmf"))
            #expect(nvmf.status.state == "running", "\(nvmf.status.errorMsg)")
            #expect(nvmf.status.endpoint == "nvmf://127.0.0.1:\(nvmf.status.portStart)/nqn.2023-01.io.longhorn.spdk:volume-vol")
            let discovered = try await runTool([
                hornbillPath(), "nvme", "discover", "-a", "127.0.0.1", "-s", String(nvmf.status.portStart),
            ])
            #expect(discovered.status == 0 && discovered.output.contains("nqn.2023-01.io.longhorn.spdk:volume-vol"),
                    "\(discovered.output)")
            _ = try await instances.instanceDelete(Requests.delete("vol-e-1", type: "engine"))
        }
    }

    @Test func aV1EngineOfReplicaAndControllerProcesses() async throws {
        let scratch = try ScratchSpace()
        let tgt = try Tgt(scratch, name: "tgt")
        let manager = try ManagerProcess(scratch, name: "im", tgt: tgt)
        let size = String(16 << 20)
        try await withServices(manager) { instances, _ in
            var replicaPorts: [Int32] = []
            for index in 1...2 {
                let created = try await instances.instanceCreate(
                    Requests.process(
                        "vol-r-\(index)", type: "replica", binary: hornbillPath(),
                        args: ["replica", "\(scratch.path)/replica-\(index)", "--size", size]))
                #expect(created.spec.dataEngine == .v1 && created.spec.type == "replica")
                let running = try await eventually("replica \(index) running") { () async throws -> Imrpc_InstanceResponse? in
                    let got = try await instances.instanceGet(Requests.get("vol-r-\(index)", type: "replica", engine: .v1))
                    return got.status.state == "running" ? got : nil
                }
                replicaPorts.append(running.status.portStart)
            }
            var args = ["controller", "vol", "--size", size, "--frontend", "nbd", "--status-socket", "\(scratch.path)/vol.sock"]
            for port in replicaPorts { args += ["--replica", "tcp://127.0.0.1:\(port)"] }
            _ = try await instances.instanceCreate(
                Requests.process("vol-e-0", type: "engine", binary: hornbillPath(), args: args))
            let engine = try await eventually("controller running") { () async throws -> Imrpc_InstanceResponse? in
                let got = try await instances.instanceGet(Requests.get("vol-e-0", type: "engine", engine: .v1))
                return got.status.state == "running" ? got : nil
            }
            let uri = "nbd://127.0.0.1:\(engine.status.portStart)/vol"
            let written = try await fio(uri)
            #expect(written.status == 0, "\(written.output)")
            let verified = try await fio(uri, verifyOnly: true)
            #expect(verified.status == 0, "\(verified.output)")

            var logRequest = Imrpc_InstanceLogRequest()
            logRequest.name = "vol-e-0"
            logRequest.dataEngine = .v1
            let logged = try await instances.instanceLog(logRequest) { response in
                var lines: [String] = []
                for try await message in response.messages {
                    lines.append(message.line)
                    if message.line.contains("serving nbd://") { break }
                }
                return lines
            }
            #expect(logged.contains { $0.contains("serving nbd://127.0.0.1:\(engine.status.portStart)/vol") })
            logRequest.dataEngine = .v2
            let v2Request = logRequest
            let v2Log = await rpcError {
                try await instances.instanceLog(v2Request) { response in for try await _ in response.messages {} }
            }
            #expect(v2Log?.code == .unimplemented)

            let listed = try await instances.instanceList(Google_Protobuf_Empty())
            #expect(listed.instances["vol-e-0"]?.spec.type == "engine")
            #expect(listed.instances["vol-r-1"]?.spec.processInstanceSpec.binary == hornbillPath())
            for name in ["vol-e-0", "vol-r-1", "vol-r-2"] {
                let deleted = try await instances.instanceDelete(
                    Requests.delete(name, type: name.contains("-e-") ? "engine" : "replica", engine: .v1))
                #expect(deleted.deleted)
            }
        }
        #expect(manager.daemon.stop(SIGTERM) == 0, "\(manager.daemon.log)")
    }

    /// The same V1 engine through ProcessManagerService, as Longhorn's older managers drive V1:
    /// two `hornbill replica` processes and a `controller` over them, written and read back
    /// through its NBD frontend, then deleted.
    @Test func aV1EngineThroughTheProcessManager() async throws {
        let scratch = try ScratchSpace()
        let tgt = try Tgt(scratch, name: "tgt")
        let manager = try ManagerProcess(scratch, name: "im", tgt: tgt)
        let size = String(16 << 20)
        try await withClient(port: manager.basePort) { client in
            let processes = ProcessManagerService.Client(wrapping: client)
            func create(_ name: String, _ args: [String]) async throws -> ProcessResponse {
                var request = ProcessCreateRequest()
                request.spec.name = name
                request.spec.binary = hornbillPath()
                request.spec.args = args
                request.spec.portCount = 1
                request.spec.portArgs = ["--listen,127.0.0.1:"]
                _ = try await processes.processCreate(request)
                var get = ProcessGetRequest()
                get.name = name
                return try await eventually("\(name) running") { () async throws -> ProcessResponse? in
                    let got = try await processes.processGet(get)
                    return got.status.state == "running" ? got : nil
                }
            }
            var controllerArgs = [
                "controller", "vol", "--size", size, "--frontend", "nbd", "--status-socket", "\(scratch.path)/vol.sock",
            ]
            for index in 1...2 {
                let replica = try await create(
                    "vol-r-\(index)", ["replica", "\(scratch.path)/replica-\(index)", "--size", size])
                controllerArgs += ["--replica", "tcp://127.0.0.1:\(replica.status.portStart)"]
            }
            let controller = try await create("vol-e-0", controllerArgs)
            let uri = "nbd://127.0.0.1:\(controller.status.portStart)/vol"
            let written = try await fio(uri)
            #expect(written.status == 0, "\(written.output)")
            let verified = try await fio(uri, verifyOnly: true)
            #expect(verified.status == 0, "\(verified.output)")
            #expect(try await processes.processList(ProcessListRequest()).processes.keys.sorted() == ["vol-e-0", "vol-r-1", "vol-r-2"])
            for name in ["vol-e-0", "vol-r-1", "vol-r-2"] {
                var delete = ProcessDeleteRequest()
                delete.name = name
                #expect(try await processes.processDelete(delete).deleted)
            }
        }
        #expect(manager.daemon.stop(SIGTERM) == 0, "\(manager.daemon.log)")
    }

    @Test func badRequestsGetTheirStatusAndChangeNothing() async throws {
        let scratch = try ScratchSpace()
        let node = try await Node(scratch, name: "a")
        try await withServices(node.manager) { instances, _ in
            func code(_ request: Imrpc_InstanceCreateRequest) async -> RPCError.Code? {
                await rpcError { _ = try await instances.instanceCreate(request) }?.code
            }
            let good = Requests.replica("r-1", disk: "disk-1", diskUUID: node.diskUUID, size: volumeSize)
            var request = good
            request.spec.name = ""
            #expect(await code(request) == .invalidArgument)
            request = good
            request.spec.dataEngine = .UNRECOGNIZED(7)
            #expect(await code(request) == .invalidArgument)
            request = good
            request.spec.type = "shard"
            #expect(await code(request) == .invalidArgument)
            request = good
            request.spec.spdkInstanceSpec.size = 1000
            #expect(await code(request) == .invalidArgument)
            request = good
            request.spec.spdkInstanceSpec.diskName = "disk-9"
            request.spec.spdkInstanceSpec.diskUuid = ""
            #expect(await code(request) == .notFound)
            #expect(await code(Requests.engine("e", volume: "v", size: volumeSize, replicas: [:], frontend: "nbd")) == .invalidArgument)
            #expect(await code(Requests.engine("e", volume: "v", size: volumeSize, replicas: ["r": "x"], frontend: "nbd")) == .invalidArgument)
            #expect(await code(Requests.engine("e", volume: "v", size: volumeSize, replicas: ["r": "127.0.0.1:1"], frontend: "iscsi")) == .invalidArgument)
            var v1 = Requests.process("p", type: "engine", binary: "/nonexistent/binary", args: [])
            v1.spec.clearProcessInstanceSpec()
            #expect(await code(v1) == .invalidArgument)
            #expect(try await instances.instanceList(Google_Protobuf_Empty()).instances.isEmpty)

            let missing = await rpcError { _ = try await instances.instanceGet(Requests.get("nothing", type: "engine")) }
            #expect(missing?.code == .notFound && missing?.message.contains("cannot find") == true)
            let missingV1 = await rpcError { _ = try await instances.instanceDelete(Requests.delete("nothing", type: "engine", engine: .v1)) }
            #expect(missingV1?.code == .notFound && missingV1?.message.contains("cannot find") == true)
            var replace = Imrpc_InstanceReplaceRequest()
            replace.spec = good.spec
            let replaced = await rpcError { _ = try await instances.instanceReplace(replace) }
            #expect(replaced?.code == .unimplemented)
            let suspendReplica = await rpcError {
                _ = try await instances.instanceSuspend(.with { $0.dataEngine = .v2; $0.name = "r-1"; $0.type = "replica" })
            }
            #expect(suspendReplica?.code == .invalidArgument)
            let suspendEngine = await rpcError {
                _ = try await instances.instanceSuspend(.with { $0.dataEngine = .v2; $0.name = "e"; $0.type = "engine" })
            }
            #expect(suspendEngine?.code == .unimplemented)
            let switchOver = await rpcError {
                _ = try await instances.instanceSwitchOverTarget(.with { $0.dataEngine = .v2; $0.name = "e"; $0.type = "engine" })
            }
            #expect(switchOver?.code == .unimplemented)
            let version = try await instances.versionGet(Google_Protobuf_Empty())
            #expect(version.instanceManagerApiversion == 7 && version.instanceManagerApiminVersion == 1)
        }
    }

    @Test func replicasAndDataSurviveAnInstanceManagerKillAndATgtRestart() async throws {
        let scratch = try ScratchSpace()
        let node = try await Node(scratch, name: "a")
        let endpoint = try await withServices(node.manager) { instances, _ in
            let replica = try await instances.instanceCreate(
                Requests.replica("r-1", disk: "disk-1", diskUUID: node.diskUUID, size: volumeSize))
            let engine = try await instances.instanceCreate(
                Requests.engine(
                    "vol-e-0", volume: "vol", size: volumeSize,
                    replicas: ["r-1": "127.0.0.1:\(replica.status.portStart)"], frontend: "nbd"))
            let written = try await fio(engine.status.endpoint)
            #expect(written.status == 0, "\(written.output)")
            return engine.status.endpoint
        }

        // kill -9 of the instance manager: the tgt kept everything; the new one finds it.
        try node.manager.restart()
        try await withServices(node.manager) { instances, disks in
            let disk = try await disks.diskGet(Requests.diskGet("disk-1"))
            #expect(disk.state == "ready" && disk.uuid == node.diskUUID)
            let listed = try await instances.instanceList(Google_Protobuf_Empty()).instances
            #expect(listed["r-1"]?.status.state == "running")
            #expect(listed["vol-e-0"] != nil)
            let verified = try await fio(endpoint, verifyOnly: true)
            #expect(verified.status == 0, "\(verified.output)")
        }

        // A tgt restart: the disk and replica are loaded again, the engine is reported, as error.
        try node.tgt.restart()
        try await withServices(node.manager) { instances, disks in
            let engine = try await eventually("engine reported error") { () async throws -> Imrpc_InstanceResponse? in
                let engine = try await instances.instanceGet(Requests.get("vol-e-0", type: "engine"))
                return engine.status.state == "error" ? engine : nil
            }
            #expect(engine.spec.name == "vol-e-0")
            let replica = try await eventually("replica running again") { () async throws -> Imrpc_InstanceResponse? in
                let replica = try await instances.instanceGet(Requests.get("r-1", type: "replica"))
                return replica.status.state == "running" ? replica : nil
            }
            let disk = try await disks.diskGet(Requests.diskGet("disk-1"))
            #expect(disk.state == "ready" && disk.uuid == node.diskUUID)
            _ = try await instances.instanceDelete(Requests.delete("vol-e-0", type: "engine"))
            let again = try await instances.instanceCreate(
                Requests.engine(
                    "vol-e-1", volume: "vol", size: volumeSize,
                    replicas: ["r-1": "127.0.0.1:\(replica.status.portStart)"], frontend: "nbd"))
            #expect(again.status.state == "running", "\(again.status.errorMsg)")
            let verified = try await fio(again.status.endpoint, verifyOnly: true)
            #expect(verified.status == 0, "\(verified.output)")
        }
    }

    @Test func v1ProcessesLeftByAKilledInstanceManagerAreStoppedByTheNextOne() async throws {
        let scratch = try ScratchSpace()
        let tgt = try Tgt(scratch, name: "tgt")
        let manager = try ManagerProcess(scratch, name: "im", tgt: tgt)
        let pid = try await withServices(manager) { instances, _ in
            _ = try await instances.instanceCreate(
                Requests.process(
                    "vol-r-1", type: "replica", binary: hornbillPath(),
                    args: ["replica", "\(scratch.path)/replica", "--size", String(4 << 20)]))
            let running = try await eventually("replica running") { () async throws -> Imrpc_InstanceResponse? in
                let got = try await instances.instanceGet(Requests.get("vol-r-1", type: "replica", engine: .v1))
                return got.status.state == "running" ? got : nil
            }
            let port = Int(running.status.portStart)
            return try await eventually("the process recorded") { () -> Int32? in
                let record = try String(contentsOfFile: "\(manager.dataDir)/processes", encoding: .utf8)
                return record.contains("vol-r-1") && canConnect(port: port) ? Int32(record.split(separator: " ")[0]) : nil
            }
        }
        #expect(kill(pid, 0) == 0)
        try manager.restart()
        _ = try await eventually("the leftover stopped") { () -> Bool? in
            let state = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            return state == nil || state?.contains(") Z ") == true ? true : nil
        }
        let listed = try await withServices(manager) { instances, _ in
            try await instances.instanceList(Google_Protobuf_Empty())
        }
        #expect(listed.instances.isEmpty)
    }
}
