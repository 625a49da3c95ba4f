// Timers on the reactor: an io_uring timeout request, so a timer fires on the reactor's own
// thread whatever the rest of the process is doing. Keep-alive timers of NVMe/TCP depend on this:
// a timer of the shared concurrency pool can be late when the pool's threads are all busy.

import BlockCore
import CLinuxIO
import Glibc

extension Reactor {
    /// Suspends the calling task for `duration`; on the reactor with io_uring, the timer is the
    /// ring's own. Elsewhere it is Task.sleep. Cancellation is not observed by the ring timer.
    public func sleep(for duration: Duration) async {
        guard usesIOUring else {
            try? await Task.sleep(for: duration)
            return
        }
        guard isCurrent else {
            await withTaskExecutorPreference(self) { await self.sleep(for: duration) }
            return
        }
        // A timer has a request of its own: it must not wait behind block I/O for a pool slot.
        let request = RingRequest()
        let (seconds, attoseconds) = duration.components
        // The timespec lives in the request's iovec table, which a timeout does not use otherwise.
        let timespec = UnsafeMutableRawPointer(request.iovecs)
        timespec.storeBytes(of: Int64(max(seconds, 0)), toByteOffset: 0, as: Int64.self)
        timespec.storeBytes(of: Int64(max(attoseconds / 1_000_000_000, 0)), toByteOffset: 8, as: Int64.self)
        let address = UInt64(UInt(bitPattern: timespec))
        otherRequestsInFlight += 1
        defer { otherRequestsInFlight -= 1 }
        _ = await withUnsafeContinuation { continuation in
            request.continuation = continuation
            let userData = request.userData
            submit { ring in hb_uring_prep_rw(&ring, 11 /* IORING_OP_TIMEOUT */, -1, address, 1, 0, 0, userData) }
        }
    }
}
