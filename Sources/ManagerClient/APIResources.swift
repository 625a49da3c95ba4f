// The fields of the API's setting and node resources the command line shows and edits
// (longhorn-api.md §8). Unknown fields are ignored; a missing one reads as its zero value.

import Foundation

/// A collection: `{"type":"collection","data":[…]}`.
public struct APICollection<Item: Decodable & Sendable>: Decodable, Sendable {
    public var data: [Item]
}

/// `type: "setting"`.
public struct SettingItem: Decodable, Sendable, Equatable {
    public var name: String
    public var value: String
    public var applied: Bool
    public var definition: Definition

    public struct Definition: Decodable, Sendable, Equatable {
        public var defaultValue: String
        public var type: String
        private enum CodingKeys: String, CodingKey { case defaultValue = "default", type }
        public init(defaultValue: String = "", type: String = "") {
            self.defaultValue = defaultValue
            self.type = type
        }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            defaultValue = try c.decodeIfPresent(String.self, forKey: .defaultValue) ?? ""
            type = try c.decodeIfPresent(String.self, forKey: .type) ?? ""
        }
    }

    private enum CodingKeys: String, CodingKey { case name, id, value, applied, definition }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? c.decode(String.self, forKey: .id)
        value = try c.decodeIfPresent(String.self, forKey: .value) ?? ""
        applied = try c.decodeIfPresent(Bool.self, forKey: .applied) ?? false
        definition = try c.decodeIfPresent(Definition.self, forKey: .definition) ?? Definition()
    }
}

/// A condition as the API renders it (a map keyed by type).
public struct ConditionItem: Decodable, Sendable, Equatable {
    public var status: String
    public var reason: String
    public var message: String
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decodeIfPresent(String.self, forKey: .status) ?? ""
        reason = try c.decodeIfPresent(String.self, forKey: .reason) ?? ""
        message = try c.decodeIfPresent(String.self, forKey: .message) ?? ""
    }
    private enum CodingKeys: String, CodingKey { case status, reason, message }
}

/// `type: "node"`.
public struct NodeItem: Decodable, Sendable, Equatable {
    public var name: String
    public var address: String
    public var allowScheduling: Bool
    public var evictionRequested: Bool
    public var tags: [String]
    public var disks: [String: DiskItem]
    public var conditions: [String: ConditionItem]

    private enum CodingKeys: String, CodingKey {
        case name, id, address, allowScheduling, evictionRequested, tags, disks, conditions
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? c.decode(String.self, forKey: .id)
        address = try c.decodeIfPresent(String.self, forKey: .address) ?? ""
        allowScheduling = try c.decodeIfPresent(Bool.self, forKey: .allowScheduling) ?? false
        evictionRequested = try c.decodeIfPresent(Bool.self, forKey: .evictionRequested) ?? false
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        disks = try c.decodeIfPresent([String: DiskItem].self, forKey: .disks) ?? [:]
        conditions = try c.decodeIfPresent([String: ConditionItem].self, forKey: .conditions) ?? [:]
    }

    /// The status of condition `type`, or "Unknown".
    public func conditionStatus(_ type: String) -> String { conditions[type]?.status ?? "Unknown" }
}

/// One disk of a node: its spec (what `diskUpdate` sends back) and what the node reports of it.
public struct DiskItem: Decodable, Sendable, Equatable {
    public var spec: DiskSpecBody
    public var storageMaximum: Int64
    public var storageAvailable: Int64
    public var storageScheduled: Int64
    public var diskUUID: String
    public var conditions: [String: ConditionItem]

    private enum CodingKeys: String, CodingKey {
        case storageMaximum, storageAvailable, storageScheduled, diskUUID, conditions
    }
    public init(from decoder: any Decoder) throws {
        spec = try DiskSpecBody(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        storageMaximum = try c.decodeInt64IfPresent(.storageMaximum) ?? 0
        storageAvailable = try c.decodeInt64IfPresent(.storageAvailable) ?? 0
        storageScheduled = try c.decodeInt64IfPresent(.storageScheduled) ?? 0
        diskUUID = try c.decodeIfPresent(String.self, forKey: .diskUUID) ?? ""
        conditions = try c.decodeIfPresent([String: ConditionItem].self, forKey: .conditions) ?? [:]
    }
}

/// A disk's spec as `POST /v1/nodes/<name>?action=diskUpdate` takes it.
public struct DiskSpecBody: Codable, Sendable, Equatable {
    public var diskType: String
    public var path: String
    public var diskDriver: String
    public var allowScheduling: Bool
    public var evictionRequested: Bool
    public var storageReserved: Int64
    public var tags: [String]

