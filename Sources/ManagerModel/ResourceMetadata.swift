/// The part of Kubernetes' object metadata a Longhorn resource document keeps: its name, its
/// labels, when it was created and, once its deletion was asked for, when (RFC 3339). A resource
/// whose deletion was asked for stays stored until its controller has torn down what it owns (the
/// role of Kubernetes' finalizers), then the controller deletes it. The store keeps its own
/// bookkeeping (revisions) beside the document.
public struct ResourceMetadata: Codable, Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    public var creationTimestamp: String
    /// Empty until deletion is asked for; written only when set.
    public var deletionTimestamp: String

    public init(name: String, labels: [String: String] = [:], creationTimestamp: String = "", deletionTimestamp: String = "") {
        self.name = name
        self.labels = labels
        self.creationTimestamp = creationTimestamp
        self.deletionTimestamp = deletionTimestamp
    }

    /// Whether deletion was asked for.
    public var isBeingDeleted: Bool { !deletionTimestamp.isEmpty }

    private enum CodingKeys: String, CodingKey {
        case name, labels, creationTimestamp, deletionTimestamp
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.lenient(.name)
        labels = try c.lenient(.labels)
        creationTimestamp = try c.lenient(.creationTimestamp)
        deletionTimestamp = try c.lenient(.deletionTimestamp)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(labels, forKey: .labels)
        try c.encode(creationTimestamp, forKey: .creationTimestamp)
        if !deletionTimestamp.isEmpty { try c.encode(deletionTimestamp, forKey: .deletionTimestamp) }
    }
}
