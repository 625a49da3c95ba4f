// What a `hornbill controller` answers on its `--status-socket` (JSON-RPC):
// - controller_status: the volume, its frontend and its replicas' modes;
// - controller_replica_remove {address}: takes a replica out of the volume (the instance
//   manager's ReplicaRemove); a replica the volume does not have is already removed.

import BlockCore
import DataEngineV1
import JSONRPC

struct ControllerSocketMethods: JSONRPCMethodHandler {
    let controller: V1Controller
    let frontend: String
    let endpoint: String

    func handle(_ request: JSONRPCRequest) async -> Result<JSONValue, JSONRPCError> {
        switch request.method {
        case "controller_status": return .success(status())
        case "controller_replica_remove": return await removeReplica(request.params)
        default: return .failure(.methodNotFound)
        }
    }

    private func status() -> JSONValue {
        .object([
            ("volume", .string(controller.name)), ("size", .integer(controller.byteCount)),
            ("frontend", .string(frontend)), ("endpoint", .string(endpoint)),
            (
                "replicas",
                .array(
                    controller.status.map { status in
                        var fields: [(key: String, value: JSONValue)] = [
                            ("address", .string(status.address)), ("mode", .string(status.mode.rawValue)),
                            ("revision", .integer(status.revision)),
                        ]
                        if let reason = status.reason { fields.append(("reason", .string(reason))) }
                        return .object(fields)
                    })
            ),
        ])
    }

    private func removeReplica(_ params: JSONValue?) async -> Result<JSONValue, JSONRPCError> {
        guard case .object(let members)? = params, members.count == 1, case .string(let address)? = params?["address"],
            !address.isEmpty
        else {
            return .failure(.invalidParams("controller_replica_remove takes {\"address\": \"tcp://host:port\"}"))
        }
        do {
            return .success(.bool(try await controller.removeReplica(address: address)))
        } catch {
            return .failure(JSONRPCError(code: -16, message: "\(error)"))
        }
    }
}
