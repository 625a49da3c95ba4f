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

/// Runs a program with its output discarded; its exit status, or nil when it cannot run or was
/// killed by a signal.
func run(_ program: String, _ arguments: [String]) -> Int32? {
    guard let result = runCapturingOutput(program, arguments), result.status < 128 else { return nil }
    return result.status
}

/// The names in a directory (none if it cannot be read), without "." and "..".
func directoryEntries(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}

/// A small file's text (sysfs attributes), at most 4 KiB; nil if it cannot be read.
func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 4096)
    let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    guard count >= 0 else { return nil }
    return String(decoding: bytes.prefix(count), as: UTF8.self)
}

extension String {
    func trimmingWhitespace() -> String {
        let characters = Array(self)
        guard let first = characters.firstIndex(where: { !$0.isWhitespace }),
            let last = characters.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(characters[first...last])
    }
}

/// Runs a program to its exit; its status and up to 64 KiB of its stdout and stderr, or nil when
/// it cannot run.
func runCapturingOutput(_ program: String, _ arguments: [String]) -> (status: Int32, output: String)? {
    guard access(program, X_OK) == 0 else { return nil }
    var pipeEnds: [Int32] = [0, 0]
    guard pipe(&pipeEnds) == 0 else { return nil }
    _ = fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
    posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
    let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, program, &actions, nil, argv, environ)
    close(pipeEnds[1])
    defer { close(pipeEnds[0]) }
    guard spawned == 0 else { return nil }
    let limit = 64 << 10
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { break }
        if output.count < limit { output.append(contentsOf: chunk.prefix(min(count, limit - output.count))) }
    }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { return nil }
    }
    return (status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), String(decoding: output, as: UTF8.self))
}
