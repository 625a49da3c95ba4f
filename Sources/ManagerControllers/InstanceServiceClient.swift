// The instance manager's InstanceService and ProxyEngineService as the instance handler drives
// them (longhorn-api.md §3.3, §3.5, §3.8): the instances listed (InstanceList), one looked up by
// name (InstanceGet), created, deleted, and a running engine's volume and replicas read through the proxy, where a replica is
// also taken out of it (ReplicaRemove). A missing instance is an answer (`nil`), not a failure;
// an instance manager that cannot be reached is told apart from one that refused a call, because
// the handler reports the two differently.

import GRPCCore
import GRPCNIOTransportHTTP2Posix
import InstanceManagerAPI
import ManagerModel
import SwiftProtobuf

/// Why a call to an instance manager did not answer.
enum InstanceCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing answered at the instance manager's address (or it did not answer in time).
    case unreachable(String)
    /// The instance manager answered with an error.
    case refused(code: String, message: String)

    /// The instance manager answered NotFound.
    var isNotFound: Bool {
        if case .refused(let code, _) = self { return code == "\(RPCError.Code.notFound)" }
        return false
    }

    var description: String {
        switch self {
        case .unreachable(let message): message
        case .refused(let code, let message): "\(code): \(message)"
        }
    }
}

/// The calls on one instance manager.
struct InstanceServiceClient: Sendable {
    let address: InstanceManagerAddress

    /// The instance, or nil when the instance manager does not have it.
    func get(name: String, type: String, dataEngine: DataEngine) async throws(InstanceCallError) -> Imrpc_InstanceResponse? {
        let request = Imrpc_InstanceGetRequest.with {
            $0.name = name
            $0.type = type
            $0.dataEngine = dataEngine.wire
            $0.backendStoreDriver = dataEngine.backendStoreDriver
        }
        return try await call(port: address.instanceServicePort) { client in
            do {
                return try await Imrpc_InstanceService.Client(wrapping: client).instanceGet(
                    request, options: GRPCConnection.callOptions)
            } catch let error as RPCError where error.code == .notFound {
                return nil
            }
        }
    }

    /// The instance manager's instances of `dataEngine` (InstanceList).
    func list(dataEngine: DataEngine) async throws(InstanceCallError) -> InstanceManagerInstances {
        let list = try await call(port: address.instanceServicePort) { client in
            try await Imrpc_InstanceService.Client(wrapping: client).instanceList(
                Google_Protobuf_Empty(), options: GRPCConnection.callOptions)
        }
        return InstanceManagerInstances(list, engine: dataEngine)
    }

    /// Creates the instance; one that already runs is answered with its current state.
    func create(_ spec: Imrpc_InstanceSpec) async throws(InstanceCallError) -> Imrpc_InstanceResponse {
        let request = Imrpc_InstanceCreateRequest.with {
            $0.spec = spec
            $0.dataLayoutType = .replicated
        }
        return try await call(port: address.instanceServicePort) { client in
            let service = Imrpc_InstanceService.Client(wrapping: client)
            do {
                return try await service.instanceCreate(request, options: GRPCConnection.callOptions)
            } catch let error as RPCError where error.code == .alreadyExists {
                let get = Imrpc_InstanceGetRequest.with {
                    $0.name = spec.name
                    $0.type = spec.type
                    $0.dataEngine = spec.dataEngine
                    $0.backendStoreDriver = spec.backendStoreDriver
                }
                return try await service.instanceGet(get, options: GRPCConnection.callOptions)
            }
        }
    }

