/// A resource type the store keeps: a Codable value stored as a JSON document under its kind.
/// The typed store helpers (`store.get(Setting.self, "name")`) encode and decode through it.
public protocol StoredResourceType: Codable, Sendable {
    /// The collection this type's documents are kept in ("settings", "nodes", …).
    static var kind: ResourceKind { get }
}
