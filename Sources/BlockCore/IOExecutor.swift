/// An executor that I/O channels are confined to (a reactor). Per-I/O state of a channel or of an
/// lvstore is touched only on its executor's thread, so the data path needs no locks.
public protocol IOExecutor: TaskExecutor {
    /// True when the calling thread is the one this executor runs jobs on.
    var isCurrent: Bool { get }
}
