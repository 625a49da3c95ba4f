// The store's tables, created and migrated by GRDB's DatabaseMigrator:
// - `store_state`: one row, the revision counter (the last revision handed out, committed with
//   the write that used it, so a restarted store never hands it out again) and the highest
//   revision whose change was dropped from the history (`compacted_revision`).
// - `resources`: the current resources, one row per kind and name.
// - `changes`: the history, one row per revision (a delete keeps the resource's last document),
//   read by watches that resume after a revision; only the newest `historyLimit` are kept.
// - `resource_labels`: each current resource's labels, one row per label, kept with `resources`
//   in the same transaction: a label selector finds its few rows among many (a volume's replicas
//   among every volume's) through the index instead of reading every row's labels.

import GRDB

enum StoreSchema {
    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: resources, changes, revision counter") { db in
            try db.execute(
                sql: """
                    CREATE TABLE store_state (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        revision INTEGER NOT NULL CHECK (revision >= 0),
                        compacted_revision INTEGER NOT NULL CHECK (compacted_revision >= 0)
                    );
                    INSERT INTO store_state (id, revision, compacted_revision) VALUES (1, 0, 0);
                    CREATE TABLE resources (
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        resource_version INTEGER NOT NULL,
                        create_revision INTEGER NOT NULL,
                        labels TEXT NOT NULL,
                        document BLOB NOT NULL,
                        PRIMARY KEY (kind, name)
                    ) WITHOUT ROWID;
                    CREATE TABLE changes (
                        revision INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        change TEXT NOT NULL CHECK (change IN ('added', 'modified', 'deleted')),
                        create_revision INTEGER NOT NULL,
                        labels TEXT NOT NULL,
                        document BLOB NOT NULL
                    );
                    CREATE INDEX changes_by_kind ON changes (kind, revision);
                    """)
        }
        migrator.registerMigration("v2: resource labels index") { db in
            try db.execute(
                sql: """
                    CREATE TABLE resource_labels (
                        kind TEXT NOT NULL,
                        key TEXT NOT NULL,
                        value TEXT NOT NULL,
                        name TEXT NOT NULL,
                        PRIMARY KEY (kind, key, value, name)
                    ) WITHOUT ROWID;
                    CREATE INDEX resource_labels_by_name ON resource_labels (kind, name);
                    """)
            let rows = try Row.fetchCursor(db, sql: "SELECT kind, name, labels FROM resources")
            while let row = try rows.next() {
                let kind: String = row["kind"], name: String = row["name"]
                let labels = try ResourceRows.decodeLabels(row["labels"], kind: kind, name: name)
                try indexLabels(kind: kind, name: name, labels: labels, db)
            }
        }
        return migrator
    }

    /// Records a resource's labels in `resource_labels` (in the caller's transaction).
    static func indexLabels(kind: String, name: String, labels: [String: String], _ db: Database) throws {
        guard !labels.isEmpty else { return }
        let insert = try db.cachedStatement(sql: "INSERT INTO resource_labels (kind, key, value, name) VALUES (?, ?, ?, ?)")
        for (key, value) in labels { try insert.execute(arguments: [kind, key, value, name]) }
    }

    /// Forgets a resource's labels.
    static func unindexLabels(kind: String, name: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM resource_labels WHERE kind = ? AND name = ?", arguments: [kind, name])
    }
}
