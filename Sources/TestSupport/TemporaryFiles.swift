import Foundation

/// A sparse file of `size` bytes under the system's temporary directory, removed on `remove()`
/// or when the value is released.
public final class TemporaryFile: @unchecked Sendable {
    public let path: String

    public init(size: UInt64, name: String = "hornbill") throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(name)-\(getpid())-\(UUID().uuidString.prefix(8)).img").path
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: size)
        try handle.close()
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    deinit { remove() }
}
