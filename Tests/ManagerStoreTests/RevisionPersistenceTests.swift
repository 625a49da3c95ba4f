// The revision counter and the history survive a restart: a reopened store never hands out a
// revision again, and its resources and changes are all there.

import Foundation
import ManagerModel
@testable import ManagerStore
import Testing

@Suite struct RevisionPersistenceTests {
    @Test func revisionsKeepIncreasingAcrossRestarts() async throws {
        let directory = try TemporaryDirectory()
        var seen: [Int64] = []
        for round in 0..<3 {
            let store = try SQLiteResourceStore(directory: directory.path)
            #expect(try await store.revision() == seen.last ?? 0)
            let created = try await store.create(Gadget.kind, name: "g-\(round)", labels: [:], document: document("{}"))
            let updated = try await store.update(
                Gadget.kind, name: "g-\(round)", labels: [:], document: document(#"{"n":1}"#),
                expectedVersion: created.resourceVersion)
            let extra = try await store.create(Gadget.kind, name: "x-\(round)", labels: [:], document: document("{}"))
            let deleted = try await store.delete(Gadget.kind, name: "x-\(round)", expectedVersion: extra.resourceVersion)
            seen += [created.resourceVersion, updated.resourceVersion, extra.resourceVersion, deleted.resourceVersion]
            try store.close()
        }
        #expect(seen == Array(1...12))

        let store = try SQLiteResourceStore(directory: directory.path)
        #expect(try await store.revision() == 12)
        #expect(try await store.list(Gadget.kind, selector: .everything).items.map(\.name) == ["g-0", "g-1", "g-2"])
        #expect(try await store.get(Gadget.kind, name: "g-1")?.resourceVersion == 6)

        // The history from before the restarts replays in order.
        let collector = EventCollector(try await store.watch(nil, selector: .everything, after: 0))
        let events = await collector.waitForEvents(12)
        #expect(events.map(\.revision) == Array(1...12))
        #expect(events.prefix(4).map(\.change) == [.added, .modified, .added, .deleted])
        await collector.cancel()
        try store.close()
    }

    @Test func writesAreDurableByConfiguration() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let settings = try await store.durabilitySettings()
        #expect(settings.journalMode == "wal")
        #expect(settings.synchronous == 2, "synchronous=FULL")
        #expect(store.path == directory.path + "/" + SQLiteResourceStore.fileName)
        #expect(FileManager.default.fileExists(atPath: store.path))
        try store.close()
    }

    @Test func oneStoreAtATimeOpensADirectory() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        _ = try await store.create(Gadget.kind, name: "g", labels: [:], document: document("{}"))
        #expect(throws: ResourceStoreError.unavailable("the store in \(directory.path) is open in another process")) {
            _ = try SQLiteResourceStore(directory: directory.path)
        }
        try store.close()
        let reopened = try SQLiteResourceStore(directory: directory.path)
        #expect(try await reopened.revision() == 1)
        try reopened.close()
    }
}
