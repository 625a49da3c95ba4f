// The SPDK service over a real `hornbill tgt`: disks, replica and engine lifecycles, watches, an
// engine's replicas, log settings, and the error and Unimplemented contracts.

import Foundation
import GRPCCore
import InstanceManager
import InstanceManagerAPI
import InstanceManagerServer
import SwiftProtobuf
import TestSupport
import Testing

/// A tgt, a V2Instances on it and a disk file, for one test.
final class V2Node: @unchecked Sendable {
    let daemon = try! TgtDaemon()
    let file = try! TemporaryFile(size: 64 << 20, name: "im-svc")
    let instances: V2Instances

    init() { instances = makeInstances(daemon, ports: testPortRange()) }

    /// Creates the disk through the service and waits until it is ready.
    func readyDisk(_ spdk: Spdkrpc_SPDKService.Client<some ClientTransport>, name: String = "disk-1") async throws
        -> Spdkrpc_Disk
    {
        var create = Spdkrpc_DiskCreateRequest()
        create.diskName = name
        create.diskPath = file.path
        create.blockSize = 512
        _ = try await spdk.diskCreate(create)
        var get = Spdkrpc_DiskGetRequest()
        get.diskName = name
        return try await eventually {
            let disk = try await spdk.diskGet(get)
            return disk.state == "creating" ? nil : disk
        }
    }

    func replica(_ spdk: Spdkrpc_SPDKService.Client<some ClientTransport>, _ name: String, disk: String = "disk-1")
        async throws -> Spdkrpc_Replica
    {
        var create = Spdkrpc_ReplicaCreateRequest()
        create.name = name
        create.lvsName = disk
        create.specSize = 8 << 20
        create.portCount = 5
        return try await spdk.replicaCreate(create)
    }
}

@Suite struct SPDKServiceTests {
    @Test func replicaAndEngineLifecycles() async throws {
        let node = V2Node()
        let service = SPDKService(instances: node.instances, build: testBuild)
        try await withServices([service]) { client in
            let spdk = Spdkrpc_SPDKService.Client(wrapping: client)
            let disk = try await node.readyDisk(spdk)
            #expect(disk.state == "ready" && disk.name == "disk-1" && disk.totalSize > 0 && !disk.uuid.isEmpty)

            let a = try await node.replica(spdk, "vol-r-a")
            let b = try await node.replica(spdk, "vol-r-b")
            #expect(a.state == "running" && a.lvsName == "disk-1" && a.specSize == 8 << 20 && a.portStart > 0)
            #expect(a.portEnd - a.portStart == 4 && a.head.name == "volume-head")
            var getReplica = Spdkrpc_ReplicaGetRequest()
            getReplica.name = "vol-r-a"
            #expect(try await spdk.replicaGet(getReplica) == a)
            #expect(try await spdk.replicaList(Google_Protobuf_Empty()).replicas.keys.sorted() == ["vol-r-a", "vol-r-b"])

            var createEngine = Spdkrpc_EngineCreateRequest()
            createEngine.name = "vol-e-0"
            createEngine.volumeName = "vol"
            createEngine.specSize = 8 << 20
            createEngine.replicaAddressMap = ["vol-r-a": "127.0.0.1:\(a.portStart)", "vol-r-b": "127.0.0.1:\(b.portStart)"]
            createEngine.frontend = "nbd"
            createEngine.portCount = 1
            let engine = try await spdk.engineCreate(createEngine)
            #expect(engine.state == "running", "\(engine.errorMsg)")
            #expect(engine.endpoint.hasPrefix("nbd://127.0.0.1:") && engine.port > 0)
            #expect(engine.replicaModeMap == ["vol-r-a": .rw, "vol-r-b": .rw])
            var getEngine = Spdkrpc_EngineGetRequest()
            getEngine.name = "vol-e-0"
            #expect(try await spdk.engineGet(getEngine).replicaAddressMap == createEngine.replicaAddressMap)
            #expect(try await spdk.engineList(Google_Protobuf_Empty()).engines.keys.sorted() == ["vol-e-0"])

            var listEngineReplicas = Spdkrpc_EngineReplicaListRequest()
            listEngineReplicas.engineName = "vol-e-0"
            let legs = try await spdk.engineReplicaList(listEngineReplicas).replicas
            #expect(legs.keys.sorted() == ["vol-r-a", "vol-r-b"] && legs["vol-r-a"] == a)

            var removeLeg = Spdkrpc_EngineReplicaDeleteRequest()
            removeLeg.engineName = "vol-e-0"
            removeLeg.replicaName = "vol-r-b"
            _ = try await spdk.engineReplicaDelete(removeLeg)
            #expect(try await spdk.engineGet(getEngine).replicaModeMap == ["vol-r-a": .rw])
            var addLeg = Spdkrpc_EngineReplicaAddRequest()
            addLeg.engineName = "vol-e-0"
            addLeg.replicaName = "vol-r-b"
            addLeg.replicaAddress = "127.0.0.1:\(b.portStart)"
            _ = try await spdk.engineReplicaAdd(addLeg)
            #expect(try await spdk.engineGet(getEngine).replicaModeMap == ["vol-r-a": .rw, "vol-r-b": .rw])

            var deleteEngine = Spdkrpc_EngineDeleteRequest()
            deleteEngine.name = "vol-e-0"
            _ = try await spdk.engineDelete(deleteEngine)
            let engineGone = await rpcError { _ = try await spdk.engineGet(getEngine) }
            #expect(engineGone?.code == .notFound && engineGone?.message.contains("cannot find") == true)

            for name in ["vol-r-a", "vol-r-b"] {
                var delete = Spdkrpc_ReplicaDeleteRequest()
                delete.name = name
                delete.cleanupRequired = true
                _ = try await spdk.replicaDelete(delete)
            }
            #expect(try await spdk.replicaList(Google_Protobuf_Empty()).replicas.isEmpty)
            var deleteDisk = Spdkrpc_DiskDeleteRequest()
            deleteDisk.diskName = "disk-1"
            _ = try await spdk.diskDelete(deleteDisk)
        }
        await node.instances.stop()
    }

