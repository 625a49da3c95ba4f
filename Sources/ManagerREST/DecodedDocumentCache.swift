// Decoded documents kept by name and resource version, so that a resource read again unchanged is
// not decoded again. A resource version names one document for good (the store never reuses a
// revision, and a document never changes without a new one), so an entry is either exactly what the
// store holds at that version or is not used: every request still reads the store, which stays the
// only truth; this only spares the JSON decoding of what it read.
//
// One cache belongs to one route group over one store. It holds at most `capacity` names; when a
// new name would pass that, it starts again empty (names come and go with resources, not with
// requests).

import ManagerModel
import Synchronization

final class DecodedDocumentCache<Resource: StoredResourceType>: Sendable {
    private struct Entry: Sendable {
        var version: Int64
        var value: Resource
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let capacity: Int

    init(capacity: Int = ManagerRESTLimits.decodedDocumentsMax) {
        self.capacity = max(1, capacity)
    }

    /// The stored resource's value: the one decoded earlier from the same version, else decoded now.
    func decode(_ stored: StoredResource) throws(APIError) -> Resource {
        let cached = entries.withLock { $0[stored.name] }
        if let cached, cached.version == stored.resourceVersion { return cached.value }
        let value = try StoredDocuments.decode(Resource.self, stored)
        entries.withLock { entries in
            if entries[stored.name] == nil, entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[stored.name] = Entry(version: stored.resourceVersion, value: value)
        }
        return value
    }

    /// How many names are held.
    var count: Int { entries.withLock { $0.count } }
}
