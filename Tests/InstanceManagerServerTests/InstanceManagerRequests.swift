// Requests as Longhorn's manager sends them (longhorn-api.md §3.8).

import InstanceManagerAPI

enum Requests {
    static func diskCreate(_ name: String, path: String, uuid: String = "") -> Imrpc_DiskCreateRequest {
        var request = Imrpc_DiskCreateRequest()
        request.diskType = .block
        request.diskName = name
        request.diskUuid = uuid
        request.diskPath = path
        request.blockSize = 512
        return request
    }

    static func diskGet(_ name: String, type: Imrpc_DiskType = .block) -> Imrpc_DiskGetRequest {
        var request = Imrpc_DiskGetRequest()
        request.diskType = type
        request.diskName = name
        return request
    }

    static func replica(_ name: String, disk: String, diskUUID: String, size: UInt64) -> Imrpc_InstanceCreateRequest {
        var spec = Imrpc_InstanceSpec()
        spec.name = name
        spec.type = "replica"
        spec.volumeName = "vol"
        spec.dataEngine = .v2
        spec.backendStoreDriver = .v2
        spec.portCount = 5
        spec.portArgs = ["--listen,:"]
        spec.spdkInstanceSpec.size = size
        spec.spdkInstanceSpec.diskName = disk
        spec.spdkInstanceSpec.diskUuid = diskUUID
        var request = Imrpc_InstanceCreateRequest()
        request.spec = spec
        return request
    }

    static func engine(
        _ name: String, volume: String, size: UInt64, replicas: [String: String], frontend: String
    ) -> Imrpc_InstanceCreateRequest {
        var spec = Imrpc_InstanceSpec()
        spec.name = name
        spec.type = "engine"
        spec.volumeName = volume
        spec.dataEngine = .v2
        spec.backendStoreDriver = .v2
        spec.portCount = 1
        spec.portArgs = ["--listen,:"]
        spec.initiatorAddress = "127.0.0.1"
        spec.targetAddress = "127.0.0.1"
        spec.spdkInstanceSpec.size = size
        spec.spdkInstanceSpec.replicaAddressMap = replicas
        spec.spdkInstanceSpec.frontend = frontend
        var request = Imrpc_InstanceCreateRequest()
        request.spec = spec
        return request
    }

    static func process(_ name: String, type: String, binary: String, args: [String]) -> Imrpc_InstanceCreateRequest {
        var spec = Imrpc_InstanceSpec()
        spec.name = name
        spec.type = type
        spec.dataEngine = .v1
        spec.portCount = 1
        spec.portArgs = ["--listen,127.0.0.1:"]
        spec.processInstanceSpec.binary = binary
        spec.processInstanceSpec.args = args
        var request = Imrpc_InstanceCreateRequest()
        request.spec = spec
        return request
    }

    static func delete(
        _ name: String, type: String, engine: Imrpc_DataEngine = .v2, cleanup: Bool = true
    ) -> Imrpc_InstanceDeleteRequest {
        var request = Imrpc_InstanceDeleteRequest()
        request.name = name
        request.type = type
        request.dataEngine = engine
        request.backendStoreDriver = engine == .v2 ? .v2 : .v1
        request.cleanupRequired = cleanup
        return request
    }

    static func get(_ name: String, type: String, engine: Imrpc_DataEngine = .v2) -> Imrpc_InstanceGetRequest {
        var request = Imrpc_InstanceGetRequest()
        request.name = name
        request.type = type
        request.dataEngine = engine
        return request
    }
}
