// A replica taken out of a V1 volume: the proxy service's V1 ReplicaRemove asks the volume's
// `hornbill controller` on its `--status-socket` (JSON-RPC `controller_replica_remove`).

import JSONRPC

public enum V1ControllerReplicaRemove {
    /// Asks the controller listening on `socketPath` to remove the replica at `address`
    /// ("tcp://host:port"). A replica the controller does not have is `notFound`; the last RW
    /// replica, which the controller keeps, is `failedPrecondition`.
    public static func remove(socketPath: String, address: String, timeout: Duration) async throws(InstanceManagerError)
    {
        let client = JSONRPCAsyncClient(path: socketPath, defaultTimeout: timeout)
        let reply: JSONValue
        do {
            reply = try await client.call("controller_replica_remove", params: .object([("address", .string(address))]))
        } catch .server(let error) {
            await client.close()
            throw InstanceManagerError(
                .failedPrecondition, "the controller refused to remove replica \(address): \(error.message)")
        } catch {
            await client.close()
            throw InstanceManagerError(
                .unavailable, "the controller status socket \(socketPath) did not answer: \(error)")
        }
        await client.close()
        guard case .bool(let removed) = reply else {
            throw InstanceManagerError(
                .internalError, "controller_replica_remove on \(socketPath) answered badly: \(reply)")
        }
        guard removed else {
            throw InstanceManagerError.notFound("replica \(address) in the controller on \(socketPath)")
        }
    }
}
