// The volumes whose last reconcile left a replica without a node (`Scheduled` False). What could
// let one be placed is outside the volume: a node or disk added, enabled or tagged, a setting
// changed, an instance manager running. A change to a node, a setting or an instance manager
// queues these volumes at once, rather than at the next resync.

import Synchronization

final class UnscheduledVolumes: Sendable {
    private let names = Mutex<Set<String>>([])

    func mark(_ name: String, unscheduled: Bool) {
        names.withLock { names in
            if unscheduled { names.insert(name) } else { names.remove(name) }
        }
    }

    var all: [String] { names.withLock { $0.sorted() } }
}
