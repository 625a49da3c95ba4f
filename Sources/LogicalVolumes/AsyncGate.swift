// Reactor-confined waiting primitives: no locks, because every user runs on the store's executor.

/// A FIFO mutual-exclusion lock for async control operations on one executor.
final class AsyncMutex {
    private var locked = false
    private var waiters: [UnsafeContinuation<Void, Never>] = []

    func lock() async {
        if !locked {
            locked = true
            return
        }
        await withUnsafeContinuation { waiters.append($0) }
    }

    func unlock() {
        precondition(locked, "unlock of an unlocked AsyncMutex")
        if waiters.isEmpty {
            locked = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// In-flight I/O accounting of one lvol with freeze and drain (SPDK freezes an lvol's I/O while
/// its metadata changes shape: snapshot, merge, resize, delete, cluster release).
final class IOFence {
    private(set) var inflight = 0
    private(set) var frozen = false
    private var resumeWaiters: [UnsafeContinuation<Void, Never>] = []
    private var drainWaiter: UnsafeContinuation<Void, Never>?

    /// Counts an I/O in; a frozen lvol makes the caller wait (`enterWhenThawed`) first.
    @inline(__always)
    func tryEnter() -> Bool {
        if frozen { return false }
        inflight += 1
        return true
    }

    func enterWhenThawed() async {
        while frozen { await withUnsafeContinuation { resumeWaiters.append($0) } }
        inflight += 1
    }

    @inline(__always)
    func leave() {
        inflight -= 1
        if inflight == 0, let waiter = drainWaiter {
            drainWaiter = nil
            waiter.resume()
        }
    }

    /// Stops new I/O and waits for in-flight I/O to finish. Callers hold the store's control lock.
    func freezeAndDrain() async {
        precondition(!frozen, "freeze of a frozen lvol")
        frozen = true
        if inflight > 0 { await withUnsafeContinuation { drainWaiter = $0 } }
    }

    func thaw() {
        frozen = false
        let waiters = resumeWaiters
        resumeWaiters.removeAll()
        for waiter in waiters { waiter.resume() }
    }
}
