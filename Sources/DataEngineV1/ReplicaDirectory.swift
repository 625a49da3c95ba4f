// A V1 replica's directory in Longhorn's layout (longhorn-api.md §6.1):
//
//   <disk path>/replicas/<volume>-<8 hex>/
//     volume.meta               JSON: Size, Head, Dirty, Rebuilding, Error, Parent, SectorSize, BackingFilePath
//     volume-head-000.img       the sparse head file; never-written ranges read as zeroes
//     volume-head-000.img.meta  JSON: Name, Parent, Removed, UserCreated, Created, Labels
//     revision.counter          the revision counter, as zero-padded decimal text
//
// Durability: volume.meta and the disk meta are replaced atomically (write a temporary file,
// fsync, rename, fsync the directory). The revision counter is rewritten after every write and
// made durable with the data on flush: the file is mapped shared, so rewriting it is a store into
// its page in the page cache (what a pwrite would leave there, without a system call per write;
// it survives the process, and flush's fdatasync writes it back). Dirty is set before the first write is accepted and
// cleared on a clean close, so a replica that died mid-write says so when it is opened again.

import Foundation
import Glibc

/// volume.meta.
public struct VolumeMeta: Codable, Sendable, Equatable {
    public var size: Int64
    public var head: String
    public var dirty: Bool
    public var rebuilding: Bool
    public var error: String
    public var parent: String
    public var sectorSize: Int64
    public var backingFilePath: String

    enum CodingKeys: String, CodingKey {
        case size = "Size", head = "Head", dirty = "Dirty", rebuilding = "Rebuilding", error = "Error"
        case parent = "Parent", sectorSize = "SectorSize", backingFilePath = "BackingFilePath"
    }
}

/// The head file's .meta.
public struct DiskMeta: Codable, Sendable, Equatable {
    public var name: String
    public var parent: String
    public var removed: Bool
    public var userCreated: Bool
    public var created: String
    public var labels: [String: String]?

    enum CodingKeys: String, CodingKey {
        case name = "Name", parent = "Parent", removed = "Removed", userCreated = "UserCreated", created = "Created"
        case labels = "Labels"
    }
}

/// An error of a replica directory, in words an operator can act on.
public struct ReplicaError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public final class ReplicaDirectory: @unchecked Sendable {
    public static let metaFile = "volume.meta"
    public static let headFile = "volume-head-000.img"
    public static let revisionFile = "revision.counter"

    public let path: String
    public private(set) var meta: VolumeMeta
    private let revisionFD: Int32
    /// The revision counter file's first page, mapped shared (nil where the file cannot be
    /// mapped: then every store is a pwrite).
    private var revisionPage: UnsafeMutableRawPointer?
    /// Bytes of the counter's fixed-width text.
    static let revisionDigits = 20

    public var headPath: String { "\(path)/\(meta.head)" }

    private init(path: String, meta: VolumeMeta) throws {
        self.path = path
        self.meta = meta
        let fd = open("\(path)/\(Self.revisionFile)", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReplicaError("cannot open \(path)/\(Self.revisionFile): \(String(cString: strerror(errno)))") }
        revisionFD = fd
    }

    deinit {
        if let revisionPage { munmap(revisionPage, Int(getpagesize())) }
        close(revisionFD)
    }

    /// Maps the counter's page once the file holds the fixed-width text (a counter written by
    /// another program may be shorter: it is rewritten first).
    private func mapRevision() {
        var info = stat()
        guard fstat(revisionFD, &info) == 0 else { return }
        if info.st_size < Self.revisionDigits {
            guard (try? storeRevision(loadRevision(), durable: true)) != nil else { return }
        }
        let page = mmap(nil, Int(getpagesize()), PROT_READ | PROT_WRITE, MAP_SHARED, revisionFD, 0)
        guard let page, page != MAP_FAILED else { return }
        revisionPage = page
    }

