// One process at a time: the store keeps an exclusive `flock` on `<directory>/store.lock` while it
// is open, so a second manager on the same directory fails at once instead of writing beside the
// first (its watches would miss the other's changes); "at once" is within 2 s, the longest a
// child being spawned may still share the lock after the store closed it. The kernel drops the
// lock when the process dies, so a killed store's directory opens again.

import Foundation
import ManagerModel

final class StoreDirectoryLock: Sendable {
    static let fileName = "store.lock"
    private let descriptor: Int32

    init(directory: String) throws(ResourceStoreError) {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName).path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .unavailable("cannot open \(path): errno \(errno)") }
        var attempts = 0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            attempts += 1
            // A child this process is spawning shares the lock's open file until it runs its
            // program (the descriptor is close-on-exec): a store closed a moment ago can still
            // look held. Tried again for up to 2 s before it counts as open elsewhere.
            if error == EWOULDBLOCK && attempts < Self.busyAttempts {
                usleep(Self.busyInterval)
                continue
            }
            _ = Foundation.close(descriptor)
            if error == EWOULDBLOCK { throw .unavailable("the store in \(directory) is open in another process") }
            throw .unavailable("cannot lock \(path): errno \(error)")
        }
        self.descriptor = descriptor
    }

    /// 100 tries 20 ms apart: 2 s.
    private static let busyAttempts = 100
    private static let busyInterval: useconds_t = 20_000

    deinit { _ = Foundation.close(descriptor) }
}
