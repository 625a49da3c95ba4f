// What the instance manager asks the host: a path's device numbers and type, a directory's
// existence, a helper program's exit status.

import Glibc

/// A disk path's identity: "<major>-<minor>" of a block device; "file-<major>-<minor>-<inode>"
/// for a regular file (the device holding it and its inode, stable while the file exists).
func diskIdentity(ofPath path: String) throws(InstanceManagerError) -> String {
    var info = stat()
    guard stat(path, &info) == 0 else {
        throw InstanceManagerError(
            .invalidArgument, "cannot use disk path \(path): \(String(cString: strerror(errno)))")
    }
    let type = info.st_mode & S_IFMT
    if type == S_IFBLK {
        return "\(deviceMajor(info.st_rdev))-\(deviceMinor(info.st_rdev))"
    }
    if type == S_IFREG {
        guard info.st_size > 0 else {
            throw InstanceManagerError(.invalidArgument, "disk path \(path) is an empty file")
        }
        return "file-\(deviceMajor(info.st_dev))-\(deviceMinor(info.st_dev))-\(info.st_ino)"
    }
    throw InstanceManagerError(.invalidArgument, "disk path \(path) is neither a block device nor a regular file")
}

/// Linux's encoding of dev_t (glibc's gnu_dev_major / gnu_dev_minor).
private func deviceMajor(_ device: dev_t) -> UInt64 { (UInt64(device) >> 8) & 0xfff | (UInt64(device) >> 32) & ~0xfff }
private func deviceMinor(_ device: dev_t) -> UInt64 { UInt64(device) & 0xff | (UInt64(device) >> 12) & ~0xff }

func directoryExists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
}

/// Runs a program with its output discarded; its exit status, or nil when it cannot run.
func run(_ program: String, _ arguments: [String]) -> Int32? {
    guard access(program, X_OK) == 0 else { return nil }
    var pid = pid_t()
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    guard posix_spawn(&pid, program, &actions, nil, argv, environ) == 0 else { return nil }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { return nil }
    }
    // WIFEXITED / WEXITSTATUS.
    return status & 0x7f == 0 ? (status >> 8) & 0xff : nil
}
