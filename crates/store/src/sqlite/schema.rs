//! The two SQLite files of a data directory and their schemas. The log and the tables
//! are separate files because SQLite has one writer per file: the materializer's long
//! transactions must never hold up an append, which an answer waits for.
//! `sqlite3 log.sqlite3` reads the whole log; `ATTACH 'tables.sqlite3'` joins the two.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::{Result, StoreError};

/// The log: the serial order and the tokens. Bumped on any incompatible change.
pub(super) const LOG_SCHEMA_VERSION: u64 = 2;
/// The materialized tables. Bumped on any incompatible change.
pub(super) const TABLES_SCHEMA_VERSION: u64 = 3;

const META: &str = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;";

/// One row per command, refusals included. `lsn` is the rowid: an append goes to the
/// end of one b-tree and updates no index. `at` is the arrival time in nanoseconds
/// since 1970-01-01 UTC (`datetime(at / 1e9, 'unixepoch')` reads it); `client`, `seq`
/// and `owner` are the session, if any; the JSON columns hold what has no flat shape;
/// `rules` is the rules version the command was decided under (`NULL`: version 1, a
/// row from before versions were recorded; see `LOG_ADDITIONS`).
const LOG: &str = "
CREATE TABLE IF NOT EXISTS log (
    lsn     INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    client  TEXT,
    seq     INTEGER,
    owner   TEXT,
    command TEXT NOT NULL,
    outcome TEXT NOT NULL,
    effects TEXT,
    rules   INTEGER
);
CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, student TEXT NOT NULL) WITHOUT ROWID;
";

/// Columns added to the log since its schema version, each one a binary of that
/// version can ignore: a `NULL` means what that binary wrote. Added where missing, so
/// the version is not bumped and an older binary still reads and appends to the log
/// (a downgrade before an upgrade is finalized). `(table, column, declaration)`.
const LOG_ADDITIONS: &[(&str, &str, &str)] = &[("log", "rules", "INTEGER")];

