// A filesystem disk on this host: a directory, with Longhorn's `longhorn-disk.cfg` in it naming the
// disk's UUID. The file is written once, when the disk is first seen (atomically: a temporary file
// synced, renamed over, the directory synced), and read back on every later check; the UUID the
// node records must match it, or the directory is not the disk that was added (a different
// filesystem mounted there, the file removed or replaced).
//
// Sizes come from statvfs: the maximum is the filesystem's size, the available space what an
// unprivileged writer may use, truncated down to a multiple of 100 MiB as Longhorn does.

import Foundation
import Glibc

/// What a check of a filesystem disk found.
struct FilesystemDiskInfo: Sendable, Equatable {
    var diskUUID: String
    var storageMaximum: Int64
    var storageAvailable: Int64
    var filesystemType: String
}

/// Why a filesystem disk cannot be used.
struct FilesystemDiskError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Reason: Sendable, Equatable {
        /// The directory or its files cannot be read or written.
        case unavailable
        /// The disk's config file is not the one this disk was added with.
        case filesystemChanged
    }
    var reason: Reason
    var message: String
    var description: String { message }
}

/// Longhorn's `longhorn-disk.cfg`.
struct DiskConfigFile: Codable, Sendable, Equatable {
    var diskName: String
    var diskUUID: String
    var diskDriver: String

    static let fileName = "longhorn-disk.cfg"
    /// A config file is a few dozen bytes; a bigger one is not Longhorn's.
    static let bytesMax = 64 << 10
}

enum FilesystemDisk {
    /// Available space is reported in whole units of this size.
    static let storageAvailableUnitBytes: Int64 = 100 << 20

    /// Checks the disk `name` at `path`: creates the directory and, when the node has no UUID for
    /// the disk yet, its config file; reads the UUID and the sizes.
    static func check(
        name: String, path: String, recordedUUID: String
    ) throws(FilesystemDiskError) -> FilesystemDiskInfo {
        guard path.hasPrefix("/") else {
            throw FilesystemDiskError(reason: .unavailable, message: "disk path \(path) is not an absolute path")
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw FilesystemDiskError(
                reason: .unavailable, message: "cannot create the disk directory \(path): \(error.localizedDescription)"
            )
        }
        let config = try readOrCreateConfig(name: name, path: path, recordedUUID: recordedUUID)
        if !recordedUUID.isEmpty && config.diskUUID != recordedUUID {
            throw FilesystemDiskError(
                reason: .filesystemChanged,
                message: "the disk UUID \(config.diskUUID) in \(path)/\(DiskConfigFile.fileName) does not match the "
                    + "recorded disk UUID \(recordedUUID)")
        }
        let sizes = try statistics(path)
        return FilesystemDiskInfo(
            diskUUID: config.diskUUID, storageMaximum: sizes.maximum,
            storageAvailable: sizes.available / storageAvailableUnitBytes * storageAvailableUnitBytes,
            filesystemType: sizes.type)
    }

    private static func readOrCreateConfig(
        name: String, path: String, recordedUUID: String
    ) throws(FilesystemDiskError) -> DiskConfigFile {
        let file = "\(path)/\(DiskConfigFile.fileName)"
        if FileManager.default.fileExists(atPath: file) { return try readConfig(file) }
        guard recordedUUID.isEmpty else {
            throw FilesystemDiskError(
                reason: .filesystemChanged,
                message: "\(file) is missing: the directory no longer holds disk \(recordedUUID)")
        }
        let config = DiskConfigFile(diskName: name, diskUUID: UUID().uuidString.lowercased(), diskDriver: "")
        try writeConfig(config, to: file, directory: path)
        return config
    }

    private static func readConfig(_ file: String) throws(FilesystemDiskError) -> DiskConfigFile {
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw FilesystemDiskError(reason: .unavailable, message: "cannot open \(file)")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: DiskConfigFile.bytesMax + 1) ?? Data()
        } catch {
            throw FilesystemDiskError(
                reason: .unavailable, message: "cannot read \(file): \(error.localizedDescription)")
        }
        guard data.count <= DiskConfigFile.bytesMax,
            let config = try? JSONDecoder().decode(DiskConfigFile.self, from: data), !config.diskUUID.isEmpty
        else {
            throw FilesystemDiskError(
                reason: .filesystemChanged, message: "\(file) is not a disk config file with a disk UUID")
        }
        return config
    }

    private static func writeConfig(
        _ config: DiskConfigFile, to file: String, directory: String
    ) throws(FilesystemDiskError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let temporary = "\(file).tmp"
        do {
            let data = try encoder.encode(config)
            guard FileManager.default.createFile(atPath: temporary, contents: nil),
                let handle = FileHandle(forWritingAtPath: temporary)
            else { throw FilesystemDiskError(reason: .unavailable, message: "cannot create \(temporary)") }
            defer { try? handle.close() }
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch let error as FilesystemDiskError {
            throw error
        } catch {
            throw FilesystemDiskError(
                reason: .unavailable, message: "cannot write \(temporary): \(error.localizedDescription)")
        }
        guard rename(temporary, file) == 0 else {
            throw FilesystemDiskError(
                reason: .unavailable, message: "cannot rename \(temporary) to \(file): errno \(errno)")
        }
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else {
            throw FilesystemDiskError(reason: .unavailable, message: "cannot open \(directory): errno \(errno)")
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw FilesystemDiskError(reason: .unavailable, message: "cannot sync \(directory): errno \(errno)")
        }
    }

    /// The filesystem's size, the space available to unprivileged writers, and its type.
    static func statistics(
        _ path: String
    ) throws(FilesystemDiskError) -> (maximum: Int64, available: Int64, type: String) {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else {
            throw FilesystemDiskError(reason: .unavailable, message: "cannot statvfs \(path): errno \(errno)")
        }
        let blockSize = Int64(clamping: info.f_frsize)
        let (maximum, overflowMaximum) = Int64(clamping: info.f_blocks).multipliedReportingOverflow(by: blockSize)
        let (available, overflowAvailable) = Int64(clamping: info.f_bavail).multipliedReportingOverflow(by: blockSize)
        guard !overflowMaximum, !overflowAvailable else {
            throw FilesystemDiskError(reason: .unavailable, message: "statvfs \(path): sizes beyond 2^63 bytes")
        }
        return (maximum, available, MountTable.filesystemType(of: path))
    }
}