    @Test func watchesSendAnEmptyOnChanges() async throws {
        let node = V2Node()
        let service = SPDKService(instances: node.instances, build: testBuild)
        try await withServices([service]) { client in
            let spdk = Spdkrpc_SPDKService.Client(wrapping: client)
            _ = try await node.readyDisk(spdk)
            let creator = Task {
                try await Task.sleep(for: .milliseconds(300))
                _ = try await node.replica(spdk, "vol-r-w")
            }
            let replicaEvents = try await spdk.replicaWatch(Google_Protobuf_Empty()) { response in
                var count = 0
                for try await _ in response.messages {
                    count += 1
                    break
                }
                try await creator.value
                return count
            }
            #expect(replicaEvents == 1)
            let deleter = Task {
                try await Task.sleep(for: .milliseconds(300))
                var delete = Spdkrpc_ReplicaDeleteRequest()
                delete.name = "vol-r-w"
                delete.cleanupRequired = true
                _ = try await spdk.replicaDelete(delete)
            }
            let engineEvents = try await spdk.engineWatch(Google_Protobuf_Empty()) { response in
                var count = 0
                for try await _ in response.messages {
                    count += 1
                    break
                }
                try await deleter.value
                return count
            }
            #expect(engineEvents == 1)
        }
        await node.instances.stop()
    }

    @Test func errorsLogSettingsVersionAndUnimplemented() async throws {
        let node = V2Node()
        let service = SPDKService(instances: node.instances, build: testBuild)
        try await withServices([service]) { client in
            let spdk = Spdkrpc_SPDKService.Client(wrapping: client)
            var getReplica = Spdkrpc_ReplicaGetRequest()
            getReplica.name = "vol-r-none"
            let missing = await rpcError { _ = try await spdk.replicaGet(getReplica) }
            #expect(missing?.code == .notFound && missing?.message.contains("cannot find") == true)
            var getDisk = Spdkrpc_DiskGetRequest()
            getDisk.diskName = "disk-none"
            #expect(await rpcError { _ = try await spdk.diskGet(getDisk) }?.code == .notFound)

            _ = try await node.readyDisk(spdk)
            var badSize = Spdkrpc_ReplicaCreateRequest()
            badSize.name = "vol-r-bad"
            badSize.lvsName = "disk-1"
            badSize.specSize = 1000
            badSize.portCount = 5
            #expect(await rpcError { _ = try await spdk.replicaCreate(badSize) }?.code == .invalidArgument)
            var badEngine = Spdkrpc_EngineCreateRequest()
            badEngine.name = "vol-e-bad"
            badEngine.volumeName = "vol"
            badEngine.specSize = 8 << 20
            badEngine.replicaAddressMap = ["vol-r-a": "no port here"]
            #expect(await rpcError { _ = try await spdk.engineCreate(badEngine) }?.code == .invalidArgument)
            var badDriver = Spdkrpc_DiskCreateRequest()
            badDriver.diskName = "disk-2"
            badDriver.diskPath = node.file.path
            badDriver.diskDriver = "nvme"
            #expect(await rpcError { _ = try await spdk.diskCreate(badDriver) }?.code == .invalidArgument)
            // Nothing was created by the bad requests.
            #expect(try await spdk.replicaList(Google_Protobuf_Empty()).replicas.isEmpty)
            #expect(try await spdk.engineList(Google_Protobuf_Empty()).engines.isEmpty)

            var level = Spdkrpc_LogSetLevelRequest()
            level.level = "DEBUG"
            _ = try await spdk.logSetLevel(level)
            #expect(try await spdk.logGetLevel(Google_Protobuf_Empty()).level == "DEBUG")
            level.level = "LOUD"
            let badLevel = await rpcError { _ = try await spdk.logSetLevel(level) }
            #expect(badLevel?.code == .internalError && badLevel?.message.contains("log_set_level") == true)
            var flags = Spdkrpc_LogSetFlagsRequest()
            flags.flags = "bdev_raid,nvmf"
            _ = try await spdk.logSetFlags(flags)
            let enabled = try await spdk.logGetFlags(Google_Protobuf_Empty()).flags.split(separator: ",")
            #expect(enabled.contains("bdev_raid") && enabled.contains("nvmf"))

            #expect(try await spdk.versionDetailGet(Google_Protobuf_Empty()).version.version == testBuild.version)

            var expand = Spdkrpc_ReplicaExpandRequest()
            expand.name = "vol-r-a"
            let expandError = await rpcError { _ = try await spdk.replicaExpand(expand) }
            #expect(expandError?.code == .unimplemented && expandError?.message.contains("ReplicaExpand") == true)
            let backingImages = await rpcError { _ = try await spdk.backingImageList(Google_Protobuf_Empty()) }
            #expect(backingImages?.code == .unimplemented && backingImages?.message.contains("BackingImageList") == true)
        }
        await node.instances.stop()
    }
}
