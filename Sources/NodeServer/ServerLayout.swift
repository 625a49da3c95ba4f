// Where everything of `hornbill server` lives on one node: directories under the data directory,
// the manager's port, each instance manager's five gRPC ports and port ranges, the tgt's socket.
// One value, so that whoever wires the controllers gives them the same addresses the children
// were started on.

public struct ServerLayout: Sendable, Equatable {
    /// The data directory everything else is under.
    public var dataDirectory: String
    /// The manager's REST API port (on every address).
    public var managerPort: Int
    /// The node's name and storage address, passed to the manager and the instance managers.
    public var nodeName: String?
    public var address: String?

    /// The V1 instance manager: gRPC on v1InstanceManagerPort…+3; V1 processes on v1ProcessPorts.
    public var v1InstanceManagerPort: Int
    public var v1ProcessPorts: ClosedRange<Int>
    /// The V2 instance manager: gRPC on v2InstanceManagerPort…+4 (SPDKService at +4); replicas
    /// and engine targets on v2InstancePorts.
    public var v2InstanceManagerPort: Int
    public var v2InstancePorts: ClosedRange<Int>
    /// The file holding the bearer token the manager's API asks for, if any.
    public var apiTokenFile: String?

    public init(
        dataDirectory: String, managerPort: Int = 9500, nodeName: String? = nil, address: String? = nil,
        v1InstanceManagerPort: Int = 8500, v1ProcessPorts: ClosedRange<Int> = 10000...20000,
        v2InstanceManagerPort: Int = 8600, v2InstancePorts: ClosedRange<Int> = 20001...30000,
        apiTokenFile: String? = nil
    ) {
        self.dataDirectory = dataDirectory
        self.managerPort = managerPort
        self.nodeName = nodeName
        self.address = address
        self.v1InstanceManagerPort = v1InstanceManagerPort
        self.v1ProcessPorts = v1ProcessPorts
        self.v2InstanceManagerPort = v2InstanceManagerPort
        self.v2InstancePorts = v2InstancePorts
        self.apiTokenFile = apiTokenFile
    }

    /// The ports of the instance managers' gRPC servers (four for V1, five for V2).
    public static let v1InstanceManagerPortCount = 4
    public static let v2InstanceManagerPortCount = 5

    /// Checks that every port is in range and nothing overlaps.
    public func validate() throws(ServerError) {
        let ranges: [(String, ClosedRange<Int>)] = [
            ("the manager port", managerPort...managerPort),
            (
                "the V1 instance manager's ports",
                v1InstanceManagerPort...(v1InstanceManagerPort + Self.v1InstanceManagerPortCount - 1)
            ),
            (
                "the V2 instance manager's ports",
                v2InstanceManagerPort...(v2InstanceManagerPort + Self.v2InstanceManagerPortCount - 1)
            ),
            ("the V1 process ports", v1ProcessPorts),
            ("the V2 instance ports", v2InstancePorts),
            (
                "the ports held back above the V2 instance ports",
                v1UnusedSPDKPorts.lowerBound...v2UnusedProcessPorts.upperBound
            ),
        ]
        for (name, range) in ranges where range.lowerBound < 1 || range.upperBound > 65535 {
            throw ServerError("\(name) \(range.lowerBound)-\(range.upperBound) are not all within 1-65535")
        }
        for (index, (name, range)) in ranges.enumerated() {
            for (other, otherRange) in ranges[(index + 1)...] where range.overlaps(otherRange) {
                throw ServerError("\(name) overlap \(other)")
            }
        }
    }

    public var managerDataDirectory: String { dataDirectory + "/manager" }
    public var logDirectory: String { dataDirectory + "/logs" }
    /// The record of the running children (pid, start time, name), for a restarted server.
    public var childRecordPath: String { dataDirectory + "/server-children" }
    public var v1InstanceManagerDataDirectory: String { dataDirectory + "/instance-manager-v1" }
    public var v2InstanceManagerDataDirectory: String { dataDirectory + "/instance-manager-v2" }
    public var tgtDirectory: String { dataDirectory + "/tgt" }
    /// The tgt's JSON-RPC socket, which the V2 instance manager drives.
    public var tgtSocket: String { tgtDirectory + "/spdk.sock" }
    /// The manager's API as the server asks it (loopback).
    public var managerURL: String { "http://127.0.0.1:\(managerPort)" }
    /// The V2 instance manager's SPDKService port.
    public var v2SPDKServicePort: Int { v2InstanceManagerPort + 4 }

    /// Ports the V1 instance manager gets for a V2 range it never uses, and the V2 instance
    /// manager for V1 processes it never starts: each must be given, and must not overlap the
    /// other's ranges. The twenty ports above the V2 instance ports.
    public var v1UnusedSPDKPorts: ClosedRange<Int> {
        (v2InstancePorts.upperBound + 1)...(v2InstancePorts.upperBound + 10)
    }
    public var v2UnusedProcessPorts: ClosedRange<Int> {
        (v2InstancePorts.upperBound + 11)...(v2InstancePorts.upperBound + 20)
    }
}

/// A failure of `hornbill server`: a sentence fit to print.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
