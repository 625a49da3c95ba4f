// A daemon's clean shutdown on SIGINT and SIGTERM. The handler goes in with sigaction(2), so it is
// in place when `handleStopSignals` returns: a signal sent at any moment after that (say, the
// instant the daemon's socket appears) stops the daemon once it waits for one, and is never lost in
// a window where it is neither ignored nor handled. The handler only writes a byte to a pipe
// (async-signal-safe); a thread of its own reads the pipe and passes each signal on.

import BlockCore
import Foundation
import Glibc

/// The pipe's write end, for the signal handler (which can capture nothing).
nonisolated(unsafe) private var stopSignalPipe: Int32 = -1

/// Delivers SIGINT and SIGTERM to `stop`, from now until the process ends. Call it before the
/// daemon starts listening, so whoever sees it listen can stop it.
func handleStopSignals(_ stop: AsyncStream<Void>.Continuation) throws {
    precondition(stopSignalPipe < 0, "stop signals are handled once per process")
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else {
        throw BlockError(.ioError, "cannot make the stop-signal pipe", errno: errno)
    }
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    // A signal flood the reader has not caught up with drops bytes rather than block the handler.
    _ = fcntl(ends[1], F_SETFL, O_NONBLOCK)
    stopSignalPipe = ends[1]
    let readEnd = ends[0]
    Thread.detachNewThread {
        var byte: UInt8 = 0
        while true {
            let count = read(readEnd, &byte, 1)
            if count == 1 {
                stop.yield()
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }
    var action = sigaction()
    action.__sigaction_handler.sa_handler = { _ in
        let saved = errno
        var byte: UInt8 = 1
        _ = write(stopSignalPipe, &byte, 1)
        errno = saved
    }
    sigemptyset(&action.sa_mask)
    action.sa_flags = SA_RESTART
    for number in [SIGINT, SIGTERM] {
        guard sigaction(number, &action, nil) == 0 else {
            throw BlockError(.ioError, "cannot handle signal \(number)", errno: errno)
        }
    }
}
