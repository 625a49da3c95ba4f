// The requests a replica link has sent and not yet seen answered: a table of entries reused
// through a free list, so sending and answering a request costs no hashing and, once the table
// has grown to the link's peak depth, no allocation. A request's id names its entry (low 32 bits)
// and that entry's use count (high 32 bits): a reply finds its request by index, and a reply with
// an id that is not outstanding (never sent, already answered, or of an entry since reused) is
// refused. Each entry notes the watch tick it was sent in, not a clock reading: the link's watch
// counts ticks and judges the timeout from them. Confined to the link's reactor.

struct OutstandingRequests<Entry> {
    private struct Place {
        var entry: Entry?
        var generation: UInt32 = 0
        var sentTick: UInt64 = 0
    }

    private var places: [Place] = []
    private var free: [UInt32] = []
    private(set) var count = 0

    /// Stores `entry`, sent during `tick`; returns the id its reply must carry.
    mutating func insert(_ entry: Entry, tick: UInt64) -> UInt64 {
        let index: UInt32
        if let reused = free.popLast() {
            index = reused
        } else {
            index = UInt32(places.count)
            places.append(Place())
            free.reserveCapacity(places.count)
        }
        let i = Int(index)
        places[i].generation &+= 1
        places[i].entry = entry
        places[i].sentTick = tick
        count += 1
        return UInt64(places[i].generation) << 32 | UInt64(index)
    }

    /// Takes the request `id` names; nil when no such request is outstanding.
    mutating func remove(_ id: UInt64) -> Entry? {
        let i = Int(id & 0xFFFF_FFFF)
        guard i < places.count, places[i].generation == UInt32(truncatingIfNeeded: id >> 32),
            let entry = places[i].entry
        else { return nil }
        places[i].entry = nil
        free.append(UInt32(i))
        count -= 1
        return entry
    }

    /// The tick the longest-waiting request was sent in; nil when none is outstanding.
    var oldestTick: UInt64? {
        guard count > 0 else { return nil }
        var oldest = UInt64.max
        for place in places where place.entry != nil && place.sentTick < oldest { oldest = place.sentTick }
        return oldest
    }

    /// Takes every outstanding request.
    mutating func removeAll() -> [Entry] {
        var taken: [Entry] = []
        for i in places.indices {
            if let entry = places[i].entry {
                taken.append(entry)
                places[i].entry = nil
                free.append(UInt32(i))
            }
        }
        count = 0
        return taken
    }
}
