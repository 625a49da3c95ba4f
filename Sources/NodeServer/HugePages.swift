// Whether the machine has 2 MiB hugepages reserved (HugePages_Total in /proc/meminfo): without
// them the tgt allocates its I/O buffers from ordinary pages (`--no-huge`).

import Foundation

public enum HugePages {
    /// The hugepages reserved on the machine; 0 when /proc/meminfo cannot be read.
    public static func reserved(meminfo path: String = "/proc/meminfo") -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        return reserved(inMeminfo: text)
    }

    /// HugePages_Total from the text of /proc/meminfo.
    public static func reserved(inMeminfo text: String) -> Int {
        for line in text.split(separator: "\n") where line.hasPrefix("HugePages_Total:") {
            return Int(line.dropFirst("HugePages_Total:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        return 0
    }
}
