// A reactor: one thread, one event loop, one io_uring (SPDK's reactor). It is a Swift
// `TaskExecutor`: a task started with `reactor.run { … }` runs every job on this thread, so an
// I/O that suspends on a continuation resumes here, with no thread hop, lock or allocation.
//
// Loop: run the jobs ready now, once each (local queue, lock-free: only this thread touches it; the
// I/O jobs issue is queued on the ring) → take jobs other threads enqueued (a mutex and an eventfd
// wake-up) → submit what is queued and collect completions, waiting in io_uring_enter only when
// nothing is runnable → dispatch them by user_data, which resumes the continuations of the tasks
// that submitted them.
//
// Submission is batched in small groups: a job's I/O goes to the kernel as soon as
// `submitBatch` entries are queued, and whatever is left at the end of the round. Each
// io_uring_enter costs a system call and, on a virtio disk, a notification that exits to the
// hypervisor; one per I/O made NVMe/TCP serving 25-45% slower at queue depth 32. Holding
// everything to the end of the round instead left the disk idle while the round ran (0.70x the
// IOPS in-process). Groups of 8 did best on both (docs/benchmarks.md).
//
// Without io_uring (setup refused, or disabled by options) the loop blocks on the eventfd instead,
// and devices complete I/O on worker threads.

public import BlockCore
import CLinuxIO
import Glibc
import Synchronization

public final class Reactor: IOExecutor, @unchecked Sendable {
    public struct Options: Sendable {
        public var ringEntries: Int
        public var useIOUring: Bool
        /// Microseconds an idle reactor polls its ring before sleeping (0: sleep at once).
        public var pollMicroseconds: Int
        /// Ring entries queued before they are submitted mid-round (1: each at once).
        public var submitBatch: Int

        public init(
            ringEntries: Int = DeviceLimits.defaultRingEntries, useIOUring: Bool = true,
            pollMicroseconds: Int = DeviceLimits.defaultPollMicroseconds,
            submitBatch: Int = DeviceLimits.defaultSubmitBatch
        ) {
            self.ringEntries = ringEntries
            self.useIOUring = useIOUring
            self.pollMicroseconds = pollMicroseconds
            self.submitBatch = submitBatch
        }
    }

    public let name: String
    /// True when I/O goes through this reactor's io_uring.
    public private(set) var usesIOUring = false
    /// Why io_uring is not used, when it is not.
    public private(set) var ioUringUnavailableReason: String?
    private let ringEntries: Int
    private let pollNanoseconds: UInt64
    private let submitBatch: UInt32
    /// Ring requests in flight outside the pool (sockets, timers): completions to collect.
    var otherRequestsInFlight = 0
    private var ringResult: Int32 = -ENOSYS
    private var started = sem_t()

    var ring = hb_uring()
    let requests: RingRequestPool
    private var localJobs: [UnownedJob] = []
    private var runningJobs: [UnownedJob] = []
    private var roundEndWork: [any RoundEndWork] = []
    private var roundEndRunning: [any RoundEndWork] = []
    private let remoteJobs = Mutex<[UnownedJob]>([])
    /// The remote queue's other array: swapped in under the lock, emptied on the reactor.
    private var remoteSpare: [UnownedJob] = []
    private let wakeFD: Int32
    private var wakeBuffer: UInt64 = 0
    private var thread = pthread_t()
    private let stopping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private static let wakeTag: UInt64 = 1

    nonisolated(unsafe) private static var currentKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// The reactor whose thread is calling, if any.
    public static var current: Reactor? {
        guard let pointer = pthread_getspecific(currentKey) else { return nil }
        return Unmanaged<Reactor>.fromOpaque(pointer).takeUnretainedValue()
    }

