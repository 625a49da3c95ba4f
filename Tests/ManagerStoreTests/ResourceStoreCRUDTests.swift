// Create, read, list, compare-and-swap update and delete on a real store file.

import Foundation
import GRDB
import ManagerModel
import ManagerStore
import Testing

@Suite struct ResourceStoreCRUDTests {
    let gadgets = Gadget.kind

    @Test func createThenGetAndList() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let first = try await store.create(gadgets, name: "g-1", labels: ["node": "a"], document: document(#"{"size":1}"#))
        let second = try await store.create(gadgets, name: "g-2", labels: ["node": "b"], document: document(#"{"size":2}"#))
        #expect(first.resourceVersion == 1 && first.createRevision == 1)
        #expect(second.resourceVersion == 2 && second.createRevision == 2)

        let read = try #require(try await store.get(gadgets, name: "g-1"))
        #expect(read == first)
        #expect(read.document == document(#"{"size":1}"#))
        #expect(read.labels == ["node": "a"])
        #expect(try await store.get(gadgets, name: "g-3") == nil)
        #expect(try await store.get(Widget.kind, name: "g-1") == nil, "kinds are kept apart")

        let all = try await store.list(gadgets, selector: .everything)
        #expect(all.items.map(\.name) == ["g-1", "g-2"])
        #expect(all.revision == 2)
        #expect(try await store.revision() == 2)
        #expect(try await store.list(Widget.kind, selector: .everything).items.isEmpty)
        try store.close()
    }

    @Test func listSelectsOnEveryLabelGiven() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        _ = try await store.create(gadgets, name: "a", labels: ["node": "n1", "disk": "d1"], document: document("{}"))
        _ = try await store.create(gadgets, name: "b", labels: ["node": "n1", "disk": "d2"], document: document("{}"))
        _ = try await store.create(gadgets, name: "c", labels: ["node": "n2", "disk": "d1"], document: document("{}"))
        _ = try await store.create(gadgets, name: "d", labels: [:], document: document("{}"))

        func names(_ labels: [String: String]) async throws -> [String] {
            try await store.list(gadgets, selector: ResourceSelector(labels: labels)).items.map(\.name)
        }
        #expect(try await names(["node": "n1"]) == ["a", "b"])
        #expect(try await names(["disk": "d1"]) == ["a", "c"])
        #expect(try await names(["node": "n1", "disk": "d1"]) == ["a"])
        #expect(try await names(["node": "n3"]) == [])
        #expect(try await names([:]) == ["a", "b", "c", "d"])

        // Kubernetes-style keys, empty values and values that read as numbers or JSON literals.
        let labels: [(String, [String: String])] = [
            ("e", ["longhorn.io/component": "instance-manager", "empty": "", "count": "1"]),
            ("f", ["longhorn.io/component": "engine", "count": "01", "flag": "true"]),
            ("g", ["longhorn.io/component-x": "instance-manager", "flag": "null"]),
        ]
        for (name, set) in labels { _ = try await store.create(gadgets, name: name, labels: set, document: document("{}")) }
        let component = try await names(["longhorn.io/component": "instance-manager"])
        #expect(component == ["e"], "\(component)")
        #expect(try await names(["empty": ""]) == ["e"])
        #expect(try await names(["count": "1"]) == ["e"])
        #expect(try await names(["count": "01"]) == ["f"])
        #expect(try await names(["flag": "true"]) == ["f"])
        #expect(try await names(["flag": "null"]) == ["g"])
        #expect(try await names(["missing": ""]) == [])
        // A key no label can have selects nothing (and is no JSON path for the query).
        #expect(try await names(["a\"b": "x"]) == [])
        #expect(try await names(["node": "n1", "a\"]b": "x"]) == [])
        try store.close()
    }

    /// A store written before the label index existed gets it when opened: its resources are
    /// found by label, and the index follows later label changes and deletes.
    @Test func aStoreFromBeforeTheLabelIndexIsIndexedWhenOpened() async throws {
        let directory = try TemporaryDirectory()
        var store = try SQLiteResourceStore(directory: directory.path)
        _ = try await store.create(gadgets, name: "a", labels: ["node": "n1", "disk": "d1"], document: document("{}"))
        _ = try await store.create(gadgets, name: "b", labels: ["node": "n1"], document: document("{}"))
        _ = try await store.create(gadgets, name: "c", labels: [:], document: document("{}"))
        try store.close()
        // Back to the first schema: no index, and the migration not yet run.
        let database = try DatabaseQueue(path: directory.path + "/" + SQLiteResourceStore.fileName)
        try await database.write { db in
            try db.execute(sql: "DROP TABLE resource_labels")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier LIKE 'v2:%'")
        }
        try database.close()

        store = try SQLiteResourceStore(directory: directory.path)
        func names(_ labels: [String: String]) async throws -> [String] {
            try await store.list(gadgets, selector: ResourceSelector(labels: labels)).items.map(\.name)
        }
        #expect(try await names(["node": "n1"]) == ["a", "b"])
        #expect(try await names(["disk": "d1", "node": "n1"]) == ["a"])
        let b = try #require(try await store.get(gadgets, name: "b"))
        _ = try await store.update(gadgets, name: "b", labels: ["node": "n2"], document: document("{}"), expectedVersion: b.resourceVersion)
        _ = try await store.delete(gadgets, name: "a", expectedVersion: nil)
        #expect(try await names(["node": "n1"]) == [])
        #expect(try await names(["node": "n2"]) == ["b"])
        #expect(try await names(["disk": "d1"]) == [])
        try store.close()
    }

    @Test func listSelectsOnEveryFieldGivenAndOnLabelsWithThem() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let documents = [
            ("a", ["node": "n1"], #"{"metadata":{"name":"a"},"spec":{"nodeID":"n1","size":2,"active":true},"status":{"currentState":"running"}}"#),
            ("b", ["node": "n1"], #"{"metadata":{"name":"b"},"spec":{"nodeID":"n2","size":3,"active":false},"status":{"currentState":"stopped"}}"#),
            ("c", ["node": "n2"], #"{"metadata":{"name":"c"},"spec":{"nodeID":"n1","size":2.5},"status":{}}"#),
        ]
        for (name, labels, text) in documents {
            _ = try await store.create(gadgets, name: name, labels: labels, document: document(text))
        }
        func names(labels: [String: String] = [:], _ fields: [String: String]) async throws -> [String] {
            try await store.list(gadgets, selector: ResourceSelector(labels: labels, fields: fields)).items.map(\.name)
        }
        #expect(try await names(["spec.nodeID": "n1"]) == ["a", "c"])
        #expect(try await names(["metadata.name": "b"]) == ["b"])
        #expect(try await names(["spec.nodeID": "n1", "status.currentState": "running"]) == ["a"])
        // Numbers and booleans by their JSON text; a missing field matches only "".
        #expect(try await names(["spec.size": "2"]) == ["a"])
        #expect(try await names(["spec.size": "2.5"]) == ["c"])
        #expect(try await names(["spec.active": "true"]) == ["a"])
        #expect(try await names(["spec.active": "false"]) == ["b"])
        #expect(try await names(["status.currentState": ""]) == ["c"])
        #expect(try await names(["spec": ""]) == ["a", "b", "c"], "an object is no value")
        #expect(try await names(["spec.nodeID.more": "n1"]) == [])
        // With labels: both must hold.
        #expect(try await names(labels: ["node": "n1"], ["spec.nodeID": "n1"]) == ["a"])
        #expect(try await names(labels: ["node": "n2"], ["spec.nodeID": "n2"]) == [])
        try store.close()
    }

    @Test func createOfATakenNameFailsAndChangesNothing() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let original = try await store.create(gadgets, name: "g", labels: [:], document: document(#"{"size":1}"#))
        await #expect(throws: ResourceStoreError.alreadyExists(kind: gadgets, name: "g")) {
            _ = try await store.create(gadgets, name: "g", labels: [:], document: document(#"{"size":2}"#))
        }
        #expect(try await store.get(gadgets, name: "g") == original)
        #expect(try await store.revision() == 1)
        try store.close()
    }

    @Test func updateWithAStaleVersionConflictsAndChangesNothing() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let created = try await store.create(gadgets, name: "g", labels: ["v": "1"], document: document(#"{"size":1}"#))
        _ = try await store.create(gadgets, name: "other", labels: [:], document: document("{}"))
        let updated = try await store.update(
            gadgets, name: "g", labels: ["v": "2"], document: document(#"{"size":2}"#), expectedVersion: created.resourceVersion)
        #expect(updated.resourceVersion == 3)
        #expect(updated.createRevision == created.createRevision)
        #expect(updated.labels == ["v": "2"])

        // A writer that read version 1 loses: conflict naming both versions, nothing written.
        await #expect(throws: ResourceStoreError.conflict(kind: gadgets, name: "g", expected: 1, actual: 3)) {
            _ = try await store.update(
                gadgets, name: "g", labels: ["v": "stale"], document: document(#"{"size":99}"#), expectedVersion: 1)
        }
        #expect(try await store.get(gadgets, name: "g") == updated)
        #expect(try await store.revision() == 3)

        await #expect(throws: ResourceStoreError.notFound(kind: gadgets, name: "missing")) {
            _ = try await store.update(gadgets, name: "missing", labels: [:], document: document("{}"), expectedVersion: 1)
        }
        #expect(try await store.revision() == 3)
        try store.close()
    }

    @Test func deleteWithAndWithoutAnExpectedVersion() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let a = try await store.create(gadgets, name: "a", labels: ["x": "y"], document: document(#"{"size":1}"#))
        _ = try await store.create(gadgets, name: "b", labels: [:], document: document(#"{"size":2}"#))

        await #expect(throws: ResourceStoreError.conflict(kind: gadgets, name: "a", expected: 7, actual: 1)) {
            _ = try await store.delete(gadgets, name: "a", expectedVersion: 7)
        }
        #expect(try await store.get(gadgets, name: "a") == a)

        let gone = try await store.delete(gadgets, name: "a", expectedVersion: a.resourceVersion)
        #expect(gone.resourceVersion == 3, "a delete is stamped with its own revision")
        #expect(gone.document == a.document && gone.labels == a.labels && gone.createRevision == 1)
        #expect(try await store.get(gadgets, name: "a") == nil)

        let goneB = try await store.delete(gadgets, name: "b", expectedVersion: nil)
        #expect(goneB.resourceVersion == 4)
        #expect(try await store.list(gadgets, selector: .everything).items.isEmpty)

        await #expect(throws: ResourceStoreError.notFound(kind: gadgets, name: "a")) {
            _ = try await store.delete(gadgets, name: "a", expectedVersion: nil)
        }
        #expect(try await store.revision() == 4)

        // The name can be taken again, as a new resource.
        let again = try await store.create(gadgets, name: "a", labels: [:], document: document("{}"))
        #expect(again.createRevision == 5)
        try store.close()
    }

    @Test func typedHelpersEncodeAndDecodeResources() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let created = try await store.create(Gadget(size: 3, color: "red"), name: "g1", labels: ["node": "n1"])
        _ = try await store.create(Gadget(size: 4, color: "blue"), name: "g2")
        _ = try await store.create(Widget(spec: ["a": "b"]), name: "g1")
        #expect(created.value == Gadget(size: 3, color: "red"))

        let read = try #require(try await store.get(Gadget.self, "g1"))
        #expect(read.value == Gadget(size: 3, color: "red"))
        #expect(read.labels == ["node": "n1"])
        #expect(try await store.get(Widget.self, "g1")?.value == Widget(spec: ["a": "b"]))

        let raw = try #require(try await store.get(Gadget.kind, name: "g1"))
        #expect(raw.document == Data(#"{"color":"red","size":3}"#.utf8), "documents are JSON with sorted keys")

        let listed = try await store.list(Gadget.self, selector: ResourceSelector(labels: ["node": "n1"]))
        #expect(listed.items.map(\.value) == [Gadget(size: 3, color: "red")])
        #expect(listed.revision == 3)

        let updated = try await store.update(
            Gadget(size: 5, color: "red"), name: "g1", labels: ["node": "n1"], expectedVersion: read.resourceVersion)
        #expect(updated.value.size == 5)
        await #expect(throws: ResourceStoreError.conflict(kind: Gadget.kind, name: "g1", expected: 1, actual: 4)) {
            _ = try await store.update(Gadget(size: 6, color: "red"), name: "g1", expectedVersion: 1)
        }
        let deleted = try await store.delete(Gadget.self, "g1", expectedVersion: updated.resourceVersion)
        #expect(deleted.value == Gadget(size: 5, color: "red"))
        #expect(try await store.get(Gadget.self, "g1") == nil)

        // A stored document of another shape is a clear error, not a crash.
        _ = try await store.create(Gadget.kind, name: "odd", labels: [:], document: document(#"{"size":"big"}"#))
        await #expect(throws: ResourceStoreError.self) { _ = try await store.get(Gadget.self, "odd") }
        try store.close()
    }
}
