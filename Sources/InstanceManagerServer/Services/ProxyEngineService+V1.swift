// The proxy service's V1 side: the engine is the `hornbill controller` process whose ports
// include the address's port, and its state comes from the controller's `--status-socket`
// (JSON-RPC controller_status); ReplicaRemove asks it there too (controller_replica_remove). A
// controller started without a status socket cannot be asked.

import InstanceManager
import InstanceManagerAPI

extension ProxyEngineService {
    func v1Status(_ request: Imrpc_ProxyEngineRequest) async throws(InstanceManagerError) -> V1ControllerStatus {
        try await V1ControllerStatus.fetch(socketPath: v1StatusSocket(request), timeout: controllerTimeout)
    }

    /// Takes the replica at `replicaAddress` out of the V1 volume (the controller drops its link).
    func v1ReplicaRemove(
        _ request: Imrpc_ProxyEngineRequest, replicaAddress: String
    ) async throws(InstanceManagerError) {
        let address = Self.withoutScheme(replicaAddress)
        guard SPDKService.split(address).port > 0 else {
            throw .invalidArgument("a V1 replica is removed by its address (ip:port), not \"\(replicaAddress)\"")
        }
        try await V1ControllerReplicaRemove.remove(
            socketPath: v1StatusSocket(request), address: "tcp://\(address)", timeout: controllerTimeout)
    }

    /// The status socket of the controller process whose ports include the address's port.
    private func v1StatusSocket(_ request: Imrpc_ProxyEngineRequest) async throws(InstanceManagerError) -> String {
        let address = Self.withoutScheme(request.address)
        let port = SPDKService.split(address).port
        guard port > 0 else { throw .invalidArgument("engine address \"\(request.address)\" has no port") }
        let processes = await supervisor.list()
        guard
            let process = processes.values.first(where: { process in
                process.status.portStart > 0 && process.status.portStart <= Int(port) && Int(port) <= process.status.portEnd
            })
        else { throw .notFound("engine process listening on port \(port)") }
        guard let flag = process.spec.args.firstIndex(of: "--status-socket"), flag + 1 < process.spec.args.count else {
            throw InstanceManagerError(
                .failedPrecondition,
                "engine process \(process.spec.name) was started without --status-socket; its state cannot be read")
        }
        return process.spec.args[flag + 1]
    }
}

extension Ptypes_Volume {
    init(_ status: V1ControllerStatus) {
        self.init()
        name = status.volume
        size = status.size
        replicaCount = Int32(clamping: status.replicas.count)
        endpoint = status.endpoint
        frontend = status.frontend
        frontendState = status.endpoint.isEmpty ? "down" : "up"
    }
}

extension Ptypes_ReplicaListReply {
    init(_ status: V1ControllerStatus) {
        self.init()
        replicas = status.replicas.map { controllerReplica in
            var replica = Ptypes_ControllerReplica()
            replica.address.address = controllerReplica.address
            replica.mode =
                switch controllerReplica.mode {
                case "RW": .rw
                case "WO": .wo
                default: .err
                }
            return replica
        }
    }
}