/// Tables keyed by text are `WITHOUT ROWID`: one b-tree each instead of a table and its
/// key index. `place` orders a line (enrollment order, waitlist order); it increases
/// along the line but is not dense, so a join or a leave writes one row. Instants are
/// nanoseconds since 1970-01-01 UTC. The JSON columns hold short lists written whole:
/// a section's `prerequisites` (course ids) and `linked` (section ids) never change;
/// its `reserved` (`[{"for","seats","until","holders"}]`, reservations in force and who
/// sits in their seats) changes as those seats are taken and released. A student's
/// `completed` (course ids) and `waiting_with` (lecture -> linked section chosen, for
/// each lecture waited for) change with the student. Permission numbers have a table
/// of their own, rewritten with their student.
const TABLES: &str = "
CREATE TABLE IF NOT EXISTS sections (
    id                TEXT PRIMARY KEY,
    title             TEXT NOT NULL,
    units             INTEGER NOT NULL,
    capacity          INTEGER NOT NULL,
    waitlist_capacity INTEGER NOT NULL,
    meetings          TEXT NOT NULL,
    course            TEXT NOT NULL,
    prerequisites     TEXT NOT NULL,
    linked            TEXT NOT NULL,
    reserved          TEXT NOT NULL,
    version           INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS enrollments (
    section TEXT NOT NULL,
    place   INTEGER NOT NULL,
    student TEXT NOT NULL,
    PRIMARY KEY (section, place),
    UNIQUE (section, student)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS waitlists (
    section TEXT NOT NULL,
    place   INTEGER NOT NULL,
    student TEXT NOT NULL,
    PRIMARY KEY (section, place),
    UNIQUE (section, student)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS students (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    max_units     INTEGER NOT NULL,
    appointment   INTEGER,
    balance_cents INTEGER NOT NULL,
    major         TEXT,
    standing      TEXT,
    completed     TEXT NOT NULL,
    waiting_with  TEXT NOT NULL,
    version       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS permissions (
    student TEXT NOT NULL,
    code    TEXT NOT NULL,
    section TEXT NOT NULL,
    issued  INTEGER NOT NULL,
    used    INTEGER,
    PRIMARY KEY (student, code)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
    client     TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    recent     TEXT NOT NULL,
    expired_at INTEGER
) WITHOUT ROWID;
";

/// Every table the tables file ever had, and its position: what an upgrade drops.
const OLD_TABLES_DROPPED: &str = "
DROP TABLE IF EXISTS sections;
DROP TABLE IF EXISTS enrollments;
DROP TABLE IF EXISTS waitlists;
DROP TABLE IF EXISTS students;
DROP TABLE IF EXISTS permissions;
DROP TABLE IF EXISTS sessions;
DELETE FROM meta;
";

/// Which file, for schemas and messages.
#[derive(Clone, Copy)]
pub(super) enum File {
    Log,
    Tables,
}

impl File {
    pub(super) fn name(self) -> &'static str {
        match self {
            File::Log => "log.sqlite3",
            File::Tables => "tables.sqlite3",
        }
    }

    pub(super) fn what(self) -> &'static str {
        match self {
            File::Log => "the log database",
            File::Tables => "the tables database",
        }
    }

    fn schema(self) -> (&'static str, u64) {
        match self {
            File::Log => (LOG, LOG_SCHEMA_VERSION),
            File::Tables => (TABLES, TABLES_SCHEMA_VERSION),
        }
    }
}

/// Opens (creating if needed) `file` in `dir`, set up for its job. The log is fsynced
/// at every commit (`synchronous=FULL`): that is what "answered means durable" rests
/// on. The tables are not (`NORMAL`): a power cut may roll them back, and start-up then
/// replays a longer tail of the log. Neither checkpoints inside a commit.
pub(super) fn open(dir: &Path, file: File) -> Result<Connection> {
    let path = dir.join(file.name());
    let fail = |e: rusqlite::Error| StoreError::Open {
        what: file.what(),
        path: path.clone(),
        reason: why_unopenable(dir, &path).unwrap_or_else(|| without_path(&e, &path)),
    };
    let conn = Connection::open(&path).map_err(fail)?;
    // SQLite opens a file it may not write read-only, without a word: every write would
    // fail later. Refuse it now, saying why.
    if conn.is_readonly(rusqlite::MAIN_DB).map_err(fail)? {
        return Err(StoreError::Open {
            what: file.what(),
            path: path.clone(),
            reason: why_unopenable(dir, &path)
                .unwrap_or_else(|| "it opens only for reading; make it writable for the user murphy runs as".into()),
        });
    }
    let synchronous = match file {
        File::Log => "FULL",
        File::Tables => "NORMAL",
    };
    conn.pragma_update(None, "journal_mode", "WAL").map_err(fail)?;
    conn.pragma_update(None, "synchronous", synchronous).map_err(fail)?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(fail)?;
    if let File::Log = file {
        // The log's WAL is copied into the file by its own checkpointer thread.
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(fail)?;
    }
    create(&conn, file).map_err(|e| match e {
        StoreError::Sqlite(e) => fail(e),
        other => other,
    })?;
    Ok(conn)
}

/// Why SQLite could not open or set up `path` in `dir`, found by trying to write there,
/// with what to do about it; `None` if nothing is wrong with the place.
fn why_unopenable(dir: &Path, path: &Path) -> Option<String> {
    let probe = dir.join(".murphy-write-test");
    let tried = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"murphy"));
    let _ = std::fs::remove_file(&probe);
    let file_read_only = std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly());
    let cause = match tried {
        Err(e) => e,
        Ok(()) if file_read_only => {
            return Some("the file is read-only; make it writable for the user murphy runs as".into());
        }
        Ok(()) => return None,
    };
    let dir = dir.display();
    Some(match cause.kind() {
        std::io::ErrorKind::PermissionDenied => {
            format!(
                "the directory {dir} is not writable by this user; give the user murphy runs as write permission on it, or choose another data directory"
            )
        }
        std::io::ErrorKind::ReadOnlyFilesystem => {
            format!("{dir} is on a read-only file system; remount it read-write, or choose another data directory")
        }
        std::io::ErrorKind::StorageFull => format!("the disk holding {dir} is full; free some space on it"),
        std::io::ErrorKind::NotFound => format!("the directory {dir} does not exist; create it"),
        _ => format!("writing in {dir} fails: {cause}"),
    })
}

