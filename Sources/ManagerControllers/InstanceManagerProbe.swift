// Asking an instance manager whether it runs and what it runs: grpc.health.v1 Check of the whole
// server on its instance service port, then InstanceService.VersionGet for the API versions and
// InstanceService.InstanceList for its instances of one data engine.

import GRPCCore
import GRPCNIOTransportHTTP2Posix
import InstanceManagerAPI
import ManagerModel
import SwiftProtobuf

enum InstanceManagerProbe {
    struct Result: Sendable {
        var state: InstanceManagerState
        var version: VersionResponse?
        /// The instances of the engine asked about; none unless it runs.
        var instances = InstanceManagerInstances()
    }

    static func probe(_ address: InstanceManagerAddress, engine: DataEngine) async -> Result {
        do {
            return try await GRPCConnection.with(host: address.host, port: address.instanceServicePort) { client in
                let health = try await Grpc_Health_V1_Health.Client(wrapping: client).check(
                    Grpc_Health_V1_HealthCheckRequest(), options: GRPCConnection.callOptions)
                guard health.status == .serving else { return Result(state: .error, version: nil) }
                let service = Imrpc_InstanceService.Client(wrapping: client)
                let version = try await service.versionGet(Google_Protobuf_Empty(), options: GRPCConnection.callOptions)
                let list = try await service.instanceList(Google_Protobuf_Empty(), options: GRPCConnection.callOptions)
                return Result(
                    state: .running, version: version, instances: InstanceManagerInstances(list, engine: engine))
            }
        } catch let error as RPCError where error.code == .unavailable || error.code == .deadlineExceeded {
            return Result(state: .stopped, version: nil)
        } catch is RPCError {
            return Result(state: .error, version: nil)
        } catch {
            return Result(state: .stopped, version: nil)
        }
    }
}
