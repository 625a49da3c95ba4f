// Where an instance manager listens. `hornbill instance-manager --listen <host>:<port>` serves its
// gRPC services on consecutive ports from `port` (longhorn-api.md §3.1): process manager +0, proxy
// +1, disk service +2, instance service +3, SPDK service +4.

public import ManagerModel

/// An instance manager's listen address.
public struct InstanceManagerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    /// The first of its ports (the process manager's).
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var proxyPort: Int { port + 1 }
    public var diskServicePort: Int { port + 2 }
    public var instanceServicePort: Int { port + 3 }
    public var description: String { "\(host):\(port)" }
}

/// The instance managers of this node, by data engine.
public struct InstanceManagerAddresses: Sendable {
    public var v1: InstanceManagerAddress?
    /// Used only while the setting `v2-data-engine` is true.
    public var v2: InstanceManagerAddress?

    public init(v1: InstanceManagerAddress?, v2: InstanceManagerAddress?) {
        self.v1 = v1
        self.v2 = v2
    }

    public subscript(engine: DataEngine) -> InstanceManagerAddress? {
        switch engine {
        case .v1: v1
        case .v2: v2
        }
    }
}
