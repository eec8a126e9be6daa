//! A real SQLite backend with faults injected on demand: appends that fail as a full
//! disk or a failed sync would, and a materializer that can be held. For the tests of
//! what murphy does when its store misbehaves, on any machine.

use std::path::Path;
use std::sync::{Condvar, Mutex};

use murphy_core::LogEntry;
use murphy_store::{Backend, Materialization, Records, Result, Sqlite, StoreError, Tables, TokenRow};

pub struct Faulty {
    inner: Sqlite,
    /// SQLite's (extended) result code every append fails with, while set.
    append_fault: Mutex<Option<i32>>,
    /// The same, for every materializer step.
    materialize_fault: Mutex<Option<i32>>,
    materialize_open: Mutex<bool>,
    materialize_opened: Condvar,
}

impl Faulty {
    pub fn open(dir: &Path) -> Faulty {
        Faulty {
            inner: Sqlite::open(dir).unwrap(),
            append_fault: Mutex::new(None),
            materialize_fault: Mutex::new(None),
            materialize_open: Mutex::new(true),
            materialize_opened: Condvar::new(),
        }
    }

    /// Appends fail with `code` (e.g. `SQLITE_FULL`) until `None`.
    pub fn fail_appends(&self, code: Option<i32>) {
        *self.append_fault.lock().unwrap() = code;
    }

    /// Materializer steps fail with `code` until `None`.
    pub fn fail_materialize(&self, code: Option<i32>) {
        *self.materialize_fault.lock().unwrap() = code;
    }

    /// Holds (`false`) or lets go (`true`) the materializer.
    pub fn materializer_open(&self, open: bool) {
        *self.materialize_open.lock().unwrap() = open;
        self.materialize_opened.notify_all();
    }
}

impl Backend for Faulty {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn append(&self, records: &Records) -> Result<()> {
        if let Some(code) = *self.append_fault.lock().unwrap() {
            let error = rusqlite::ffi::Error::new(code);
            return Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(error, None)));
        }
        self.inner.append(records)
    }

    fn materialize(&self, m: &Materialization<'_>) -> Result<()> {
        let mut open = self.materialize_open.lock().unwrap();
        while !*open {
            open = self.materialize_opened.wait(open).unwrap();
        }
        if let Some(code) = *self.materialize_fault.lock().unwrap() {
            let error = rusqlite::ffi::Error::new(code);
            return Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(error, None)));
        }
        self.inner.materialize(m)
    }

    fn tables(&self) -> Result<Tables> {
        self.inner.tables()
    }

    fn tokens(&self) -> Result<Vec<TokenRow>> {
        self.inner.tokens()
    }

    fn log(&self, after: u64, limit: u64) -> Result<Vec<LogEntry>> {
        self.inner.log(after, limit)
    }
}
