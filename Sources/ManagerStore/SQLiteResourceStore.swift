// The embedded resource store: one SQLite file (`<directory>/store.sqlite`) through GRDB.
//
// Durability: the database is in WAL mode with `synchronous=FULL`, so every transaction's commit
// syncs the write-ahead log before it returns. Every create, update and delete is one
// transaction that bumps the revision counter, writes the resource row and appends the change to
// the history; a call that returned is on disk and survives a process kill or a power cut, and a
// call cut short leaves nothing of itself (SQLite rolls an uncommitted transaction back when the
// file is next opened). Revisions are never reused: the counter is committed with the write that
// took it. Only committed changes reach watchers.
//
// Concurrency: GRDB's pool serializes writes on one connection and serves reads concurrently from
// WAL snapshots; a list reads its items and the revision in one snapshot. The queries run on every
// request are prepared once per connection (GRDB's statement cache). Committed changes are
// handed to watchers (`WatchHub`) inside the serialized write, after the commit, so watchers see
// revision order; writers never wait for a watcher.
//
// History: the last `historyLimit` changes are kept; a watch after an older revision fails with
// `compacted`. One store opens the directory at a time (`StoreDirectoryLock`).

public import Foundation
import GRDB
public import ManagerModel
import Synchronization

public final class SQLiteResourceStore: ResourceStore {
    public struct Options: Sendable {
        /// Changes kept for watches to resume from.
        public var historyLimit: Int
        /// Live changes a watcher may have waiting before it reads the history instead.
        public var watchBufferEventsMax: Int
        /// Document bytes a watcher may have waiting, likewise.
        public var watchBufferBytesMax: Int

        public init(
            historyLimit: Int = StoreLimits.historyDefault,
            watchBufferEventsMax: Int = StoreLimits.watchBufferEventsDefault,
            watchBufferBytesMax: Int = StoreLimits.watchBufferBytesDefault
        ) {
            self.historyLimit = historyLimit
            self.watchBufferEventsMax = watchBufferEventsMax
            self.watchBufferBytesMax = watchBufferBytesMax
        }
    }

    /// The database file's name in the store's directory.
    public static let fileName = "store.sqlite"

    /// The database file.
    public let path: String
    private let options: Options
    private let pool: DatabasePool
    private let hub = WatchHub()
    private let closed = Mutex(false)
    private let lock: Mutex<StoreDirectoryLock?>

