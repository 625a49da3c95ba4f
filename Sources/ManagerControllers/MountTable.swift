// The type of the filesystem a path is on, from the kernel's mount table (/proc/self/mounts): the
// mount whose mount point is the longest prefix of the path's resolved form. Longhorn names ext2,
// ext3 and ext4 "ext2/ext3" (their shared magic number); other types keep the kernel's name.

import Foundation

enum MountTable {
    /// The mount table is a few KiB; more than this is not read.
    static let bytesMax = 1 << 20

    static func filesystemType(of path: String) -> String {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/mounts"),
            let data = try? handle.read(upToCount: bytesMax)
        else { return "" }
        try? handle.close()
        var best: (mountPoint: String, type: String)?
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let mountPoint = unescape(String(fields[1]))
            guard contains(mountPoint, resolved), mountPoint.count >= (best?.mountPoint.count ?? 0) else { continue }
            best = (mountPoint, String(fields[2]))
        }
        guard let type = best?.type else { return "" }
        return type.hasPrefix("ext") ? "ext2/ext3" : type
    }

    private static func contains(_ mountPoint: String, _ path: String) -> Bool {
        mountPoint == "/" || path == mountPoint || path.hasPrefix(mountPoint + "/")
    }

    /// The mount table writes space, tab, newline and backslash as octal escapes (`\040`).
    private static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var result = ""
        var characters = Substring(field)
        while let first = characters.first {
            if first == "\\", characters.count >= 4, let code = UInt8(characters.dropFirst().prefix(3), radix: 8) {
                result.append(Character(Unicode.Scalar(code)))
                characters = characters.dropFirst(4)
            } else {
                result.append(first)
                characters = characters.dropFirst()
            }
        }
        return result
    }
}
