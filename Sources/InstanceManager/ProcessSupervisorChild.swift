// The system side of a supervised process: launching it, learning that it exited, probing its port.
//
// Launch: posix_spawn, with stdin on /dev/null, stdout and stderr on one socket (the supervisor
// captures both, as Longhorn's instance manager writes both to the process's log), the signal
// mask emptied and every signal's disposition reset, and the child in a process group of its own
// (a terminal's ^C reaches the supervisor, which stops its children in order, not the children).
//
// No PR_SET_PDEATHSIG. posix_spawn runs no code of ours in the child, and fork() followed by
// Swift code before exec may deadlock in a multi-threaded process (a lock held by another thread
// at the fork stays held); prctl is variadic, so it cannot even be called from Swift without a C
// shim. It would also be wrong here: the death signal fires when the *thread* that spawned the
// child exits, and the supervisor spawns from the cooperative pool, whose threads may come and
// go. So a clean stop (`ProcessSupervisor.shutdown()`) stops every child, and a supervisor killed
// with SIGKILL leaves them running: the next supervisor with the same mark (Options.mark) stops
// them before it starts any (ProcessSupervisor.stopLeftovers).
//
// Exit: a thread per child blocks in waitid(WNOWAIT), which waits for the exit without reaping,
// then tells the supervisor, which reaps (waitpid) inside the actor. So the supervisor never
// signals a pid that was reaped and might have been reused, and no zombie is left. The waiting
// thread is not a cooperative-pool thread, and it waits for its own child only: the supervisor's
// process may run other children (Foundation's Process) that a waitpid(-1) would steal.

import Foundation
import CLinuxIO
import Glibc

/// A launched child: its pid and the read end of its output.
struct SpawnedChild {
    var pid: pid_t
    var output: Int32
}

/// Launches `binary` with `arguments` (argv[0] is the binary), stdout and stderr on one socket.
func spawnChild(binary: String, arguments: [String], mark: String?) throws(InstanceManagerError) -> SpawnedChild {
    // A socket pair rather than a pipe: it is made close-on-exec atomically (pipe2 is not
    // exported to Swift), so a child another thread spawns meanwhile cannot inherit the write end
    // and hold the output open.
    var ends: [Int32] = [-1, -1]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
        throw InstanceManagerError(.internalError, "cannot make an output socket pair: \(errnoText())")
    }
    shutdown(ends[0], Int32(SHUT_WR))
    shutdown(ends[1], Int32(SHUT_RD))
    defer { close(ends[1]) }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
    posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
    // Nothing else of the supervisor's reaches the child (spawnSupervisedChild closes the rest): a
    // descriptor it inherited (a listening socket, a parent's pipe) would stay open for as long as
    // the child runs, past the supervisor's own end, and make whoever waits for it wait as long.
    switch spawnSupervisedChild(binary, arguments: arguments, actions: &actions, mark: mark) {
    case .success(let pid):
        return SpawnedChild(pid: pid, output: ends[0])
    case .failure(let error):
        close(ends[0])
        throw InstanceManagerError(.internalError, "cannot start \(binary): \(error)")
    }
}

/// Calls `exited` on a thread of its own once `pid` has exited, leaving it to be reaped.
func watchForExit(of pid: pid_t, name: String, exited: @escaping @Sendable () -> Void) {
    let thread = Thread {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 {
            guard errno == EINTR else { break }  // ECHILD: already reaped; report it anyway
        }
        exited()
    }
    thread.name = "reaper \(name)"
    thread.start()
}

/// How a child ended, from waitpid's status.
enum ChildExit: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    var isClean: Bool { self == .exited(0) }

    /// Go's os/exec wording, which Longhorn's error_msg carries: "exit status 3", "signal: killed".
    var description: String {
        switch self {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "signal: \(signalDescription(signal))"
        }
    }
}

/// "killed", "terminated", "hangup": strsignal's text, lower-cased as Go prints it.
func signalDescription(_ signal: Int32) -> String {
    guard let text = strsignal(signal) else { return "signal \(signal)" }
    return String(cString: text).lowercased()
}

/// The terminate signals `replace` accepts, by name.
let terminateSignals: [String: Int32] = ["SIGHUP": SIGHUP, "SIGINT": SIGINT, "SIGTERM": SIGTERM, "SIGKILL": SIGKILL]

/// Whether something accepts TCP connections on `host:port` (a loopback connect answers at once:
/// accepted, or refused by a reset).
func isListening(host: String, port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 1, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(truncatingIfNeeded: port).bigEndian
    guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    } == 0
}

func errnoText() -> String { String(cString: strerror(errno)) }