    /// Opens the store in `directory` (created if missing), creating or migrating its schema.
    public init(directory: String, options: Options = Options()) throws(ResourceStoreError) {
        guard options.historyLimit >= 1, options.watchBufferEventsMax >= 1, options.watchBufferBytesMax >= 1 else {
            throw .invalid("store options: the history and watch buffer limits must be at least 1")
        }
        self.options = options
        path = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName).path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .unavailable("cannot create the store directory \(directory): \(error.localizedDescription)")
        }
        lock = Mutex(try StoreDirectoryLock(directory: directory))
        do {
            pool = try DatabasePool(path: path)
            // The pool turns WAL on with synchronous=NORMAL (a commit then syncs only at
            // checkpoints: durable across a process kill, not a power cut); FULL syncs the log at
            // every commit. Writes all go through this one connection.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            try StoreSchema.migrator().migrate(pool)
        } catch {
            throw .unavailable("cannot open \(path): \(error)")
        }
        try Self.syncDirectory(directory)
    }

    /// Makes the creation of the database and log files durable (SQLite syncs their contents,
    /// not the directory entries of files it just created).
    private static func syncDirectory(_ directory: String) throws(ResourceStoreError) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY)
        guard descriptor >= 0 else { throw .unavailable("cannot open \(directory): errno \(errno)") }
        defer { _ = Foundation.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .unavailable("cannot sync \(directory): errno \(errno)") }
    }

    /// Ends every watch and closes the database; later calls fail with `unavailable`.
    public func close() throws(ResourceStoreError) {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        hub.close()
        defer { lock.withLock { $0 = nil } }
        do { try pool.close() } catch { throw StoreErrors.map(error) }
    }

    /// How many watches are open (their consumers still hold their streams).
    public var openWatchCount: Int { hub.count }

    // MARK: Reads

    public func get(_ kind: ResourceKind, name: String) async throws(ResourceStoreError) -> StoredResource? {
        try ResourceValidation.check(kind: kind)
        // A name no resource can have names nothing: not found, as for any other absent name.
        guard (try? ResourceValidation.check(name: name, of: kind)) != nil else { return nil }
        return try await read { db in try Self.fetch(kind, name: name, db) }
    }

    public func list(_ kind: ResourceKind, selector: ResourceSelector) async throws(ResourceStoreError) -> ResourceList {
        try ResourceValidation.check(kind: kind)
        return try await read { db in
            let revision = try Self.currentRevision(db)
            // A selector picks few of many (a volume's replicas among every volume's): the label
            // index gives the rows that carry the first of its labels, and only those are read and
            // matched against the whole selector. Without labels, every row of the kind is.
            guard let first = selector.labels.min(by: { $0.key < $1.key }) else {
                let rows = try Row.fetchCursor(
                    db.cachedStatement(
                        sql: "SELECT \(ResourceRows.resourceColumns) FROM resources WHERE kind = ? ORDER BY name"),
                    arguments: [kind.rawValue])
                var items: [StoredResource] = []
                while let row = try rows.next() {
                    let resource = try ResourceRows.resource(from: row)
                    if selector.matches(resource) { items.append(resource) }
                }
                return ResourceList(items: items, revision: revision)
            }
            let candidates = try String.fetchAll(
                db.cachedStatement(
                    sql: "SELECT name FROM resource_labels WHERE kind = ? AND key = ? AND value = ? ORDER BY name"),
                arguments: [kind.rawValue, first.key, first.value])
            let statement = try db.cachedStatement(
                sql: "SELECT \(ResourceRows.resourceColumns) FROM resources WHERE kind = ? AND name = ?")
            var items: [StoredResource] = []
            items.reserveCapacity(candidates.count)
            for name in candidates {
                // The same read transaction: every indexed row is there.
                guard let row = try Row.fetchOne(statement, arguments: [kind.rawValue, name]) else { continue }
                let resource = try ResourceRows.resource(from: row)
                if selector.matches(resource) { items.append(resource) }
            }
            return ResourceList(items: items, revision: revision)
        }
    }

    public func revision() async throws(ResourceStoreError) -> Int64 {
        try await read { db in try Self.currentRevision(db) }
    }

    // MARK: Writes

    public func create(
        _ kind: ResourceKind, name: String, labels: [String: String], document: Data
    ) async throws(ResourceStoreError) -> StoredResource {
        try ResourceValidation.check(kind: kind, name: name, labels: labels, document: document)
        let labelsText = try ResourceRows.encode(labels: labels)
        let historyLimit = options.historyLimit
        return try await write { db in
            if try Self.fetch(kind, name: name, db) != nil { throw ResourceStoreError.alreadyExists(kind: kind, name: name) }
            let revision = try Self.takeRevision(db)
            try db.execute(
                sql: "INSERT INTO resources (\(ResourceRows.resourceColumns)) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [kind.rawValue, name, revision, revision, labelsText, document])
            try StoreSchema.indexLabels(kind: kind.rawValue, name: name, labels: labels, db)
            let resource = StoredResource(
                kind: kind, name: name, resourceVersion: revision, createRevision: revision, labels: labels,
                document: document)
            let event = ResourceEvent(change: .added, resource: resource)
            try Self.record(event, labelsText: labelsText, historyLimit: historyLimit, db)
            return event
        }
    }

    public func update(
        _ kind: ResourceKind, name: String, labels: [String: String], document: Data, expectedVersion: Int64
    ) async throws(ResourceStoreError) -> StoredResource {
        try ResourceValidation.check(kind: kind, name: name, labels: labels, document: document)
        let labelsText = try ResourceRows.encode(labels: labels)
        let historyLimit = options.historyLimit
        return try await write { db in
            let current = try Self.fetchMatching(kind, name: name, expectedVersion: expectedVersion, db)
            let revision = try Self.takeRevision(db)
            try db.execute(
                sql: """
                    UPDATE resources SET resource_version = ?, labels = ?, document = ?
                    WHERE kind = ? AND name = ?
                    """,
                arguments: [revision, labelsText, document, kind.rawValue, name])
            if current.labels != labels {
                try StoreSchema.unindexLabels(kind: kind.rawValue, name: name, db)
                try StoreSchema.indexLabels(kind: kind.rawValue, name: name, labels: labels, db)
            }
            let resource = StoredResource(
                kind: kind, name: name, resourceVersion: revision, createRevision: current.createRevision,
                labels: labels, document: document)
            let event = ResourceEvent(change: .modified, resource: resource)
            try Self.record(event, labelsText: labelsText, historyLimit: historyLimit, db)
            return event
        }
    }

    public func delete(
        _ kind: ResourceKind, name: String, expectedVersion: Int64?
    ) async throws(ResourceStoreError) -> StoredResource {
        try ResourceValidation.check(kind: kind)
        try ResourceValidation.check(name: name, of: kind)
        let historyLimit = options.historyLimit
        return try await write { db in
            var resource = try Self.fetchMatching(kind, name: name, expectedVersion: expectedVersion, db)
            let revision = try Self.takeRevision(db)
            try db.execute(sql: "DELETE FROM resources WHERE kind = ? AND name = ?", arguments: [kind.rawValue, name])
            try StoreSchema.unindexLabels(kind: kind.rawValue, name: name, db)
            resource.resourceVersion = revision
            let event = ResourceEvent(change: .deleted, resource: resource)
            try Self.record(event, labelsText: try ResourceRows.encode(labels: resource.labels), historyLimit: historyLimit, db)
            return event
        }
    }

    // MARK: Watch

    public func watch(
        _ kind: ResourceKind?, selector: ResourceSelector, after revision: Int64
    ) async throws(ResourceStoreError) -> AsyncThrowingStream<ResourceEvent, any Error> {
        if let kind { try ResourceValidation.check(kind: kind) }
        guard revision >= 0 else { throw .invalid("a watch cannot start after a negative revision (\(revision))") }
        try await read { db in try ChangeHistory.checkKept(after: revision, db) }
        let watcher = StoreWatcher(
            filter: WatchFilter(kind: kind, selector: selector), after: revision,
            limits: .init(bufferedEventsMax: options.watchBufferEventsMax, bufferedBytesMax: options.watchBufferBytesMax),
            history: ChangeHistory(pool: pool))
        guard hub.add(watcher) else { throw .unavailable("the store is closed") }
        return AsyncThrowingStream { () async throws -> ResourceEvent? in try await watcher.next() }
    }

    /// What the write connection runs with (journal mode, synchronous level: 2 is FULL), as
    /// SQLite reports it: the settings the durability promise rests on.
    func durabilitySettings() async throws(ResourceStoreError) -> (journalMode: String, synchronous: Int) {
        try checkOpen()
        do {
            return try await pool.writeWithoutTransaction { db in
                (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
            }
        } catch {
            throw StoreErrors.map(error)
        }
    }

    // MARK: Transactions

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(ResourceStoreError) -> T {
        try checkOpen()
        do { return try await pool.read(body) } catch { throw StoreErrors.map(error) }
    }

    /// Runs `body` in one immediate transaction; once it committed, offers its change to watchers
    /// (still in the serialized write, so in revision order) and returns the resource.
    private func write(_ body: @escaping @Sendable (Database) throws -> ResourceEvent) async throws(ResourceStoreError) -> StoredResource {
        try checkOpen()
        let hub = self.hub
        do {
            return try await pool.writeWithoutTransaction { db in
                var committed: ResourceEvent?
                try db.inTransaction(.immediate) {
                    committed = try body(db)
                    return .commit
                }
                guard let event = committed else { throw ResourceStoreError.unavailable("a write produced no change") }
                hub.publish(event)
                return event.resource
            }
        } catch {
            throw StoreErrors.map(error)
        }
    }

    private func checkOpen() throws(ResourceStoreError) {
        if closed.withLock({ $0 }) { throw .unavailable("the store is closed") }
    }

    private static func currentRevision(_ db: Database) throws -> Int64 {
        guard let revision = try Int64.fetchOne(db.cachedStatement(sql: "SELECT revision FROM store_state WHERE id = 1"))
        else {
            throw ResourceStoreError.unavailable("the store's state row is missing")
        }
        return revision
    }

    /// The next revision, taken in the current transaction.
    private static func takeRevision(_ db: Database) throws -> Int64 {
        let revision = try currentRevision(db) + 1
        try db.execute(sql: "UPDATE store_state SET revision = ? WHERE id = 1", arguments: [revision])
        return revision
    }

    private static func fetch(_ kind: ResourceKind, name: String, _ db: Database) throws -> StoredResource? {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(ResourceRows.resourceColumns) FROM resources WHERE kind = ? AND name = ?"),
            arguments: [kind.rawValue, name])
        return try row.map { row throws(ResourceStoreError) in try ResourceRows.resource(from: row) }
    }

    /// The stored resource, if it exists and (when given) is still at `expectedVersion`.
    private static func fetchMatching(
        _ kind: ResourceKind, name: String, expectedVersion: Int64?, _ db: Database
    ) throws -> StoredResource {
        guard let current = try fetch(kind, name: name, db) else {
            throw ResourceStoreError.notFound(kind: kind, name: name)
        }
        if let expectedVersion, current.resourceVersion != expectedVersion {
            throw ResourceStoreError.conflict(
                kind: kind, name: name, expected: expectedVersion, actual: current.resourceVersion)
        }
        return current
    }

    /// Appends a change to the history and drops what falls out of the kept window.
    private static func record(_ event: ResourceEvent, labelsText: String, historyLimit: Int, _ db: Database) throws {
        let resource = event.resource
        try db.execute(
            sql: """
                INSERT INTO changes (revision, kind, name, change, create_revision, labels, document)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                resource.resourceVersion, resource.kind.rawValue, resource.name, event.change.rawValue,
                resource.createRevision, labelsText, resource.document,
            ])
        let compactedRevision = resource.resourceVersion - Int64(historyLimit)
        if compactedRevision > 0 {
            try db.execute(sql: "DELETE FROM changes WHERE revision <= ?", arguments: [compactedRevision])
            try db.execute(
                sql: "UPDATE store_state SET compacted_revision = MAX(compacted_revision, ?) WHERE id = 1",
                arguments: [compactedRevision])
        }
    }
}
