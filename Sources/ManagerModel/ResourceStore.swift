// The store of desired and observed state: resources kept as JSON documents under a kind and a
// name, every change stamped with the store's next revision.
//
// Model (the shape of etcd v3, so that the embedded SQLite store and an etcd store are
// interchangeable for every caller):
// - The store has one revision counter. Every create, update and delete increments it by one and
//   stamps the changed resource with it (`resourceVersion`, like etcd's mod_revision).
// - An update or a delete names the `resourceVersion` it read; if the stored one differs, the
//   write fails with `conflict` and changes nothing (compare-and-swap). Callers re-read and retry.
// - `watch(from:)` delivers every change with a revision greater than the one given, in revision
//   order, then follows new changes as they commit; a revision older than what the store still
//   keeps fails with `compacted`, and the caller lists again.
// - A write that returned is durable: it survives a crash or a power cut of the node.

public import Foundation

/// Which collection a resource belongs to: Longhorn's resource names in lower camel case
/// ("settings", "nodes", "volumes", "engines", "replicas", "instanceManagers", "orphans",
/// "volumeAttachments").
public struct ResourceKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// One stored resource: its document and the store's bookkeeping.
public struct StoredResource: Sendable, Equatable {
    public var kind: ResourceKind
    public var name: String
    /// The store revision of this resource's last change.
    public var resourceVersion: Int64
    /// The store revision at which it was created.
    public var createRevision: Int64
    /// Labels a list can select on (Longhorn's `longhornnode`, `longhornvolume`, …).
    public var labels: [String: String]
    /// The resource itself, encoded as JSON.
    public var document: Data

    public init(
        kind: ResourceKind, name: String, resourceVersion: Int64, createRevision: Int64,
        labels: [String: String], document: Data
    ) {
        self.kind = kind
        self.name = name
        self.resourceVersion = resourceVersion
        self.createRevision = createRevision
        self.labels = labels
        self.document = document
    }
}

/// Which resources of a kind a list or a watch wants: all of them, or those whose labels hold
/// every pair given and whose document holds every field given, as Kubernetes' label and field
/// selectors. A field is a dotted path into the document (`metadata.name`, `spec.nodeID`,
/// `status.currentState`); a string matches its value, a number or a boolean its JSON text, and
/// a field the document does not have matches only "".
public struct ResourceSelector: Sendable, Equatable {
    public var labels: [String: String]
    public var fields: [String: String]
    public init(labels: [String: String] = [:], fields: [String: String] = [:]) {
        self.labels = labels
        self.fields = fields
    }
    public static let everything = ResourceSelector()

    public func matches(_ resource: StoredResource) -> Bool {
        guard labels.allSatisfy({ resource.labels[$0.key] == $0.value }) else { return false }
        guard !fields.isEmpty else { return true }
        let document = try? JSONSerialization.jsonObject(with: resource.document)
        return fields.allSatisfy { Self.value(at: $0.key, in: document) == $0.value }
    }

    /// The text of the field at `path` ("" where the document has none, or it is an object,
    /// an array or null).
    static func value(at path: String, in document: Any?) -> String {
        var node = document
        for key in path.split(separator: ".", omittingEmptySubsequences: false) {
            node = (node as? [String: Any])?[String(key)]
        }
        switch node {
        case let text as String: return text
        case let number as NSNumber:
            // JSONSerialization gives booleans as NSNumbers of type "c"; their JSON text is true
            // or false.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.stringValue
        default: return ""
        }
    }
}

/// A list's items and the store revision they were read at (watch from there to follow them).
public struct ResourceList: Sendable, Equatable {
    public var items: [StoredResource]
    public var revision: Int64
    public init(items: [StoredResource], revision: Int64) {
        self.items = items
        self.revision = revision
    }
}

/// One change seen by a watch: the resource after it (for a delete, its last stored state, with
/// `resourceVersion` set to the delete's revision).
public struct ResourceEvent: Sendable, Equatable {
    public enum Change: String, Sendable { case added, modified, deleted }
    public var change: Change
    public var resource: StoredResource
    public var revision: Int64 { resource.resourceVersion }
    public init(change: Change, resource: StoredResource) {
        self.change = change
        self.resource = resource
    }
}

/// A store operation that failed; nothing was changed.
public enum ResourceStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(kind: ResourceKind, name: String)
    case alreadyExists(kind: ResourceKind, name: String)
    /// The resource changed since the caller read it.
    case conflict(kind: ResourceKind, name: String, expected: Int64, actual: Int64)
    /// The revision a watch asked to resume from is no longer kept.
    case compacted(requested: Int64, oldestKept: Int64)
    /// A name, label or document the store does not accept.
    case invalid(String)
    /// The store cannot be reached or failed underneath (I/O, corruption, closed).
    case unavailable(String)

    public var description: String {
        switch self {
        case .notFound(let kind, let name): "\(kind) \"\(name)\" not found"
        case .alreadyExists(let kind, let name): "\(kind) \"\(name)\" already exists"
        case .conflict(let kind, let name, let expected, let actual):
            "\(kind) \"\(name)\" was modified: resourceVersion \(actual), not \(expected); read it again and retry"
        case .compacted(let requested, let oldestKept):
            "revision \(requested) is compacted (the oldest kept is \(oldestKept)); list again"
        case .invalid(let reason): reason
        case .unavailable(let reason): "the store is unavailable: \(reason)"
        }
    }
}

/// The resource store. Implementations: SQLite (embedded, one node) and etcd v3 (clusters).
public protocol ResourceStore: Sendable {
    func get(_ kind: ResourceKind, name: String) async throws(ResourceStoreError) -> StoredResource?
    func list(_ kind: ResourceKind, selector: ResourceSelector) async throws(ResourceStoreError) -> ResourceList
    /// Creates a resource; `alreadyExists` if the name is taken.
    func create(
        _ kind: ResourceKind, name: String, labels: [String: String], document: Data
    ) async throws(ResourceStoreError) -> StoredResource
    /// Replaces a resource if its `resourceVersion` is still `expectedVersion`.
    func update(
        _ kind: ResourceKind, name: String, labels: [String: String], document: Data, expectedVersion: Int64
    ) async throws(ResourceStoreError) -> StoredResource
    /// Deletes a resource, if `expectedVersion` is given only when it still matches.
    func delete(
        _ kind: ResourceKind, name: String, expectedVersion: Int64?
    ) async throws(ResourceStoreError) -> StoredResource
    /// Every change of `kind` (all kinds if nil) matching `selector`, after `revision`, in
    /// revision order, then as they commit, until the consumer stops iterating or the store
    /// closes. Fails with `compacted` if `revision` is older than what the store keeps.
    func watch(
        _ kind: ResourceKind?, selector: ResourceSelector, after revision: Int64
    ) async throws(ResourceStoreError) -> AsyncThrowingStream<ResourceEvent, any Error>
    /// The store's current revision.
    func revision() async throws(ResourceStoreError) -> Int64
}