    public init(name: String, options: Options = .init()) throws {
        self.name = name
        let fd = hb_eventfd()
        guard fd >= 0 else { throw BlockError(.ioError, "reactor \(name): eventfd failed", errno: -fd) }
        wakeFD = fd
        precondition((1...32768).contains(options.ringEntries), "ring entries must be 1...32768, not \(options.ringEntries)")
        ringEntries = options.useIOUring ? options.ringEntries : 0
        precondition(options.pollMicroseconds >= 0, "poll time must not be negative")
        pollNanoseconds = UInt64(options.pollMicroseconds) * 1000
        precondition(options.submitBatch >= 1, "a submission batch holds at least one entry")
        submitBatch = UInt32(options.submitBatch)
        // No more requests than the ring has entries, so a submission always finds room.
        requests = RingRequestPool(capacity: min(ringEntries, DeviceLimits.maxRequestsPerReactor))
        sem_init(&started, 0, 0)
        let box = Unmanaged.passRetained(self)
        let created = pthread_create(&thread, nil, reactorThreadEntry, box.toOpaque())
        guard created == 0 else {
            box.release()
            close(wakeFD)
            throw BlockError(.ioError, "reactor \(name): cannot start its thread", errno: created)
        }
        // The ring is made on the reactor's own thread (it alone submits and waits).
        while sem_wait(&started) != 0 {}
        usesIOUring = ringResult == 0
        ioUringUnavailableReason =
            options.useIOUring
            ? (ringResult == 0 ? nil : "io_uring_setup failed: \(String(cString: strerror(-ringResult)))")
            : "disabled by options"
    }

    deinit { close(wakeFD) }

    /// True on this reactor's thread while its loop runs. Read from the thread-local that the loop
    /// sets, not by comparing thread ids: a finished thread's id can be reused by a new thread.
    public var isCurrent: Bool {
        pthread_getspecific(Self.currentKey) == Unmanaged.passUnretained(self).toOpaque()
    }

