// The fallback path when io_uring is unavailable: blocking system calls on a small fixed pool of
// threads. A caller's task suspends until a worker has run its call, so several I/Os can still be
// in flight at once (up to the number of workers).

import Glibc
import Synchronization

final class BlockingWorkers: @unchecked Sendable {
    static let shared = BlockingWorkers(threads: DeviceLimits.fallbackWorkerThreads)

    private struct Job: @unchecked Sendable {
        var call: () -> Int
        var continuation: UnsafeContinuation<Int, Never>
    }

    private let queue = Mutex<[Job]>([])
    private var available = sem_t()

    private init(threads: Int) {
        sem_init(&available, 0, 0)
        for _ in 0..<threads {
            var thread = pthread_t()
            let box = Unmanaged.passRetained(self)
            pthread_create(&thread, nil, workerEntry, box.toOpaque())
            pthread_detach(thread)
        }
    }

    /// Runs `call` on a worker thread; returns its result (by convention -errno on failure).
    nonisolated(nonsending) func run(_ call: @escaping () -> Int) async -> Int {
        await withUnsafeContinuation { continuation in
            let job = Job(call: call, continuation: continuation)
            queue.withLock { $0.append(job) }
            sem_post(&available)
        }
    }

    fileprivate func work() -> Never {
        while true {
            while sem_wait(&available) != 0 {}
            let job = queue.withLock { $0.removeFirst() }
            job.continuation.resume(returning: job.call())
        }
    }
}

private func workerEntry(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<BlockingWorkers>.fromOpaque(argument!).takeRetainedValue().work()
}
