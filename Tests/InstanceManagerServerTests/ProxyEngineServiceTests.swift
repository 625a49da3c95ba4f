// The proxy service over a V2 engine on a real `hornbill tgt` with two replicas: VolumeGet,
// ReplicaList, ReplicaRemove and ReplicaAdd; V1 requests (ReplicaRemove too) against the process
// supervisor; engines of other nodes, data engines and RPCs it does not serve.

import Foundation
import GRPCCore
import InstanceManager
import InstanceManagerAPI
import InstanceManagerServer
import SwiftProtobuf
import TestSupport
import Testing

@Suite struct ProxyEngineServiceTests {
    private func request(_ engine: EngineInfo, address: String? = nil) -> Imrpc_ProxyEngineRequest {
        var request = Imrpc_ProxyEngineRequest()
        request.address = address ?? "\(engine.ip):\(engine.port)"
        request.engineName = engine.name
        request.volumeName = engine.volumeName
        request.dataEngine = .v2
        request.backendStoreDriver = .v2
        return request
    }

    @Test func v2EngineOverTwoReplicas() async throws {
        let node = V2Node()
        let supervisor = ProcessSupervisor(options: .init(portRange: testPortRange()))
        let spdk = SPDKService(instances: node.instances, build: testBuild)
        let proxy = ProxyEngineService(instances: node.instances, supervisor: supervisor, build: testBuild)
        try await withServices([spdk, proxy]) { client in
            let spdkClient = Spdkrpc_SPDKService.Client(wrapping: client)
            let proxyClient = Imrpc_ProxyEngineService.Client(wrapping: client)
            _ = try await node.readyDisk(spdkClient)
            let a = try await node.replica(spdkClient, "vol-r-a")
            let b = try await node.replica(spdkClient, "vol-r-b")
            let addressA = "127.0.0.1:\(a.portStart)"
            let addressB = "127.0.0.1:\(b.portStart)"
            let engine = try await node.instances.engineCreate(
                name: "vol-e-0", volumeName: "vol", specSize: 8 << 20,
                replicaAddressMap: ["vol-r-a": addressA, "vol-r-b": addressB], frontend: "nbd")
            #expect(engine.state == .running, "\(engine.errorMsg)")

            let volume = try await proxyClient.volumeGet(request(engine)).volume
            #expect(volume.name == "vol" && volume.size == 8 << 20 && volume.replicaCount == 2)
            #expect(volume.endpoint == engine.endpoint && volume.frontend == "nbd" && volume.frontendState == "up")

            func replicas() async throws -> [String] {
                try await proxyClient.replicaList(request(engine)).replicaList.replicas.map {
                    "\($0.address.instanceName) \($0.address.address) \($0.mode)"
                }
            }
            #expect(try await replicas() == ["vol-r-a tcp://\(addressA) rw", "vol-r-b tcp://\(addressB) rw"])

            // Removed by address only, as Longhorn's manager may ask.
            var remove = Imrpc_EngineReplicaRemoveRequest()
            remove.proxyEngineRequest = request(engine)
            remove.replicaAddress = "tcp://\(addressB)"
            _ = try await proxyClient.replicaRemove(remove)
            #expect(try await replicas() == ["vol-r-a tcp://\(addressA) rw"])
            #expect(try await proxyClient.volumeGet(request(engine)).volume.replicaCount == 1)
            let removedAgain = await rpcError { _ = try await proxyClient.replicaRemove(remove) }
            #expect(removedAgain?.code == .notFound && removedAgain?.message.contains("cannot find") == true)

            var add = Imrpc_EngineReplicaAddRequest()
            add.proxyEngineRequest = request(engine)
            add.replicaName = "vol-r-b"
            add.replicaAddress = "tcp://\(addressB)"
            _ = try await proxyClient.replicaAdd(add)
            #expect(try await replicas() == ["vol-r-a tcp://\(addressA) rw", "vol-r-b tcp://\(addressB) rw"])

            let version = try await proxyClient.serverVersionGet(request(engine)).version
            #expect(version.version == testBuild.version && version.gitCommit == testBuild.gitCommit)

            // Another node's engine is not dialed; an unknown engine is not found.
            let foreign = await rpcError { _ = try await proxyClient.volumeGet(request(engine, address: "10.1.2.3:20001")) }
            #expect(foreign?.code == .failedPrecondition && foreign?.message.contains("10.1.2.3") == true)
            var unknown = request(engine)
            unknown.engineName = "vol-e-9"
            let missing = await rpcError { _ = try await proxyClient.replicaList(unknown) }
            #expect(missing?.code == .notFound && missing?.message.contains("cannot find") == true)
            var unnamed = request(engine)
            unnamed.engineName = ""
            #expect(await rpcError { _ = try await proxyClient.volumeGet(unnamed) }?.code == .invalidArgument)

            // RPCs not served, whatever the data engine, name themselves.
            let snapshots = await rpcError { _ = try await proxyClient.snapshotList(request(engine)) }
            #expect(snapshots?.code == .unimplemented && snapshots?.message.contains("SnapshotList") == true)
            var strange = request(engine)
            strange.dataEngine = .UNRECOGNIZED(7)
            let unknownEngine = await rpcError { _ = try await proxyClient.volumeGet(strange) }
            #expect(unknownEngine?.code == .unimplemented && unknownEngine?.message.contains("VolumeGet") == true)
            try await node.instances.engineDelete(name: "vol-e-0")
        }
        await node.instances.stop()
        await supervisor.shutdown()
    }