    /// Runs `body` as a task that prefers this reactor: all of it runs on the reactor's thread.
    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        try await withTaskExecutorPreference(self) { try await body() }
    }

    /// Queues a job. Jobs enqueued after `shutdown()` has ended the loop never run, so a reactor
    /// must outlive the tasks that prefer it.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if isCurrent {
            localJobs.append(job)
            return
        }
        remoteJobs.withLock { $0.append(job) }
        wake()
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Stops the loop once queued jobs have run, and waits for the thread to end. Idempotent;
    /// must not be called from the reactor itself.
    public func shutdown() {
        precondition(!isCurrent, "a reactor cannot shut itself down")
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else {
            while !stopped.load(ordering: .acquiring) { usleep(100) }
            return
        }
        wake()
        pthread_join(thread, nil)
        stopped.store(true, ordering: .releasing)
    }

    // MARK: - The loop

    fileprivate func loop() {
        pthread_setspecific(Self.currentKey, Unmanaged.passUnretained(self).toOpaque())
        // The thread carries the reactor's name (as SPDK's reactor_0 does), so `top -H` shows
        // which one is busy; Linux keeps 15 bytes of it.
        _ = hb_set_thread_name(name)
        if ringEntries > 0 { ringResult = hb_uring_init(&ring, UInt32(ringEntries)) }
        let ready = ringResult == 0
        sem_post(&started)
        if ready { armWake() }
        while true {
            runOneRound()
            runRoundEndWork()
            takeRemoteJobs()
            let idle = localJobs.isEmpty
            if idle && stopping.load(ordering: .acquiring) && requests.inUse == 0 { break }
            if ready {
                // Submit what the round queued. Busy: collect whatever completed without waiting,
                // so a task that keeps yielding cannot starve the I/O it waits for. Idle: sleep
                // until a completion or a wake-up.
                if idle || requests.inUse > 0 || otherRequestsInFlight > 0 || hb_uring_pending(&ring) > 0 {
                    if idle && pollNanoseconds > 0 && poll() { continue }
                    let result = hb_uring_submit_and_wait(&ring, idle ? 1 : 0, 1)
                    precondition(
                        result >= 0 || result == -EBUSY || result == -EAGAIN, "io_uring_enter failed: \(-result)")
                    reapCompletions()
                }
            } else if idle {
                _ = read(wakeFD, &wakeBuffer, 8)
            }
        }
        pthread_setspecific(Self.currentKey, nil)
        if ready { hb_uring_destroy(&ring) }
    }

    /// Polls the ring without sleeping for up to the poll window; true once something completed
    /// (or another thread woke the reactor), false when the window passed with nothing.
    private func poll() -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let start = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
        while true {
            let result = hb_uring_submit_and_wait(&ring, 0, 1)
            precondition(result >= 0 || result == -EBUSY || result == -EAGAIN, "io_uring_enter failed: \(-result)")
            if reapCompletions() > 0 || !localJobs.isEmpty { return true }
            // Let another runnable thread have the core: with more pollers than cores (a client,
            // a controller and its replicas on one machine) spinning would delay the peer that is
            // about to answer.
            sched_yield()
            clock_gettime(CLOCK_MONOTONIC, &now)
            if UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec) - start >= pollNanoseconds { return false }
        }
    }

    /// Runs the jobs that are ready now, once each. Jobs they enqueue wait for the next round, so
    /// completions and other threads' jobs are taken between rounds.
    private func runOneRound() {
        swap(&runningJobs, &localJobs)
        for job in runningJobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
        runningJobs.removeAll(keepingCapacity: true)
    }

    /// Asks for `work.roundEnded()` once the jobs of this round have run, before the round's ring
    /// entries go to the kernel: a connection sends there what the round's jobs appended, in one
    /// request, without a task of its own. Reactor thread only: from a job, or from a ring
    /// completion (the loop runs a round after reaping). Asking twice in a round calls twice.
    public func atRoundEnd(_ work: any RoundEndWork) {
        precondition(isCurrent, "round-end work is asked for on the reactor's thread")
        roundEndWork.append(work)
    }

    private func runRoundEndWork() {
        guard !roundEndWork.isEmpty else { return }
        swap(&roundEndWork, &roundEndRunning)
        for work in roundEndRunning { work.roundEnded() }
        roundEndRunning.removeAll(keepingCapacity: true)
    }

    /// Moves other threads' jobs to the local queue, swapping arrays so that nothing is allocated.
    private func takeRemoteJobs() {
        remoteJobs.withLock { swap(&$0, &remoteSpare) }
        if !remoteSpare.isEmpty {
            localJobs.append(contentsOf: remoteSpare)
            remoteSpare.removeAll(keepingCapacity: true)
        }
    }

    private func armWake() {
        withUnsafeMutablePointer(to: &wakeBuffer) { pointer in
            _ = hb_uring_prep_rw(&ring, UInt8(HB_OP_READ), wakeFD, UInt64(UInt(bitPattern: pointer)), 8, 0, 0, Self.wakeTag)
        }
    }

    @discardableResult
    private func reapCompletions() -> Int {
        var userData: UInt64 = 0
        var result: Int32 = 0
        var count = 0
        while hb_uring_reap(&ring, &userData, &result) == 1 {
            count += 1
            if userData == Self.wakeTag {
                armWake()
            } else {
                RingRequest.complete(userData: userData, result: result)
            }
        }
        return count
    }

    // MARK: - Submission (reactor thread only)

    /// Prepares one SQE; hands the queued ones to the kernel once `submitBatch` are waiting (the
    /// loop submits the rest at the end of the round, before it polls or sleeps).
    @inline(__always)
    func submit(_ prepare: (inout hb_uring) -> Int32) {
        if prepare(&ring) != 0 {
            // The ring is full of unsubmitted entries (only when the kernel refused some): push
            // them and retry once.
            _ = hb_uring_submit_and_wait(&ring, 0, 1)
            reapCompletions()
            let again = prepare(&ring)
            precondition(again == 0, "io_uring submission queue stays full")
        }
        if hb_uring_pending(&ring) >= submitBatch { _ = hb_uring_submit_and_wait(&ring, 0, 0) }
    }
}

/// Work a reactor runs at the end of a round (`Reactor.atRoundEnd`).
public protocol RoundEndWork: AnyObject {
    func roundEnded()
}

private func reactorThreadEntry(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    let reactor = Unmanaged<Reactor>.fromOpaque(argument!).takeRetainedValue()
    reactor.loop()
    return nil
}
