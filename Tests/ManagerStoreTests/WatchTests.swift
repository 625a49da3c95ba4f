// Watches: the history after a revision in order, then live changes; kinds and selectors; the
// compacted history; slow and departed consumers; a closing store.

import Foundation
import ManagerModel
import ManagerStore
import Testing

@Suite struct WatchTests {
    let gadgets = Gadget.kind

    @Test func resumesAfterARevisionThenFollowsLiveChanges() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        for index in 1...5 {
            _ = try await store.create(gadgets, name: "g-\(index)", labels: [:], document: document("{}"))
        }
        let collector = EventCollector(try await store.watch(gadgets, selector: .everything, after: 2))
        let replayed = await collector.waitForEvents(3)
        #expect(replayed.map(\.revision) == [3, 4, 5])
        #expect(replayed.map(\.resource.name) == ["g-3", "g-4", "g-5"])
        #expect(replayed.allSatisfy { $0.change == .added })

        let updated = try await store.update(
            gadgets, name: "g-1", labels: ["l": "v"], document: document(#"{"size":9}"#), expectedVersion: 1)
        let deleted = try await store.delete(gadgets, name: "g-2", expectedVersion: nil)
        let all = await collector.waitForEvents(5)
        #expect(all.map(\.revision) == [3, 4, 5, 6, 7])
        #expect(all[3] == ResourceEvent(change: .modified, resource: updated))
        #expect(all[4] == ResourceEvent(change: .deleted, resource: deleted))
        #expect(all[4].resource.document == document("{}"), "a delete carries the last document")
        await collector.cancel()
        try store.close()
    }

    @Test func liveChangesDuringTheReplayAreNeitherLostNorRepeated() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path, options: .init(watchBufferEventsMax: 16))
        for index in 1...600 {
            _ = try await store.create(gadgets, name: "early-\(index)", labels: [:], document: document("{}"))
        }
        let collector = EventCollector(try await store.watch(nil, selector: .everything, after: 0))
        for index in 1...400 {
            _ = try await store.create(gadgets, name: "late-\(index)", labels: [:], document: document("{}"))
        }
        let events = await collector.waitForEvents(1_000)
        #expect(events.map(\.revision) == Array(1...1_000))
        try await Task.sleep(for: .milliseconds(100))
        #expect(collector.events.count == 1_000, "no event twice")
        await collector.cancel()
        try store.close()
    }

    @Test func filtersOnKindAndSelector() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let selected = EventCollector(
            try await store.watch(gadgets, selector: ResourceSelector(labels: ["node": "a"]), after: 0))
        let everything = EventCollector(try await store.watch(nil, selector: .everything, after: 0))
        _ = try await store.create(gadgets, name: "g1", labels: ["node": "a"], document: document("{}"))
        _ = try await store.create(gadgets, name: "g2", labels: ["node": "b"], document: document("{}"))
        _ = try await store.create(Widget.kind, name: "w1", labels: ["node": "a"], document: document("{}"))
        _ = try await store.create(gadgets, name: "g3", labels: ["node": "a", "disk": "d"], document: document("{}"))

        #expect(await everything.waitForEvents(4).map(\.resource.name) == ["g1", "g2", "w1", "g3"])
        #expect(await selected.waitForEvents(2).map(\.resource.name) == ["g1", "g3"])
        try await Task.sleep(for: .milliseconds(100))
        #expect(selected.events.count == 2)

        // The same filter over the history.
        let replay = EventCollector(try await store.watch(gadgets, selector: ResourceSelector(labels: ["node": "a"]), after: 0))
        #expect(await replay.waitForEvents(2).map(\.revision) == [1, 4])
        for collector in [selected, everything, replay] { await collector.cancel() }
        try store.close()
    }

    @Test func aRevisionOlderThanTheHistoryIsCompacted() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path, options: .init(historyLimit: 10))
        for index in 1...25 {
            _ = try await store.create(gadgets, name: "g-\(index)", labels: [:], document: document("{}"))
        }
        // Revisions 16…25 are kept: a watch after 15 or later resumes, one after 14 cannot.
        await #expect(throws: ResourceStoreError.compacted(requested: 14, oldestKept: 16)) {
            _ = try await store.watch(gadgets, selector: .everything, after: 14)
        }
        await #expect(throws: ResourceStoreError.compacted(requested: 0, oldestKept: 16)) {
            _ = try await store.watch(nil, selector: .everything, after: 0)
        }
        let collector = EventCollector(try await store.watch(gadgets, selector: .everything, after: 15))
        #expect(await collector.waitForEvents(10).map(\.revision) == Array(16...25))
        await collector.cancel()
        try store.close()

        // Still so after a restart.
        let reopened = try SQLiteResourceStore(directory: directory.path, options: .init(historyLimit: 10))
        await #expect(throws: ResourceStoreError.compacted(requested: 3, oldestKept: 16)) {
            _ = try await reopened.watch(nil, selector: .everything, after: 3)
        }
        try reopened.close()
    }

    @Test func aWatcherThatStopsReadingDoesNotHoldWritersOrBufferWithoutBound() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(
            directory: directory.path, options: .init(historyLimit: 50, watchBufferEventsMax: 4))
        let start = try await store.revision()
        // Nobody reads this stream: its buffer overflows at once and it falls back to the history.
        let stalled = try await store.watch(gadgets, selector: .everything, after: start)
        for index in 1...30 {
            _ = try await store.create(gadgets, name: "g-\(index)", labels: [:], document: document("{}"))
        }
        // It reads late, still within the history: it gets everything, in order.
        let late = EventCollector(stalled)
        #expect(await late.waitForEvents(30).map(\.revision) == Array(1...30))
        await late.cancel()

        // One that falls further behind than the history is ended with `compacted`: it lists again.
        let abandoned = try await store.watch(gadgets, selector: .everything, after: 30)
        for index in 31...120 {
            _ = try await store.create(gadgets, name: "g-\(index)", labels: [:], document: document("{}"))
        }
        let behind = EventCollector(abandoned)
        let error = await behind.waitForEnd()
        #expect(error == .compacted(requested: 30, oldestKept: 71))
        #expect(behind.events.isEmpty, "the missed changes were not kept in memory for it")
        try store.close()
    }

    @Test func aConsumerThatStopsIteratingEndsItsWatch() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let collector = EventCollector(try await store.watch(nil, selector: .everything, after: 0))
        _ = try await store.create(gadgets, name: "g", labels: [:], document: document("{}"))
        #expect(await collector.waitForEvents(1).count == 1)
        #expect(store.openWatchCount == 1)
        await collector.cancel()
        #expect(await eventually { store.openWatchCount == 0 })
        _ = try await store.create(gadgets, name: "h", labels: [:], document: document("{}"))
        try store.close()
    }

    @Test func closingTheStoreEndsItsWatches() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let collector = EventCollector(try await store.watch(nil, selector: .everything, after: 0))
        _ = try await store.create(gadgets, name: "g", labels: [:], document: document("{}"))
        #expect(await collector.waitForEvents(1).count == 1)
        try store.close()
        #expect(await collector.waitForEnd() == nil)
        await #expect(throws: ResourceStoreError.unavailable("the store is closed")) {
            _ = try await store.watch(nil, selector: .everything, after: 0)
        }
    }

    @Test func typedWatchDecodesEvents() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteResourceStore(directory: directory.path)
        let created = try await store.create(Gadget(size: 1, color: "red"), name: "g")
        _ = try await store.update(Gadget(size: 2, color: "red"), name: "g", expectedVersion: created.resourceVersion)
        _ = try await store.create(Widget(spec: [:]), name: "w")
        _ = try await store.delete(Gadget.self, "g")
        var seen: [(ResourceEvent.Change, Int, Int64)] = []
        for try await event in try await store.watch(Gadget.self, after: 0) {
            seen.append((event.change, event.object.value.size, event.revision))
            if seen.count == 3 { break }
        }
        #expect(seen.map(\.0) == [.added, .modified, .deleted])
        #expect(seen.map(\.1) == [1, 2, 2])
        #expect(seen.map(\.2) == [1, 2, 4])
        try store.close()
    }
}
