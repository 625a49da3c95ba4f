// What the machine can still give this process, for checking sizes a client chooses before they
// are allocated: an allocation the process cannot have must be refused with ENOMEM, not trap in
// the allocator or wake the kernel's OOM killer. The kernel's own estimate (MemAvailable: free
// memory plus what it can reclaim without swapping) is the measure; where /proc is missing,
// physical memory is.

import Glibc

public enum SystemMemory {
    /// Bytes the kernel estimates can be allocated now without swapping.
    public static func availableBytes() -> UInt64 {
        if let available = meminfoValue("MemAvailable") { return available }
        let pages = UInt64(max(sysconf(Int32(_SC_PHYS_PAGES)), 0))
        return pages * UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 0))
    }

    /// Whether `bytes` can be allocated and still leave `DeviceLimits.memoryReserveBytes` available.
    public static func canAllocate(_ bytes: UInt64) -> Bool {
        let (needed, overflow) = bytes.addingReportingOverflow(DeviceLimits.memoryReserveBytes)
        return !overflow && needed <= availableBytes()
    }

    /// A `Name:   N kB` line of /proc/meminfo, in bytes.
    static func meminfoValue(_ name: String) -> UInt64? {
        let fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 8192)
        var length = 0
        while length < bytes.count {
            let count = bytes[length...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            length += count
        }
        let text = String(decoding: bytes[..<length], as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let fields = line.dropFirst(name.count + 1).split(separator: " ")
            guard let value = fields.first.flatMap({ UInt64($0) }) else { return nil }
            return fields.count > 1 && fields[1] == "kB" ? value * 1024 : value
        }
        return nil
    }
}
