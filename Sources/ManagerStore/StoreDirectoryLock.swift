// One process at a time: the store keeps an exclusive `flock` on `<directory>/store.lock` while it
// is open, so a second manager on the same directory fails at once instead of writing beside the
// first (its watches would miss the other's changes). The kernel drops the lock when the process
// dies, so a killed store's directory opens again.

import Foundation
import ManagerModel

final class StoreDirectoryLock: Sendable {
    static let fileName = "store.lock"
    private let descriptor: Int32

    init(directory: String) throws(ResourceStoreError) {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName).path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .unavailable("cannot open \(path): errno \(errno)") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            _ = Foundation.close(descriptor)
            if error == EWOULDBLOCK { throw .unavailable("the store in \(directory) is open in another process") }
            throw .unavailable("cannot lock \(path): errno \(error)")
        }
        self.descriptor = descriptor
    }

    deinit { _ = Foundation.close(descriptor) }
}
