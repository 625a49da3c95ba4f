// What the machine can still give this process, for checking sizes a client chooses before they
// are allocated: an allocation the process cannot have must be refused with ENOMEM, not trap in
// the allocator or wake the kernel's OOM killer. The kernel's own estimate (MemAvailable: free
// memory plus what it can reclaim without swapping) is the measure; where /proc is missing,
// physical memory is. In a container whose memory cgroup has a limit (a Kubernetes pod's), what
// is left under the limit counts too, whichever is less: the limit less the working set (usage
// without the inactive file cache the kernel reclaims first), as the kubelet reckons it.

import Glibc

public enum SystemMemory {
    /// Bytes the kernel estimates can be allocated now without swapping.
    public static func availableBytes() -> UInt64 {
        var available: UInt64
        if let fromKernel = meminfoValue("MemAvailable") {
            available = fromKernel
        } else {
            let pages = UInt64(max(sysconf(Int32(_SC_PHYS_PAGES)), 0))
            available = pages * UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 0))
        }
        if let underLimit = cgroupAvailableBytes() { available = min(available, underLimit) }
        return available
    }

    /// What the memory cgroup this process runs in (as mounted in its namespace) has left under
    /// its limit; nil without a limit. cgroup v2 first, then v1.
    static func cgroupAvailableBytes() -> UInt64? {
        let layouts = [
            (limit: "/sys/fs/cgroup/memory.max", usage: "/sys/fs/cgroup/memory.current",
             stat: "/sys/fs/cgroup/memory.stat", inactive: "inactive_file"),
            (limit: "/sys/fs/cgroup/memory/memory.limit_in_bytes", usage: "/sys/fs/cgroup/memory/memory.usage_in_bytes",
             stat: "/sys/fs/cgroup/memory/memory.stat", inactive: "total_inactive_file"),
        ]
        for layout in layouts {
            guard let limitText = readSmallFile(layout.limit) else { continue }
            // "max" (v2) or a number near 2^63 (v1) means no limit.
            guard let limit = UInt64(limitText.trimmingWhitespace), limit < 1 << 62 else { return nil }
            guard let usage = readSmallFile(layout.usage).flatMap({ UInt64($0.trimmingWhitespace) }) else { return nil }
            var inactive: UInt64 = 0
            for line in (readSmallFile(layout.stat) ?? "").split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count == 2, fields[0] == layout.inactive, let value = UInt64(fields[1]) { inactive = value }
            }
            let workingSet = usage > inactive ? usage - inactive : 0
            return limit > workingSet ? limit - workingSet : 0
        }
        return nil
    }

    /// Whether `bytes` can be allocated and still leave `DeviceLimits.memoryReserveBytes` available.
    public static func canAllocate(_ bytes: UInt64) -> Bool {
        let (needed, overflow) = bytes.addingReportingOverflow(DeviceLimits.memoryReserveBytes)
        return !overflow && needed <= availableBytes()
    }

    /// A `Name:   N kB` line of /proc/meminfo, in bytes.
    static func meminfoValue(_ name: String) -> UInt64? {
        guard let text = readSmallFile("/proc/meminfo") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let fields = line.dropFirst(name.count + 1).split(separator: " ")
            guard let value = fields.first.flatMap({ UInt64($0) }) else { return nil }
            return fields.count > 1 && fields[1] == "kB" ? value * 1024 : value
        }
        return nil
    }

    /// The first 16 KiB of a /proc or /sys file, or nil when it cannot be opened.
    static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 16384)
        var length = 0
        while length < bytes.count {
            let count = bytes[length...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            length += count
        }
        return String(decoding: bytes[..<length], as: UTF8.self)
    }
}

extension String {
    fileprivate var trimmingWhitespace: Substring {
        let bytes = utf8
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }
}