    /// Whether `path` holds a replica: its volume.meta exists and parses (what the orphan
    /// collector checks).
    public static func isReplica(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: "\(path)/\(metaFile)") else { return false }
        return (try? JSONDecoder().decode(VolumeMeta.self, from: data)) != nil
    }

    /// Opens the replica at `path`, creating it with `size` bytes when the directory holds none.
    /// An existing replica must have that size.
    public static func openOrCreate(path: String, size: Int64, sectorSize: Int64 = 512) throws -> ReplicaDirectory {
        guard size > 0, size % 4096 == 0 else { throw ReplicaError("size \(size) must be a positive multiple of 4096") }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ReplicaError("\(path) is not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw ReplicaError("cannot create \(path): \(error.localizedDescription)")
            }
        }
        let metaPath = "\(path)/\(metaFile)"
        if let data = FileManager.default.contents(atPath: metaPath) {
            let meta: VolumeMeta
            do {
                meta = try JSONDecoder().decode(VolumeMeta.self, from: data)
            } catch {
                throw ReplicaError("\(metaPath) is corrupted: \(error)")
            }
            guard meta.size == size else {
                throw ReplicaError("replica \(path) holds \(meta.size) bytes, not the \(size) asked for")
            }
            guard meta.head == headFile, FileManager.default.fileExists(atPath: "\(path)/\(meta.head)") else {
                throw ReplicaError("replica \(path) has no head file \(meta.head)")
            }
            let directory = try ReplicaDirectory(path: path, meta: meta)
            directory.mapRevision()
            return directory
        }
        let head = "\(path)/\(headFile)"
        let fd = open(head, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReplicaError("cannot create \(head): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(size)) == 0 else { throw ReplicaError("cannot size \(head): \(String(cString: strerror(errno)))") }
        let created = ISO8601DateFormatter().string(from: Date())
        try writeAtomically(
            JSONEncoder().encode(DiskMeta(name: headFile, parent: "", removed: false, userCreated: false, created: created, labels: nil)),
            to: "\(head).meta", directory: path)
        let meta = VolumeMeta(
            size: size, head: headFile, dirty: false, rebuilding: false, error: "", parent: "", sectorSize: sectorSize,
            backingFilePath: "")
        let directory = try ReplicaDirectory(path: path, meta: meta)
        try directory.saveMeta()
        try directory.storeRevision(0, durable: true)
        directory.mapRevision()
        return directory
    }

    /// The revision counter as stored.
    public func loadRevision() -> Int64 {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = pread(revisionFD, &bytes, bytes.count, 0)
        guard count > 0 else { return 0 }
        return Int64(String(decoding: bytes[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Stores the revision counter; durable at once when asked, else with the next flush.
    public func storeRevision(_ revision: Int64, durable: Bool) throws {
        // Fixed width (zero-padded), so rewriting it never changes the file's size. Formatted by
        // hand: this runs once per write.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let written = withUnsafeMutableBytes(of: &digits) { text -> Int in
            var value = UInt64(max(revision, 0))
            for index in stride(from: Self.revisionDigits - 1, through: 0, by: -1) {
                text[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            if let revisionPage {
                revisionPage.copyMemory(from: text.baseAddress!, byteCount: Self.revisionDigits)
                return Self.revisionDigits
            }
            return pwrite(revisionFD, text.baseAddress, Self.revisionDigits, 0)
        }
        guard written == Self.revisionDigits else {
            throw ReplicaError("cannot write \(path)/\(Self.revisionFile): \(String(cString: strerror(errno)))")
        }
        if durable { _ = fdatasync(revisionFD) }
    }

    /// Makes the revision counter durable (with the data, on flush).
    public func syncRevision() { _ = fdatasync(revisionFD) }

    public func setDirty(_ dirty: Bool) throws {
        guard meta.dirty != dirty else { return }
        meta.dirty = dirty
        try saveMeta()
    }

    public func setError(_ error: String) throws {
        meta.error = error
        try saveMeta()
    }

    private func saveMeta() throws {
        try Self.writeAtomically(try JSONEncoder().encode(meta), to: "\(path)/\(Self.metaFile)", directory: path)
    }

    static func writeAtomically(_ data: Data, to target: String, directory: String) throws {
        let temporary = "\(target).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReplicaError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0, rename(temporary, target) == 0 else {
            throw ReplicaError("cannot replace \(target): \(String(cString: strerror(errno)))")
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }
}
