/// The part of Kubernetes' object metadata a Longhorn resource document keeps: its name, its
/// labels and when it was created (RFC 3339). The store keeps its own bookkeeping (revisions)
/// beside the document.
public struct ResourceMetadata: Codable, Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    public var creationTimestamp: String

    public init(name: String, labels: [String: String] = [:], creationTimestamp: String = "") {
        self.name = name
        self.labels = labels
        self.creationTimestamp = creationTimestamp
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.lenient(.name)
        labels = try c.lenient(.labels)
        creationTimestamp = try c.lenient(.creationTimestamp)
    }
}
