//! The SQLite schema. Tables keyed by text are `WITHOUT ROWID`: one b-tree each instead
//! of a table plus its key index, so a batch dirties (and fsyncs) fewer pages.
//! `sqlite3 murphy-data/murphy.sqlite3` can read every table:
//! JSON columns hold what has no flat shape (commands, outcomes, meetings).

use rusqlite::{Connection, OptionalExtension, params};

use crate::{Result, StoreError};

/// Bumped on any incompatible change; a file from another version is refused.
pub const SCHEMA_VERSION: u64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log (
    lsn     INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    client  TEXT,
    seq     INTEGER,
    command TEXT NOT NULL,
    outcome TEXT NOT NULL,
    effects TEXT
);
CREATE INDEX IF NOT EXISTS log_by_session ON log (client, seq) WHERE client IS NOT NULL;
CREATE TABLE IF NOT EXISTS sections (
    id                TEXT PRIMARY KEY,
    title             TEXT NOT NULL,
    units             INTEGER NOT NULL,
    capacity          INTEGER NOT NULL,
    waitlist_capacity INTEGER NOT NULL,
    meetings          TEXT NOT NULL,
    version           INTEGER NOT NULL
) WITHOUT ROWID;
-- `place` orders a line (enrollment order, waitlist order); it increases along the
-- line but is not dense, so a join or a leave writes one row, not the whole line.
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
    appointment   TEXT,
    balance_cents INTEGER NOT NULL,
    version       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
    client  TEXT PRIMARY KEY,
    owner   TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    results TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, student TEXT NOT NULL) WITHOUT ROWID;
";

pub(crate) fn create(conn: &Connection) -> Result<()> {
    conn.execute_batch(SCHEMA)?;
    let version: Option<u64> = conn
        .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0))
        .optional()?;
    match version {
        None => {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                [SCHEMA_VERSION],
            )?;
            Ok(())
        }
        Some(SCHEMA_VERSION) => Ok(()),
        Some(other) => Err(StoreError::Corrupt(format!(
            "the database has schema version {other}; this murphy reads version {SCHEMA_VERSION}"
        ))),
    }
}

pub(crate) fn meta(conn: &Connection, key: &str) -> Result<u64> {
    let value: Option<u64> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?;
    Ok(value.unwrap_or(0))
}

pub(crate) fn set_meta(conn: &Connection, key: &str, value: u64) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
        params![key, value],
    )?;
    Ok(())
}