    public init(
        diskType: String = "filesystem", path: String, diskDriver: String = "", allowScheduling: Bool = true,
        evictionRequested: Bool = false, storageReserved: Int64 = 0, tags: [String] = []
    ) {
        self.diskType = diskType
        self.path = path
        self.diskDriver = diskDriver
        self.allowScheduling = allowScheduling
        self.evictionRequested = evictionRequested
        self.storageReserved = storageReserved
        self.tags = tags
    }

    private enum CodingKeys: String, CodingKey {
        case diskType, path, diskDriver, allowScheduling, evictionRequested, storageReserved, tags
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        diskType = try c.decodeIfPresent(String.self, forKey: .diskType) ?? ""
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? ""
        diskDriver = try c.decodeIfPresent(String.self, forKey: .diskDriver) ?? ""
        allowScheduling = try c.decodeIfPresent(Bool.self, forKey: .allowScheduling) ?? false
        evictionRequested = try c.decodeIfPresent(Bool.self, forKey: .evictionRequested) ?? false
        storageReserved = try c.decodeInt64IfPresent(.storageReserved) ?? 0
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
    }
}

extension KeyedDecodingContainer {
    /// An int64 sent as a number or as a decimal string (Longhorn sends both).
    func decodeInt64IfPresent(_ key: Key) throws -> Int64? {
        if let number = try? decodeIfPresent(Int64.self, forKey: key) { return number }
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let number = Int64(text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "\(text) is not an int64")
        }
        return number
    }
}

/// `type: "volume"`: what the volume commands show.
public struct VolumeItem: Decodable, Sendable, Equatable {
    public var name: String
    public var size: Int64
    public var numberOfReplicas: Int
    public var dataEngine: String
    public var frontend: String
    public var state: String
    public var robustness: String
    public var currentNodeID: String
    public var ready: Bool
    public var notReadyMessage: String
    public var conditions: [String: ConditionItem]
    public var controllers: [Controller]
    public var replicas: [ReplicaItem]

    public struct Controller: Decodable, Sendable, Equatable {
        public var name: String
        public var hostId: String
        public var endpoint: String
        public var running: Bool
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
            hostId = try c.decodeIfPresent(String.self, forKey: .hostId) ?? ""
            endpoint = try c.decodeIfPresent(String.self, forKey: .endpoint) ?? ""
            running = try c.decodeIfPresent(Bool.self, forKey: .running) ?? false
        }
        private enum CodingKeys: String, CodingKey { case name, hostId, endpoint, running }
    }

    public struct ReplicaItem: Decodable, Sendable, Equatable {
        public var name: String
        public var hostId: String
        public var diskID: String
        public var mode: String
        public var running: Bool
        public var failedAt: String
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
            hostId = try c.decodeIfPresent(String.self, forKey: .hostId) ?? ""
            diskID = try c.decodeIfPresent(String.self, forKey: .diskID) ?? ""
            mode = try c.decodeIfPresent(String.self, forKey: .mode) ?? ""
            running = try c.decodeIfPresent(Bool.self, forKey: .running) ?? false
            failedAt = try c.decodeIfPresent(String.self, forKey: .failedAt) ?? ""
        }
        private enum CodingKeys: String, CodingKey { case name, hostId, diskID, mode, running, failedAt }
    }

    private enum CodingKeys: String, CodingKey {
        case name, id, size, numberOfReplicas, dataEngine, frontend, state, robustness, currentNodeID, ready
        case notReadyMessage, conditions, controllers, replicas
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? c.decode(String.self, forKey: .id)
        size = try c.decodeInt64IfPresent(.size) ?? 0
        numberOfReplicas = try c.decodeIfPresent(Int.self, forKey: .numberOfReplicas) ?? 0
        dataEngine = try c.decodeIfPresent(String.self, forKey: .dataEngine) ?? ""
        frontend = try c.decodeIfPresent(String.self, forKey: .frontend) ?? ""
        state = try c.decodeIfPresent(String.self, forKey: .state) ?? ""
        robustness = try c.decodeIfPresent(String.self, forKey: .robustness) ?? ""
        currentNodeID = try c.decodeIfPresent(String.self, forKey: .currentNodeID) ?? ""
        ready = try c.decodeIfPresent(Bool.self, forKey: .ready) ?? false
        notReadyMessage = try c.decodeIfPresent(String.self, forKey: .notReadyMessage) ?? ""
        conditions = try c.decodeIfPresent([String: ConditionItem].self, forKey: .conditions) ?? [:]
        controllers = try c.decodeIfPresent([Controller].self, forKey: .controllers) ?? []
        replicas = try c.decodeIfPresent([ReplicaItem].self, forKey: .replicas) ?? []
    }

    /// The first engine's endpoint, or "".
    public var endpoint: String { controllers.first?.endpoint ?? "" }
}
