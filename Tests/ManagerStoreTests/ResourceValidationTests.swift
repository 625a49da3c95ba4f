// Bad kinds, names, labels and documents get a clear `invalid` error and change nothing.

import Foundation
import ManagerModel
import ManagerStore
import Testing

@Suite struct ResourceValidationTests {
    static let badNames = [
        "", "Upper", "under_score", "-leading", "trailing-", "white space", "slash/name", "ünïcode",
        String(repeating: "a", count: StoreLimits.nameLengthMax + 1),
    ]

    @Test(arguments: badNames)
    func badNamesAreRefused(name: String) async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let kind = Gadget.kind
        await expectInvalid { _ = try await store.create(kind, name: name, labels: [:], document: document("{}")) }
        // Reading a name no resource can have finds nothing (an API's GET answers 404).
        #expect(try await store.get(kind, name: name) == nil)
        await expectInvalid { _ = try await store.delete(kind, name: name, expectedVersion: nil) }
        #expect(try await store.revision() == 0)
        try store.close()
    }

    @Test func goodNamesAreAccepted() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        for name in [
            "a", "pvc-0a1b2c3d-r-1f2e3d4c", "instance-manager-5fca2e8b", "node-1.example.com",
            String(repeating: "a", count: StoreLimits.nameLengthMax),
        ] {
            _ = try await store.create(Gadget.kind, name: name, labels: [:], document: document("{}"))
        }
        #expect(try await store.list(Gadget.kind, selector: .everything).items.count == 5)
        try store.close()
    }

    @Test func badKindsAreRefused() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        for kind in ["", "1settings", "instance-managers", String(repeating: "k", count: StoreLimits.kindLengthMax + 1)] {
            let resourceKind = ResourceKind(rawValue: kind)
            await expectInvalid { _ = try await store.create(resourceKind, name: "x", labels: [:], document: document("{}")) }
            await expectInvalid { _ = try await store.list(resourceKind, selector: .everything) }
            await expectInvalid { _ = try await store.watch(resourceKind, selector: .everything, after: 0) }
        }
        #expect(try await store.revision() == 0)
        try store.close()
    }

    @Test func badLabelsAreRefused() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let bad: [[String: String]] = [
            ["": "x"], ["bad key": "x"], ["key": "bad value"], ["-key": "x"], ["Prefix/key": "x"], ["longhorn.io/": "x"],
            ["key": String(repeating: "v", count: StoreLimits.labelNameLengthMax + 1)],
            Dictionary(uniqueKeysWithValues: (0...StoreLimits.labelCountMax).map { ("k\($0)", "v") }),
        ]
        for labels in bad {
            await expectInvalid { _ = try await store.create(Gadget.kind, name: "g", labels: labels, document: document("{}")) }
        }
        #expect(try await store.revision() == 0)
        // Kubernetes-style keys with a prefix, and empty values, are fine.
        _ = try await store.create(
            Gadget.kind, name: "g", labels: ["longhorn.io/component": "instance-manager", "longhornnode": "n_1", "empty": ""],
            document: document("{}"))
        try store.close()
    }

    @Test func badDocumentsAreRefusedAndNothingChanges() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let original = try await store.create(Gadget.kind, name: "g", labels: [:], document: document(#"{"size":1}"#))
        let tooBig = Data(("{\"pad\":\"" + String(repeating: "x", count: StoreLimits.documentBytesMax) + "\"}").utf8)
        // Whole-text syntax counts, not only the top level: a bad value deep inside, or text after.
        let malformed = [#"{"a":{"b":[1,2}}"#, #"{"a":1} x"#, #"{"a":"\q"}"#, #"{"a":01}"#]
        for bad in [Data(), document("not json"), document("[1,2]"), document("\"text\""), tooBig] + malformed.map(document) {
            await expectInvalid { _ = try await store.create(Gadget.kind, name: "h", labels: [:], document: bad) }
            await expectInvalid {
                _ = try await store.update(Gadget.kind, name: "g", labels: [:], document: bad, expectedVersion: 1)
            }
        }
        do {
            _ = try await store.create(Gadget.kind, name: "h", labels: [:], document: tooBig)
        } catch {
            #expect(error.description.contains("more than the \(StoreLimits.documentBytesMax) allowed"), "\(error)")
        }
        #expect(try await store.get(Gadget.kind, name: "g") == original)
        #expect(try await store.get(Gadget.kind, name: "h") == nil)
        #expect(try await store.revision() == 1)

        // Just under the limit is accepted.
        let largest = Data(("{\"pad\":\"" + String(repeating: "x", count: StoreLimits.documentBytesMax - 10) + "\"}").utf8)
        #expect(largest.count == StoreLimits.documentBytesMax)
        _ = try await store.create(Gadget.kind, name: "h", labels: [:], document: largest)
        #expect(try await store.get(Gadget.kind, name: "h")?.document == largest)
        try store.close()
    }

    @Test func aNegativeWatchRevisionIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        await expectInvalid { _ = try await store.watch(nil, selector: .everything, after: -1) }
        try store.close()
    }

    @Test func aClosedStoreIsUnavailable() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        try store.close()
        await #expect(throws: ResourceStoreError.unavailable("the store is closed")) {
            _ = try await store.create(Gadget.kind, name: "g", labels: [:], document: document("{}"))
        }
        await #expect(throws: ResourceStoreError.unavailable("the store is closed")) { _ = try await store.revision() }
    }

    private func expectInvalid(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            try await body()
            Issue.record("accepted", sourceLocation: sourceLocation)
        } catch {
            guard case .invalid(let reason) = error as? ResourceStoreError else {
                Issue.record("\(error) is not invalid", sourceLocation: sourceLocation)
                return
            }
            #expect(!reason.isEmpty, sourceLocation: sourceLocation)
        }
    }
}
