// How InstanceService answers for each kind of instance (longhorn-api.md §3.3's table): V1
// processes with their process spec and ports; V2 replicas with their own ports; V2 engines with
// both ports set to the target port.

import InstanceManager
import InstanceManagerAPI

/// The instance types InstanceService dispatches on (a string on the wire).
enum InstanceType {
    static let engine = "engine"
    static let replica = "replica"
}

extension Imrpc_InstanceResponse {
    /// A V1 process; `type` is the one it was created with ("" when not known).
    static func process(_ process: InstanceManager.ProcessResponse, type: String) -> Imrpc_InstanceResponse {
        var spec = Imrpc_InstanceSpec()
        spec.name = process.spec.name
        spec.type = type
        spec.backendStoreDriver = .v1
        spec.dataEngine = .v1
        spec.portCount = Int32(process.spec.portCount)
        spec.portArgs = process.spec.portArgs
        spec.processInstanceSpec.binary = process.spec.binary
        spec.processInstanceSpec.args = process.spec.args
        var status = Imrpc_InstanceStatus()
        status.state = process.status.state.rawValue
        status.errorMsg = process.status.errorMessage
        status.portStart = Int32(process.status.portStart)
        status.portEnd = Int32(process.status.portEnd)
        status.conditions = process.status.conditions
        status.uuid = process.status.uuid
        var response = Imrpc_InstanceResponse()
        response.spec = spec
        response.status = status
        response.deleted = process.deleted
        return response
    }

    static func replica(_ replica: ReplicaInfo) -> Imrpc_InstanceResponse {
        var spec = v2Spec(name: replica.name, type: InstanceType.replica)
        spec.spdkInstanceSpec.diskName = replica.lvsName
        spec.spdkInstanceSpec.diskUuid = replica.lvsUUID
        spec.spdkInstanceSpec.size = replica.specSize
        spec.spdkInstanceSpec.backingImageName = replica.backingImageName
        var status = Imrpc_InstanceStatus()
        status.state = replica.state.rawValue
        status.errorMsg = replica.errorMsg
        status.portStart = replica.portStart
        status.portEnd = replica.portEnd
        status.uuid = replica.uuid
        var response = Imrpc_InstanceResponse()
        response.spec = spec
        response.status = status
        return response
    }

    static func engine(_ engine: EngineInfo) -> Imrpc_InstanceResponse {
        var spec = v2Spec(name: engine.name, type: InstanceType.engine)
        spec.volumeName = engine.volumeName
        spec.spdkInstanceSpec.size = engine.specSize
        spec.spdkInstanceSpec.replicaAddressMap = engine.replicaAddressMap
        spec.spdkInstanceSpec.frontend = engine.frontend
        spec.spdkInstanceSpec.snapshotMaxCount = engine.snapshotMaxCount
        var status = Imrpc_InstanceStatus()
        status.state = engine.state.rawValue
        status.errorMsg = engine.errorMsg
        let port = engine.targetPort != 0 ? engine.targetPort : engine.port
        status.portStart = port
        status.portEnd = port
        status.ublkID = engine.ublkID
        status.uuid = engine.uuid
        status.endpoint = engine.endpoint
        status.frontend = engine.frontend
        var response = Imrpc_InstanceResponse()
        response.spec = spec
        response.status = status
        return response
    }

    /// A V2 instance's delete answer: `{name, type, state "stopped", deleted}`.
    static func deletedV2(name: String, type: String) -> Imrpc_InstanceResponse {
        var response = Imrpc_InstanceResponse()
        response.spec = v2Spec(name: name, type: type)
        response.status.state = V2InstanceState.stopped.rawValue
        response.deleted = true
        return response
    }

    private static func v2Spec(name: String, type: String) -> Imrpc_InstanceSpec {
        var spec = Imrpc_InstanceSpec()
        spec.name = name
        spec.type = type
        spec.backendStoreDriver = .v2
        spec.dataEngine = .v2
        return spec
    }
}