    @Test func v1VolumeThroughTheControllerProcessStatusSocket() async throws {
        let hornbill = hornbillExecutable().path
        try #require(FileManager.default.isExecutableFile(atPath: hornbill), "the test command builds hornbill")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "hornbill-proxy-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let supervisor = ProcessSupervisor(options: .init(portRange: testPortRange(), stopGracePeriod: .seconds(5)))
        let proxy = ProxyEngineService(instances: nil, supervisor: supervisor, build: testBuild)
        let size = String(16 << 20)

        var replicaPorts: [Int] = []
        for index in 1...2 {
            let created = try await supervisor.create(
                InstanceManager.ProcessSpec(
                    name: "vol-r-\(index)", binary: hornbill, args: ["replica", "\(scratch)/r\(index)", "--size", size],
                    portCount: 1, portArgs: ["--listen,127.0.0.1:"]))
            replicaPorts.append(created.status.portStart)
        }
        for index in 1...2 {
            _ = try await eventually { try await supervisor.get(name: "vol-r-\(index)").status.state == .running ? true : nil }
        }
        var controllerArgs = ["controller", "vol", "--size", size, "--frontend", "nbd", "--status-socket", "\(scratch)/vol.sock"]
        for port in replicaPorts { controllerArgs += ["--replica", "tcp://127.0.0.1:\(port)"] }
        let controller = try await supervisor.create(
            InstanceManager.ProcessSpec(
                name: "vol-e-0", binary: hornbill, args: controllerArgs, portCount: 1, portArgs: ["--listen,127.0.0.1:"]))
        _ = try await eventually { try await supervisor.get(name: "vol-e-0").status.state == .running ? true : nil }
        // Without a status socket, a replica process (listening) cannot be asked.
        let plainReplica = replicaPorts[0]
        let legs = replicaPorts

        try await withServices([proxy]) { client in
            let proxyClient = Imrpc_ProxyEngineService.Client(wrapping: client)
            var request = Imrpc_ProxyEngineRequest()
            request.address = "tcp://127.0.0.1:\(controller.status.portStart)"
            request.engineName = "vol-e-0"
            request.volumeName = "vol"
            request.dataEngine = .v1
            let volume = try await eventually { () async throws -> Ptypes_Volume? in
                try? await proxyClient.volumeGet(request).volume
            }
            #expect(volume.name == "vol" && volume.size == 16 << 20 && volume.replicaCount == 2)
            #expect(volume.frontend == "nbd" && volume.endpoint == "nbd://127.0.0.1:\(controller.status.portStart)/vol")
            let replicas = try await proxyClient.replicaList(request).replicaList.replicas
            #expect(
                replicas.map { "\($0.address.address) \($0.mode)" }.sorted()
                    == legs.map { "tcp://127.0.0.1:\($0) rw" }.sorted())

            // ReplicaRemove: the controller drops the leg; again, it is not found; the last RW
            // leg is kept; a replica named without an address cannot be found by a V1 controller.
            var remove = Imrpc_EngineReplicaRemoveRequest()
            remove.proxyEngineRequest = request
            remove.replicaName = "vol-r-2"
            remove.replicaAddress = "tcp://127.0.0.1:\(legs[1])"
            _ = try await proxyClient.replicaRemove(remove)
            let left = try await proxyClient.replicaList(request).replicaList.replicas
            #expect(left.map { "\($0.address.address) \($0.mode)" } == ["tcp://127.0.0.1:\(legs[0]) rw"])
            let removedAgain = await rpcError { _ = try await proxyClient.replicaRemove(remove) }
            #expect(removedAgain?.code == .notFound, "\(String(describing: removedAgain))")
            remove.replicaAddress = "127.0.0.1:\(legs[0])"
            let last = await rpcError { _ = try await proxyClient.replicaRemove(remove) }
            #expect(last?.code == .failedPrecondition && last?.message.contains("last RW replica") == true)
            remove.replicaAddress = ""
            #expect(await rpcError { _ = try await proxyClient.replicaRemove(remove) }?.code == .invalidArgument)
            #expect(try await proxyClient.volumeGet(request).volume.replicaCount == 1)

            request.address = "127.0.0.1:\(plainReplica)"
            let noSocket = await rpcError { _ = try await proxyClient.volumeGet(request) }
            #expect(noSocket?.code == .failedPrecondition && noSocket?.message.contains("--status-socket") == true)
            request.address = "127.0.0.1:1"
            let none = await rpcError { _ = try await proxyClient.volumeGet(request) }
            #expect(none?.code == .notFound && none?.message.contains("cannot find") == true)
            request.address = "127.0.0.1"
            #expect(await rpcError { _ = try await proxyClient.replicaList(request) }?.code == .invalidArgument)
            request.dataEngine = .v2
            let noV2 = await rpcError { _ = try await proxyClient.volumeGet(request) }
            #expect(noV2?.code == .failedPrecondition)
        }
        await supervisor.shutdown()
    }
}