/// SQLite's message without the path, which the error names already.
fn without_path(e: &rusqlite::Error, path: &Path) -> String {
    let text = e.to_string();
    let path = path.display().to_string();
    text.replace(&format!(": {path}"), "").replace(&path, "the file")
}

fn create(conn: &Connection, file: File) -> Result<()> {
    let (schema, version) = file.schema();
    conn.execute_batch(META)?;
    if let File::Tables = file
        && meta(conn, "schema_version")?.is_some_and(|found| found < version)
    {
        // The tables only save time; the log is the truth. Tables of an older version
        // are dropped, and start-up rebuilds them by replaying the log from its start.
        conn.execute_batch(OLD_TABLES_DROPPED)?;
    }
    conn.execute_batch(schema)?;
    if let File::Log = file {
        add_missing_columns(conn, LOG_ADDITIONS)?;
    }
    match meta(conn, "schema_version")? {
        None => set_meta(conn, "schema_version", version),
        Some(found) if found == version => Ok(()),
        Some(found) => Err(StoreError::Corrupt(format!(
            "{} has schema version {found}; this murphy reads version {version}",
            file.name()
        ))),
    }
}

/// Damage anywhere in the file (a page of garbage, a torn page), found at start rather
/// than when a read happens on it: SQLite's `quick_check` reads every page of the
/// file and checks its structure (linear in the file's size; it does not compare
/// indexes with their tables, which `integrity_check` would, at several times the
/// cost). Refused with what to restore.
pub(super) fn check_integrity(conn: &Connection, path: &Path) -> Result<()> {
    let mut stmt = conn.prepare("PRAGMA quick_check")?;
    let problems: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()
        .unwrap_or_else(|e| vec![e.to_string()]);
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    Err(StoreError::Corrupt(format!(
        "{} is damaged ({}); restore it (with its -wal file) from a backup, or the whole data directory",
        path.display(),
        problems.into_iter().take(3).collect::<Vec<_>>().join("; ")
    )))
}

fn add_missing_columns(conn: &Connection, additions: &[(&str, &str, &str)]) -> Result<()> {
    for (table, column, declaration) in additions {
        let present: bool = conn.query_row(
            "SELECT count(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2",
            [table, column],
            |r| r.get(0),
        )?;
        if !present {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {declaration}"))?;
        }
    }
    Ok(())
}

pub(super) fn meta(conn: &Connection, key: &str) -> Result<Option<u64>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub(super) fn set_meta(conn: &Connection, key: &str, value: u64) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        params![key, value],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables of an older schema are rebuilt from the log, not refused: they are dropped,
    /// and their position with them, so recovery replays the whole log. A newer schema
    /// (a downgrade) is refused.
    #[test]
    fn older_tables_are_dropped_for_a_replay_and_newer_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        let old = Connection::open(dir.path().join(File::Tables.name())).unwrap();
        old.execute_batch(META).unwrap();
        old.execute_batch("CREATE TABLE sections (id TEXT PRIMARY KEY, title TEXT NOT NULL);")
            .unwrap();
        old.execute("INSERT INTO sections (id, title) VALUES ('A-1', 'Old')", [])
            .unwrap();
        set_meta(&old, "schema_version", TABLES_SCHEMA_VERSION - 1).unwrap();
        set_meta(&old, "lsn", 42).unwrap();
        drop(old);

        let conn = open(dir.path(), File::Tables).unwrap();
        assert_eq!(meta(&conn, "schema_version").unwrap(), Some(TABLES_SCHEMA_VERSION));
        assert_eq!(meta(&conn, "lsn").unwrap(), None, "the whole log is replayed");
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM sections", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 0);
        conn.execute_batch("SELECT reserved, linked FROM sections").unwrap();

        set_meta(&conn, "schema_version", TABLES_SCHEMA_VERSION + 1).unwrap();
        drop(conn);
        let refused = open(dir.path(), File::Tables).unwrap_err().to_string();
        assert!(refused.contains("this murphy reads version"), "{refused}");
    }
}
