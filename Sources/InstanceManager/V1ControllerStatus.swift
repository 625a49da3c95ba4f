// A V1 volume's state as its `hornbill controller` reports it on its `--status-socket`
// (JSON-RPC `controller_status`), for the proxy service's V1 VolumeGet and ReplicaList.

import JSONRPC

public struct V1ControllerStatus: Sendable, Equatable {
    public struct Replica: Sendable, Equatable {
        /// "tcp://host:port".
        public var address: String
        /// "RW", "WO" or "ERR".
        public var mode: String
    }

    public var volume: String
    public var size: Int64
    public var frontend: String
    public var endpoint: String
    public var replicas: [Replica]

    /// Asks the controller listening on `socketPath`.
    public static func fetch(socketPath: String, timeout: Duration) async throws(InstanceManagerError) -> V1ControllerStatus {
        let client = JSONRPCAsyncClient(path: socketPath, defaultTimeout: timeout)
        let reply: JSONValue
        do {
            reply = try await client.call("controller_status", params: nil, timeout: timeout)
        } catch {
            await client.close()
            throw InstanceManagerError(.unavailable, "the controller status socket \(socketPath) did not answer: \(error)")
        }
        await client.close()
        guard let volume = reply["volume"]?.stringValue, let size = reply["size"]?.intValue,
            case .array(let items)? = reply["replicas"]
        else {
            throw InstanceManagerError(.internalError, "controller_status on \(socketPath) answered badly: \(reply)")
        }
        let replicas = items.compactMap { item -> Replica? in
            guard let address = item["address"]?.stringValue, let mode = item["mode"]?.stringValue else { return nil }
            return Replica(address: address, mode: mode)
        }
        return V1ControllerStatus(
            volume: volume, size: Int64(size), frontend: reply["frontend"]?.stringValue ?? "",
            endpoint: reply["endpoint"]?.stringValue ?? "", replicas: replicas)
    }
}
