// Reading the `changes` table: the history a watch replays before it follows live changes, and
// reads again whenever its buffer of live changes overflowed.

import Foundation
import GRDB
import ManagerModel

/// Which changes a watch wants: one kind or all, and a label selector (applied to the resource
/// after the change; for a delete, to its last stored state).
struct WatchFilter: Sendable {
    var kind: ResourceKind?
    var selector: ResourceSelector

    func matches(_ resource: StoredResource) -> Bool {
        (kind == nil || kind == resource.kind) && selector.matches(resource)
    }
}

/// Some changes after a revision, in revision order.
struct HistoryPage: Sendable {
    /// The changes that match the watch's filter.
    var events: [ResourceEvent]
    /// The last revision looked at (matching or not); the next page starts after it.
    var lastRevision: Int64
    /// Whether every change committed when the page was read has been looked at.
    var reachedHead: Bool
}

struct ChangeHistory: Sendable {
    let pool: DatabasePool

    /// The compacted revision: changes at or before it are no longer kept.
    static func compactedRevision(_ db: Database) throws -> Int64 {
        guard let revision = try Int64.fetchOne(db, sql: "SELECT compacted_revision FROM store_state WHERE id = 1") else {
            throw ResourceStoreError.unavailable("the store's state row is missing")
        }
        return revision
    }

    /// Fails with `compacted` if changes after `revision` are no longer all kept.
    static func checkKept(after revision: Int64, _ db: Database) throws {
        let compacted = try compactedRevision(db)
        if revision < compacted {
            throw ResourceStoreError.compacted(requested: revision, oldestKept: compacted + 1)
        }
    }

    /// Up to `StoreLimits.watchPageSize` changes after `revision`, stopping early once the
    /// matching documents reach `byteBudget`.
    func page(after revision: Int64, filter: WatchFilter, byteBudget: Int) async throws(ResourceStoreError) -> HistoryPage {
        do {
            return try await pool.read { db in
                try Self.checkKept(after: revision, db)
                var sql = "SELECT revision, kind, name, change, create_revision, labels, document FROM changes WHERE revision > ?"
                var arguments: StatementArguments = [revision]
                if let kind = filter.kind {
                    sql += " AND kind = ?"
                    arguments += [kind.rawValue]
                }
                sql += " ORDER BY revision LIMIT ?"
                arguments += [StoreLimits.watchPageSize]
                let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
                var page = HistoryPage(events: [], lastRevision: revision, reachedHead: false)
                var scanned = 0
                var bytes = 0
                while let row = try rows.next() {
                    let event = try ResourceRows.event(from: row)
                    scanned += 1
                    page.lastRevision = event.revision
                    if filter.matches(event.resource) {
                        page.events.append(event)
                        bytes += event.resource.document.count
                        if bytes >= byteBudget { return page }
                    }
                }
                page.reachedHead = scanned < StoreLimits.watchPageSize
                return page
            }
        } catch {
            throw StoreErrors.map(error)
        }
    }
}

enum StoreErrors {
    /// A store error as it is; anything from SQLite underneath as `unavailable`.
    static func map(_ error: any Error) -> ResourceStoreError {
        if let error = error as? ResourceStoreError { return error }
        if error is CancellationError { return .unavailable("the operation was cancelled") }
        return .unavailable(String(describing: error))
    }
}
