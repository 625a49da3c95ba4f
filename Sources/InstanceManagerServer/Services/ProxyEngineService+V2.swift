// The proxy service's V2 side: the engine is one of this node's V2 engines, named by
// `engine_name`; the request's address, when given, must be this node's.

import InstanceManager
import InstanceManagerAPI

extension ProxyEngineService {
    func v2Instances() throws(InstanceManagerError) -> V2Instances {
        guard let instances else {
            throw InstanceManagerError(.failedPrecondition, "the V2 data engine is not enabled on this instance manager")
        }
        return instances
    }

    /// The engine the request names, after checking that its address is this node's.
    func localEngine(_ request: Imrpc_ProxyEngineRequest) async throws(InstanceManagerError) -> EngineInfo {
        let instances = try v2Instances()
        guard !request.engineName.isEmpty else { throw .invalidArgument("engine name is required for DATA_ENGINE_V2") }
        let address = Self.withoutScheme(request.address)
        if !address.isEmpty {
            let ip = SPDKService.split(address).ip
            let local = instances.configuration.ip
            guard ip == local || ip == "127.0.0.1" || ip == "localhost" || ip == "::1" else {
                throw InstanceManagerError(
                    .failedPrecondition,
                    "engine \(request.engineName) at \(address) is not on this instance manager (\(local)); ask the instance manager at \(ip)"
                )
            }
        }
        return try await instances.engineGet(name: request.engineName)
    }
}

extension Ptypes_Volume {
    init(_ engine: EngineInfo) {
        self.init()
        name = engine.volumeName
        size = Int64(clamping: engine.specSize)
        replicaCount = Int32(clamping: engine.replicaAddressMap.count)
        endpoint = engine.endpoint
        frontend = engine.frontend
        frontendState = !engine.endpoint.isEmpty && engine.state == .running ? "up" : "down"
        isExpanding = engine.isExpanding
        lastExpansionError = engine.lastExpansionError
        lastExpansionFailedAt = engine.lastExpansionFailedAt
        snapshotMaxCount = engine.snapshotMaxCount
    }
}

extension Ptypes_ReplicaListReply {
    /// The engine's replicas in name order, addresses as "tcp://ip:port"; a replica without a
    /// known mode is ERR.
    init(_ engine: EngineInfo) {
        self.init()
        replicas = engine.replicaAddressMap.sorted(by: { $0.key < $1.key }).map { name, address in
            var replica = Ptypes_ControllerReplica()
            replica.address.address = "tcp://\(address)"
            replica.address.instanceName = name
            replica.mode =
                switch engine.replicaModeMap[name] {
                case .rw?: .rw
                case .wo?: .wo
                case .err?, nil: .err
                }
            return replica
        }
    }
}
