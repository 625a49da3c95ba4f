// The proxy service (imrpc.ProxyEngineService, longhorn-api.md §3.5), served on the listen port
// + 1: engine operations addressed by `proxy_engine_request`, dispatched on its `data_engine`.
// V2: the engine is this node's (found by `engine_name` in V2Instances; an address on another
// node is refused rather than dialed). V1: VolumeGet, ReplicaList and ReplicaRemove ask the
// `hornbill controller` process listening on the address's port over its `--status-socket`
// (ProxyEngineService+V1.swift). Every other RPC answers Unimplemented
// (ProxyEngineService+Unimplemented.swift).

public import GRPCCore
public import InstanceManager
public import InstanceManagerAPI
public import SwiftProtobuf

public struct ProxyEngineService: Imrpc_ProxyEngineService.SimpleServiceProtocol {
    /// The V2 instances; nil when the V2 data engine is not enabled.
    public let instances: V2Instances?
    public let supervisor: ProcessSupervisor
    public let build: InstanceManagerBuild
    /// The bound of a V1 controller's status call.
    public let controllerTimeout: Duration

    public init(
        instances: V2Instances?, supervisor: ProcessSupervisor, build: InstanceManagerBuild,
        controllerTimeout: Duration = .seconds(10)
    ) {
        self.instances = instances
        self.supervisor = supervisor
        self.build = build
        self.controllerTimeout = controllerTimeout
    }

    public func serverVersionGet(
        request: Imrpc_ProxyEngineRequest, context: ServerContext
    ) async throws -> Imrpc_EngineVersionProxyResponse {
        try await withRPCErrors {
            switch request.dataEngine {
            case .v2:
                _ = try await localEngine(request)
                var response = Imrpc_EngineVersionProxyResponse()
                response.version.version = build.version
                response.version.gitCommit = build.gitCommit
                response.version.buildDate = build.buildDate
                return response
            default:
                throw Self.unsupported(context, request.dataEngine)
            }
        }
    }

    public func volumeGet(
        request: Imrpc_ProxyEngineRequest, context: ServerContext
    ) async throws -> Imrpc_EngineVolumeGetProxyResponse {
        try await withRPCErrors {
            var response = Imrpc_EngineVolumeGetProxyResponse()
            switch request.dataEngine {
            case .v2: response.volume = Ptypes_Volume(try await localEngine(request))
            case .v1: response.volume = Ptypes_Volume(try await v1Status(request))
            case .UNRECOGNIZED: throw Self.unsupported(context, request.dataEngine)
            }
            return response
        }
    }

    public func replicaList(
        request: Imrpc_ProxyEngineRequest, context: ServerContext
    ) async throws -> Imrpc_EngineReplicaListProxyResponse {
        try await withRPCErrors {
            var response = Imrpc_EngineReplicaListProxyResponse()
            switch request.dataEngine {
            case .v2: response.replicaList = Ptypes_ReplicaListReply(try await localEngine(request))
            case .v1: response.replicaList = Ptypes_ReplicaListReply(try await v1Status(request))
            case .UNRECOGNIZED: throw Self.unsupported(context, request.dataEngine)
            }
            return response
        }
    }

    public func replicaAdd(request: Imrpc_EngineReplicaAddRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            guard request.proxyEngineRequest.dataEngine == .v2 else {
                throw Self.unsupported(context, request.proxyEngineRequest.dataEngine)
            }
            guard request.proxyEngineRequest.engineFrontendName.isEmpty else {
                throw InstanceManagerError(
                    .unimplemented, "engine frontends are not supported (\(request.proxyEngineRequest.engineFrontendName))")
            }
            let engine = try await localEngine(request.proxyEngineRequest)
            try await v2Instances().engineReplicaAdd(
                engineName: engine.name, replicaName: request.replicaName,
                replicaAddress: Self.withoutScheme(request.replicaAddress))
            return Google_Protobuf_Empty()
        }
    }

    public func replicaRemove(
        request: Imrpc_EngineReplicaRemoveRequest, context: ServerContext
    ) async throws -> Google_Protobuf_Empty {
        try await withRPCErrors {
            switch request.proxyEngineRequest.dataEngine {
            case .v2: break
            case .v1:
                try await v1ReplicaRemove(request.proxyEngineRequest, replicaAddress: request.replicaAddress)
                return Google_Protobuf_Empty()
            case .UNRECOGNIZED: throw Self.unsupported(context, request.proxyEngineRequest.dataEngine)
            }
            let engine = try await localEngine(request.proxyEngineRequest)
            let address = Self.withoutScheme(request.replicaAddress)
            var name = request.replicaName
            if name.isEmpty {
                // Longhorn's manager may name the replica by its address only.
                guard !address.isEmpty else { throw InstanceManagerError.invalidArgument("replica name or address is required") }
                guard let found = engine.replicaAddressMap.first(where: { $0.value == address })?.key else {
                    throw InstanceManagerError.notFound("replica at \(address) in engine \(engine.name)")
                }
                name = found
            }
            try await v2Instances().engineReplicaDelete(engineName: engine.name, replicaName: name, replicaAddress: address)
            return Google_Protobuf_Empty()
        }
    }

    /// Unimplemented for a data engine an RPC does not serve, naming both.
    static func unsupported(_ context: ServerContext, _ engine: Imrpc_DataEngine) -> InstanceManagerError {
        let name =
            switch engine {
            case .v1: "DATA_ENGINE_V1"
            case .v2: "DATA_ENGINE_V2"
            case .UNRECOGNIZED(let value): "unknown data engine \(value)"
            }
        return InstanceManagerError(.unimplemented, "\(context.descriptor.method) is not implemented for \(name)")
    }

    /// "tcp://ip:port" as "ip:port".
    static func withoutScheme(_ address: String) -> String {
        address.hasPrefix("tcp://") ? String(address.dropFirst("tcp://".count)) : address
    }
}
