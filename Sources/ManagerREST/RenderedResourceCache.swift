// The encoded answer to a GET of one resource, kept with what it was rendered from: the resource's
// version and whatever else the answer shows (a node's address, the links' origin). A request whose
// inputs are all the same gets the same bytes without encoding them again; any other renders anew
// and replaces the entry. The inputs are read from the store on every request, so an entry is
// never used for a resource that changed.
//
// At most `capacity` names are held; when a new name would pass that, the cache starts again empty.

import NIOCore
import Synchronization

final class RenderedResourceCache<Inputs: Hashable & Sendable>: Sendable {
    private struct Entry: Sendable {
        var inputs: Inputs
        var body: ByteBuffer
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let capacity: Int

    init(capacity: Int = ManagerRESTLimits.renderedResourcesMax) {
        self.capacity = max(1, capacity)
    }

    /// The JSON of resource `name` rendered from `inputs`: the kept bytes when they were rendered
    /// from equal inputs, else `render()`'s, kept for the next request.
    func body(name: String, inputs: Inputs, render: () throws(APIError) -> some Encodable) throws -> ByteBuffer {
        let cached = entries.withLock { $0[name] }
        if let cached, cached.inputs == inputs { return cached.body }
        let body = ByteBuffer(bytes: try APIResponse.encode(try render()))
        entries.withLock { entries in
            if entries[name] == nil, entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[name] = Entry(inputs: inputs, body: body)
        }
        return body
    }

    /// How many names are held.
    var count: Int { entries.withLock { $0.count } }
}