    /// Deletes (or, for a V2 replica without cleanup, stops) the instance; one the instance
    /// manager does not have is already gone.
    func delete(
        name: String, type: String, dataEngine: DataEngine, diskUUID: String, cleanupRequired: Bool
    ) async throws(InstanceCallError) {
        let request = Imrpc_InstanceDeleteRequest.with {
            $0.name = name
            $0.type = type
            $0.dataEngine = dataEngine.wire
            $0.backendStoreDriver = dataEngine.backendStoreDriver
            $0.diskUuid = diskUUID
            $0.cleanupRequired = cleanupRequired
        }
        try await call(port: address.instanceServicePort) { client in
            do {
                _ = try await Imrpc_InstanceService.Client(wrapping: client).instanceDelete(
                    request, options: GRPCConnection.callOptions)
            } catch let error as RPCError where error.code == .notFound {
                return
            }
        }
    }

    /// What names a running engine to the proxy.
    private static func proxyRequest(
        _ engineName: String, _ volumeName: String, _ dataEngine: DataEngine, _ engineAddress: String
    ) -> Imrpc_ProxyEngineRequest {
        Imrpc_ProxyEngineRequest.with {
            $0.address = engineAddress
            $0.engineName = engineName
            $0.volumeName = volumeName
            $0.dataEngine = dataEngine.wire
            $0.backendStoreDriver = dataEngine.backendStoreDriver
        }
    }

    /// A running engine's volume (size, endpoint) and replicas (address and mode) from the proxy.
    func engineVolume(
        engineName: String, volumeName: String, dataEngine: DataEngine, engineAddress: String
    ) async throws(InstanceCallError) -> (volume: Ptypes_Volume, replicas: [Ptypes_ControllerReplica]) {
        let request = Self.proxyRequest(engineName, volumeName, dataEngine, engineAddress)
        return try await call(port: address.proxyPort) { client in
            let proxy = Imrpc_ProxyEngineService.Client(wrapping: client)
            let volume = try await proxy.volumeGet(request, options: GRPCConnection.callOptions).volume
            let replicas = try await proxy.replicaList(request, options: GRPCConnection.callOptions).replicaList
                .replicas
            return (volume, replicas)
        }
    }

    /// Takes a replica out of a running engine (ReplicaRemove through the proxy). A replica the
    /// engine does not have (or an engine that is gone) is already out.
    func engineReplicaRemove(
        engineName: String, volumeName: String, dataEngine: DataEngine, engineAddress: String, replicaName: String,
        replicaAddress: String
    ) async throws(InstanceCallError) {
        let request = Imrpc_EngineReplicaRemoveRequest.with {
            $0.proxyEngineRequest = Self.proxyRequest(engineName, volumeName, dataEngine, engineAddress)
            $0.replicaName = replicaName
            $0.replicaAddress = replicaAddress.isEmpty ? "" : "tcp://\(replicaAddress)"
        }
        try await call(port: address.proxyPort) { client in
            do {
                _ = try await Imrpc_ProxyEngineService.Client(wrapping: client).replicaRemove(
                    request, options: GRPCConnection.callOptions)
            } catch let error as RPCError where error.code == .notFound {
                return
            }
        }
    }

    private func call<Result: Sendable>(
        port: Int, _ body: @Sendable (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws(InstanceCallError) -> Result {
        do {
            return try await GRPCConnection.with(host: address.host, port: port, body)
        } catch let error as RPCError where error.code == .unavailable || error.code == .deadlineExceeded {
            throw .unreachable("the instance manager at \(address.host):\(port) cannot be reached: \(error.message)")
        } catch let error as RPCError {
            throw .refused(code: "\(error.code)", message: error.message)
        } catch {
            throw .unreachable("the instance manager at \(address.host):\(port) cannot be reached: \(error)")
        }
    }
}

extension DataEngine {
    /// The data engine as the instance manager's API numbers it.
    var wire: Imrpc_DataEngine {
        switch self {
        case .v1: .v1
        case .v2: .v2
        }
    }

    /// The deprecated field Longhorn's manager still sends with the same value.
    var backendStoreDriver: Imrpc_BackendStoreDriver {
        switch self {
        case .v1: .v1
        case .v2: .v2
        }
    }
}
