// posix_spawn of a supervised child: the file actions the caller gives (its stdin, stdout and
// stderr), every other inherited descriptor closed, the signal mask emptied and every signal's
// disposition reset, and the child leading a process group of its own (a terminal's ^C reaches
// the supervisor, which stops its children in order; a stop signal sent to the group reaches
// whatever the child runs itself). The child's environment is the supervisor's, with
// `HORNBILL_SUPERVISOR` set to the supervisor's mark (its record's path): a supervisor killed
// between a spawn and the record of it leaves a child the next one still finds
// (ProcessSupervisor.stopLeftovers).

import CLinuxIO
package import Glibc

/// Spawns `executable` (argv[0]) with `arguments` after `actions`; the pid, or posix_spawn's error
/// number.
package func spawnSupervisedChild(
    _ executable: String, arguments: [String], actions: inout posix_spawn_file_actions_t, mark: String?
) -> Result<Int32, SpawnError> {
    _ = hb_spawn_actions_add_close_from(&actions, 3)

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for argument in argv { free(argument) } }
    let environment: [UnsafeMutablePointer<CChar>?] =
        childEnvironment(mark: mark).map { strdup($0) } + [nil]
    defer { for variable in environment { free(variable) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environment)
    return result == 0 ? .success(pid) : .failure(SpawnError(number: result))
}

/// posix_spawn's failure: its error number and text.
package struct SpawnError: Error, CustomStringConvertible {
    package var number: Int32
    package var description: String { String(cString: strerror(number)) }
}

/// The variable that carries a supervisor's mark into its children.
package let supervisorMarkVariable = "HORNBILL_SUPERVISOR"

/// This process's environment without an inherited mark, and with `mark` when there is one.
func childEnvironment(mark: String?) -> [String] {
    var variables: [String] = []
    var cursor = environ
    while let variable = cursor.pointee {
        let text = String(cString: variable)
        if !text.hasPrefix(supervisorMarkVariable + "=") { variables.append(text) }
        cursor += 1
    }
    if let mark { variables.append("\(supervisorMarkVariable)=\(mark)") }
    return variables
}
