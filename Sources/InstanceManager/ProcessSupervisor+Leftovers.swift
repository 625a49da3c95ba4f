// V1 processes left over by an instance manager that was killed (SIGKILL leaves its children
// running, ProcessSupervisorChild.swift). While it runs, the instance manager records each child
// as "<pid> <start time> <name>" (the start time is field 22 of /proc/<pid>/stat, in clock ticks
// since boot), rewritten on every change. The next instance manager stops each recorded process
// that is still alive with the same start time: a pid reused by another process since has another
// start time and is left alone. A child started just before the kill may not be recorded yet: it
// carries the record's path as its supervisor's mark (ProcessSpawn.swift), and the next
// supervisor stops every process so marked too.

import Foundation
import Glibc

/// One recorded child.
public struct LeftoverProcess: Sendable, Equatable {
    public var pid: Int32
    public var startTime: UInt64
    public var name: String
}

extension ProcessSupervisor {
    /// Writes the running children to `path` now and after every change, until cancelled.
    public nonisolated func recordChildren(to path: String) async {
        let changes = self.changes.subscribe()
        await writeChildRecord(to: path)
        for await _ in changes {
            await writeChildRecord(to: path)
        }
    }

    /// Writes the running children to `path` (atomically: a temporary file renamed over it).
    public func writeChildRecord(to path: String) {
        let lines = childRecordLines()
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(lines.sorted().joined().utf8)) else { return }
        _ = rename(temporary, path)
    }

    /// Stops (SIGKILL, the whole process group) each process recorded in `path` that is still the
    /// same process, and each process marked with `path` (started, not recorded yet), then removes
    /// the record. Answers what it stopped.
    @discardableResult
    public static func stopLeftovers(recordedIn path: String) -> [LeftoverProcess] {
        var stopped: [LeftoverProcess] = []
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2)
            guard fields.count == 3, let pid = Int32(fields[0]), pid > 1, let start = UInt64(fields[1]) else { continue }
            guard processStartTime(pid) == start else { continue }
            stopGroup(of: pid)
            stopped.append(LeftoverProcess(pid: pid, startTime: start, name: String(fields[2])))
        }
        for pid in processesMarked(path) {
            // A process of a group stopped above (a child's own child) went with it.
            let group = getpgid(pid)
            guard !stopped.contains(where: { $0.pid == pid || $0.pid == group }), let start = processStartTime(pid)
            else { continue }
            stopGroup(of: pid)
            stopped.append(LeftoverProcess(pid: pid, startTime: start, name: processName(pid) ?? "pid \(pid)"))
        }
        _ = unlink(path)
        return stopped
    }

    /// Each child leads a process group of its own; its own children go with it.
    private static func stopGroup(of pid: Int32) {
        if kill(-pid, SIGKILL) != 0 { _ = kill(pid, SIGKILL) }
    }

    /// Processes other than this one whose environment carries `mark` as their supervisor's.
    static func processesMarked(_ mark: String) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let wanted = Array("\(supervisorMarkVariable)=\(mark)".utf8)
        let own = getpid()
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid > 1, pid != own,
                let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ")
            else { return nil }
            return environment.split(separator: 0).contains { $0.elementsEqual(wanted) } ? pid : nil
        }
    }

    /// The command name of `pid` (/proc/<pid>/comm).
    private static func processName(_ pid: Int32) -> String? {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Field 22 of /proc/<pid>/stat (start time in clock ticks after boot); nil if there is no such
/// process or it is a zombie.
public func processStartTime(_ pid: Int32) -> UInt64? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return nil }
    // After "pid (comm)": field 3 (state) onwards.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 19, fields[0] != "Z" else { return nil }
    return UInt64(fields[19])
}
