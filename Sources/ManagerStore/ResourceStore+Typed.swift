// Typed access to any `ResourceStore`: a `StoredResourceType` value is encoded to its JSON
// document on the way in and decoded on the way out, so callers work with their resource types
// and never with document bytes. Documents are encoded with sorted keys (equal values, equal
// bytes).

import Foundation
public import ManagerModel

/// A resource value as stored, with the store's bookkeeping.
public struct StoredObject<Resource: StoredResourceType>: Sendable {
    public var name: String
    /// The store revision of its last change: pass it to `update` or `delete`.
    public var resourceVersion: Int64
    public var createRevision: Int64
    public var labels: [String: String]
    public var value: Resource

    /// A value as it was just written (the store keeps the document it was given).
    init(_ stored: StoredResource, writing value: Resource) {
        self.value = value
        name = stored.name
        resourceVersion = stored.resourceVersion
        createRevision = stored.createRevision
        labels = stored.labels
    }

    /// Decodes a stored resource of `Resource.kind`.
    public init(_ stored: StoredResource) throws(ResourceStoreError) {
        guard stored.kind == Resource.kind else {
            throw .invalid("a \(stored.kind) resource is not a \(Resource.kind) resource")
        }
        do {
            value = try JSONDecoder().decode(Resource.self, from: stored.document)
        } catch {
            throw .invalid("\(stored.kind) \"\(stored.name)\": the stored document does not decode as \(Resource.self): \(error)")
        }
        name = stored.name
        resourceVersion = stored.resourceVersion
        createRevision = stored.createRevision
        labels = stored.labels
    }
}

/// A typed watch event.
public struct StoredObjectEvent<Resource: StoredResourceType>: Sendable {
    public var change: ResourceEvent.Change
    public var object: StoredObject<Resource>
    public var revision: Int64 { object.resourceVersion }
}

extension ResourceStore {
    public func get<Resource: StoredResourceType>(
        _ type: Resource.Type, _ name: String
    ) async throws(ResourceStoreError) -> StoredObject<Resource>? {
        guard let stored = try await get(Resource.kind, name: name) else { return nil }
        return try StoredObject(stored)
    }

    /// The resources of the type whose labels match, and the revision to watch from.
    public func list<Resource: StoredResourceType>(
        _ type: Resource.Type, selector: ResourceSelector = .everything
    ) async throws(ResourceStoreError) -> (items: [StoredObject<Resource>], revision: Int64) {
        let list = try await list(Resource.kind, selector: selector)
        var items: [StoredObject<Resource>] = []
        items.reserveCapacity(list.items.count)
        for stored in list.items { items.append(try StoredObject(stored)) }
        return (items, list.revision)
    }

    public func create<Resource: StoredResourceType>(
        _ value: Resource, name: String, labels: [String: String] = [:]
    ) async throws(ResourceStoreError) -> StoredObject<Resource> {
        let stored = try await create(Resource.kind, name: name, labels: labels, document: try encodeDocument(value, name: name))
        return try StoredObject(stored)
    }

    /// Replaces the resource if it is still at `expectedVersion` (else `conflict`: read it again).
    public func update<Resource: StoredResourceType>(
        _ value: Resource, name: String, labels: [String: String] = [:], expectedVersion: Int64
    ) async throws(ResourceStoreError) -> StoredObject<Resource> {
        try StoredObject(try await updateDocument(value, name: name, labels: labels, expectedVersion: expectedVersion))
    }

    /// `update`, returning the value as written instead of decoding the stored document back: for
    /// a caller that keeps large resources it writes often.
    public func updateKeepingValue<Resource: StoredResourceType>(
        _ value: Resource, name: String, labels: [String: String] = [:], expectedVersion: Int64
    ) async throws(ResourceStoreError) -> StoredObject<Resource> {
        StoredObject(
            try await updateDocument(value, name: name, labels: labels, expectedVersion: expectedVersion),
            writing: value)
    }

    private func updateDocument<Resource: StoredResourceType>(
        _ value: Resource, name: String, labels: [String: String], expectedVersion: Int64
    ) async throws(ResourceStoreError) -> StoredResource {
        try await update(
            Resource.kind, name: name, labels: labels, document: try encodeDocument(value, name: name),
            expectedVersion: expectedVersion)
    }

    /// Deletes the resource (only if still at `expectedVersion`, when given); returns its last state.
    public func delete<Resource: StoredResourceType>(
        _ type: Resource.Type, _ name: String, expectedVersion: Int64? = nil
    ) async throws(ResourceStoreError) -> StoredObject<Resource> {
        try StoredObject(try await delete(Resource.kind, name: name, expectedVersion: expectedVersion))
    }

    /// The type's changes after `revision`, then as they commit (see `watch(_:selector:after:)`).
    public func watch<Resource: StoredResourceType>(
        _ type: Resource.Type, selector: ResourceSelector = .everything, after revision: Int64
    ) async throws(ResourceStoreError) -> some AsyncSequence<StoredObjectEvent<Resource>, any Error> & Sendable {
        let events = try await watch(Resource.kind, selector: selector, after: revision)
        return events.map { @Sendable event throws -> StoredObjectEvent<Resource> in
            StoredObjectEvent(change: event.change, object: try StoredObject(event.resource))
        }
    }

    private func encodeDocument<Resource: StoredResourceType>(
        _ value: Resource, name: String
    ) throws(ResourceStoreError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        do {
            return try encoder.encode(value)
        } catch {
            throw .invalid("\(Resource.kind) \"\(name)\": \(Resource.self) cannot be encoded as JSON: \(error)")
        }
    }
}
