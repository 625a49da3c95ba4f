// Launching one child of the server: posix_spawn of the server's own executable with stdin on
// /dev/null, stdout and stderr appended to the child's log file, the signal mask emptied and
// every signal's disposition reset, and the child leading a process group of its own (a
// terminal's ^C reaches the server, which stops its children in order; a stop signal sent to the
// group reaches whatever the child runs itself). Nothing else of the server's descriptors is
// inherited. Its exit is learned by a thread of its own blocked in waitid(WNOWAIT), which leaves
// the reaping to the supervisor, so a pid is never signalled after it was reaped.

import Foundation
import Glibc
import InstanceManager

/// Starts `executable` with `arguments`, its output appended to `logPath`; answers its pid.
func spawnChild(executable: String, arguments: [String], logPath: String, mark: String) throws(ServerError) -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    switch spawnSupervisedChild(executable, arguments: arguments, actions: &actions, mark: mark) {
    case .success(let pid):
        return pid
    case .failure(let error):
        throw ServerError("cannot start \(executable) \(arguments.first ?? ""): \(error)")
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
    thread.name = "exit of \(name)"
    thread.start()
}

/// How a reaped child ended, in Go's os/exec wording ("exit status 3", "signal 9").
func exitDescription(waitStatus status: Int32) -> String {
    let signal = status & 0x7f
    return signal == 0 ? "exit status \((status >> 8) & 0xff)" : "signal \(signal)"
}

/// The server's own executable, for its children.
public func ownExecutable() throws(ServerError) -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else {
        throw ServerError("cannot find the server's own executable: \(String(cString: strerror(errno)))")
    }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
