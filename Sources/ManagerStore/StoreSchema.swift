// The store's tables, created and migrated by GRDB's DatabaseMigrator:
// - `store_state`: one row, the revision counter (the last revision handed out, committed with
//   the write that used it, so a restarted store never hands it out again) and the highest
//   revision whose change was dropped from the history (`compacted_revision`).
// - `resources`: the current resources, one row per kind and name.
// - `changes`: the history, one row per revision (a delete keeps the resource's last document),
//   read by watches that resume after a revision; only the newest `historyLimit` are kept.

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
        return migrator
    }
}
