//! The SQLite backend, murphy's embedded default: two files in the data directory,
//! `log.sqlite3` (the log and the tokens, appended by the committer with one fsync per
//! group commit) and `tables.sqlite3` (the materialized tables, written by the
//! materializer). Everything SQLite-specific lives here: the files, the WAL settings,
//! the checkpointer, the pool of read connections.

mod checkpoint;
mod log;
mod schema;
mod tables;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use murphy_core::LogEntry;
use rusqlite::{Connection, OpenFlags};

use crate::{Backend, Materialization, Records, Result, Tables, TokenRow};
use checkpoint::Checkpointer;
use log::LogWriter;
use schema::File;

/// Read connections to the log kept for reuse; more are opened when all are busy.
const READERS_KEPT_MAX: usize = 8;

/// Tuning of the SQLite backend.
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    /// Past this size the writer restarts the log's WAL after an append: later appends
    /// overwrite the file from its start, so it stays about this size.
    pub wal_bytes_max: u64,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            wal_bytes_max: 8 * 1024 * 1024,
        }
    }
}

pub struct Sqlite {
    dir: PathBuf,
    options: SqliteOptions,
    writer: Mutex<LogWriter>,
    tables: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Declared last: its thread stops after the connections above are closed.
    _checkpointer: Checkpointer,
}

impl Sqlite {
    /// Opens (creating if needed) the log and tables files in `dir`.
    pub fn open(dir: &Path) -> Result<Sqlite> {
        Sqlite::open_with(dir, SqliteOptions::default())
    }

    pub fn open_with(dir: &Path, options: SqliteOptions) -> Result<Sqlite> {
        let log = schema::open(dir, File::Log)?;
        schema::check_integrity(&log, &dir.join(File::Log.name()))?;
        let tables = schema::open(dir, File::Tables)?;
        let checkpointer = Checkpointer::start(&dir.join(File::Log.name()))?;
        Ok(Sqlite {
            dir: dir.to_owned(),
            options,
            writer: Mutex::new(LogWriter::new(log)?),
            tables: Mutex::new(tables),
            readers: Mutex::new(Vec::new()),
            _checkpointer: checkpointer,
        })
    }

    /// Whether `dir` holds a database of this backend.
    pub fn exists(dir: &Path) -> bool {
        dir.join(File::Log.name()).exists()
    }

    /// Runs `read` on a read-only connection to the log, from the pool.
    fn with_reader<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let pooled = lock(&self.readers).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = Connection::open_with_flags(self.dir.join(File::Log.name()), flags)?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn
            }
        };
        let result = read(&conn);
        let mut readers = lock(&self.readers);
        if readers.len() < READERS_KEPT_MAX {
            readers.push(conn);
        }
        result
    }
}

impl Backend for Sqlite {
    fn describe(&self) -> String {
        format!("SQLite in {}", self.dir.display())
    }

    fn append(&self, records: &Records) -> Result<()> {
        let mut writer = lock(&self.writer);
        writer.append(records)?;
        if writer.wal_bytes() > self.options.wal_bytes_max && checkpoint::restart_wal(&writer.conn)? {
            writer.restarted();
        }
        Ok(())
    }

    fn materialize(&self, m: &Materialization<'_>) -> Result<()> {
        tables::materialize(&mut lock(&self.tables), m)
    }

    fn tables(&self) -> Result<Tables> {
        tables::load(&lock(&self.tables))
    }

    fn tokens(&self) -> Result<Vec<TokenRow>> {
        self.with_reader(log::tokens)
    }

    fn log(&self, after: u64, limit: u64) -> Result<Vec<LogEntry>> {
        self.with_reader(|conn| log::read(conn, after, limit))
    }
}

/// A poisoned lock means a panic mid-write elsewhere: carry on only with what SQLite
/// committed, which a transaction keeps whole.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
