// The keys waiting to be reconciled. A key is queued at most once; a key added while it is being
// reconciled is queued again when that reconcile ends (the reconcile may have read state from
// before the change), so one key is never reconciled twice at once and no change is missed.
// A key added with a delay (a retry) is queued when the delay ends unless it was queued earlier.
// Keys of a periodic resync wait behind every other key (a change, a retry): a resync of many keys
// does not delay the reconcile of what just changed. A resync key added again for a change moves
// ahead.

/// A queue of keys with the "one reconcile at a time per key" rule.
actor WorkQueue {
    private var queue: [String] = []
    /// Resync keys, taken once `queue` is empty.
    private var background: [String] = []
    private var queued: Set<String> = []
    private var queuedInBackground: Set<String> = []
    private var processing: Set<String> = []
    /// Keys added while being processed: queued again by `done`.
    private var dirty: Set<String> = []
    private var waiters: [CheckedContinuation<String?, Never>] = []
    private var isShutDown = false

    /// Queues `key` now (once, however often it is added); `inBackground` (a resync) behind every
    /// key added without it.
    func add(_ key: String, inBackground: Bool = false) {
        guard !isShutDown else { return }
        if processing.contains(key) {
            dirty.insert(key)
            return
        }
        if queued.contains(key) { return }
        if queuedInBackground.contains(key) {
            guard !inBackground else { return }
            queuedInBackground.remove(key)
            background.removeAll { $0 == key }
        }
        if !waiters.isEmpty {
            processing.insert(key)
            waiters.removeFirst().resume(returning: key)
        } else if inBackground {
            queuedInBackground.insert(key)
            background.append(key)
        } else {
            queued.insert(key)
            queue.append(key)
        }
    }

    /// Queues `key` after `delay` (a retry's backoff).
    nonisolated func add(_ key: String, after delay: Duration) {
        Task {
            try? await Task.sleep(for: delay)
            await self.add(key)
        }
    }

    /// The next key to reconcile, waiting for one; nil once the queue is shut down.
    func next() async -> String? {
        if isShutDown { return nil }
        if !queue.isEmpty {
            let key = queue.removeFirst()
            queued.remove(key)
            processing.insert(key)
            return key
        }
        if !background.isEmpty {
            let key = background.removeFirst()
            queuedInBackground.remove(key)
            processing.insert(key)
            return key
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Ends the reconcile of `key`; queues it again if it changed meanwhile.
    func done(_ key: String) {
        processing.remove(key)
        if dirty.remove(key) != nil { add(key) }
    }

    /// Wakes every waiter with nil; later adds are ignored.
    func shutDown() {
        isShutDown = true
        queue.removeAll()
        queued.removeAll()
        background.removeAll()
        queuedInBackground.removeAll()
        for waiter in waiters { waiter.resume(returning: nil) }
        waiters.removeAll()
    }
}
