// Where each replica is placed (its disk and size), as the node controller last saw it: the
// node's `scheduledReplica` maps follow placements only, so a replica's status writes (many per
// attach) need not have the node checked again. Kept current by the store watch and by each
// reconcile's list; what is seen is tied to the store revision it was seen at, so an event older
// than a list changes nothing. An event it cannot read, or a replica not seen before, counts as
// a change.

import Foundation
import ManagerModel
import ManagerStore
import Synchronization

final class ReplicaPlacements: Sendable {
    struct Placement: Equatable, Sendable {
        var diskID: String
        var size: Int64
    }

    private struct Seen {
        /// nil once deleted.
        var placement: Placement?
        var revision: Int64
    }

    private let seen = Mutex<[String: Seen]>([:])

    /// Records the replica event; true when it changes a placement.
    func changes(_ event: ResourceEvent) -> Bool {
        let placement = event.change == .deleted ? nil : Self.placement(in: event.resource.document)
        if event.change != .deleted && placement == nil { return true }
        return seen.withLock { seen in
            let before = seen[event.resource.name]
            if let before, before.revision >= event.revision { return false }
            seen[event.resource.name] = Seen(placement: placement, revision: event.revision)
            guard let before else { return true }
            return before.placement != placement
        }
    }

    /// Every replica's placement, read from the store (only the fields a placement needs are
    /// decoded), and recorded as seen at its revision. A document that cannot be read is left out.
    func list(from store: any ResourceStore) async throws -> [String: Placement] {
        let listed = try await store.list(.replicas, selector: .everything).items
        var placements: [String: Placement] = [:]
        seen.withLock { seen in
            for replica in listed {
                guard let placement = Self.placement(in: replica.document) else { continue }
                placements[replica.name] = placement
                if let known = seen[replica.name], known.revision >= replica.resourceVersion { continue }
                seen[replica.name] = Seen(placement: placement, revision: replica.resourceVersion)
            }
        }
        return placements
    }

    private struct Document: Decodable {
        struct Spec: Decodable {
            var diskID: String?
            var volumeSize: StringInt64?
        }
        var spec: Spec?
    }

    private static func placement(in document: Data) -> Placement? {
        guard let decoded = try? JSONDecoder().decode(Document.self, from: document) else { return nil }
        return Placement(diskID: decoded.spec?.diskID ?? "", size: decoded.spec?.volumeSize?.rawValue ?? 0)
    }
}
