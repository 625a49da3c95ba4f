import Foundation
import ManagerModel
import ManagerStore
import Testing

@testable import ManagerControllers

/// Which replica events have the node checked again: those that change where a replica is placed.
@Suite struct ReplicaPlacementsTests {
    private func event(
        _ change: ResourceEvent.Change, _ name: String, revision: Int64, diskID: String = "disk-a",
        size: Int64 = 16 << 20, state: InstanceState = .stopped
    ) throws -> ResourceEvent {
        var replica = replicaResource(
            name, volume: "vol", size: size, engine: .v2, diskID: diskID, diskPath: "", dataDirectoryName: "")
        replica.status.currentState = state
        return ResourceEvent(
            change: change,
            resource: StoredResource(
                kind: .replicas, name: name, resourceVersion: revision, createRevision: 1, labels: [:],
                document: try JSONEncoder().encode(replica)))
    }

    @Test func onlyPlacementChangesCount() throws {
        let placements = ReplicaPlacements()
        #expect(placements.changes(try event(.added, "vol-r-1", revision: 2)))
        // Status writes leave the placement as it was.
        #expect(!placements.changes(try event(.modified, "vol-r-1", revision: 3, state: .starting)))
        #expect(!placements.changes(try event(.modified, "vol-r-1", revision: 4, state: .running)))
        #expect(placements.changes(try event(.modified, "vol-r-1", revision: 5, diskID: "disk-b")))
        #expect(placements.changes(try event(.modified, "vol-r-1", revision: 6, diskID: "disk-b", size: 32 << 20)))
        // An event older than what was seen changes nothing.
        #expect(!placements.changes(try event(.modified, "vol-r-1", revision: 4, diskID: "disk-c")))
        #expect(placements.changes(try event(.deleted, "vol-r-1", revision: 7)))
        // A replica not seen before, and a document that cannot be read, count as changes.
        #expect(placements.changes(try event(.modified, "vol-r-2", revision: 8)))
        let unreadable = ResourceEvent(
            change: .modified,
            resource: StoredResource(
                kind: .replicas, name: "vol-r-2", resourceVersion: 9, createRevision: 1, labels: [:],
                document: Data("{".utf8)))
        #expect(placements.changes(unreadable))
    }

    @Test func aListRecordsWhatItSaw() async throws {
        let scratch = try StoreScratch()
        let replica = replicaResource(
            "vol-r-1", volume: "vol", size: 16 << 20, engine: .v2, diskID: "disk-a", diskPath: "", dataDirectoryName: "")
        _ = try await scratch.store.create(replica, name: "vol-r-1")
        let placements = ReplicaPlacements()
        let listed = try await placements.list(from: scratch.store)
        #expect(listed == ["vol-r-1": ReplicaPlacements.Placement(diskID: "disk-a", size: 16 << 20)])
        let revision = try #require(try await scratch.store.get(Replica.self, "vol-r-1")?.resourceVersion)
        // The event of the write the list saw, and a later status write, change nothing.
        #expect(!placements.changes(try event(.added, "vol-r-1", revision: revision)))
        #expect(!placements.changes(try event(.modified, "vol-r-1", revision: revision + 1, state: .running)))
        #expect(placements.changes(try event(.modified, "vol-r-1", revision: revision + 2, diskID: "disk-b")))
    }
}
