//! `StoreError`: the one error type of the store boundary. Each says what failed and
//! where; `is_fault` tells a passing fault of the medium (a full disk, an I/O error),
//! which a writer may retry, from a store whose contents cannot be trusted.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A database file could not be opened, created or set up.
    #[error("cannot open {what} at {path}: {reason}")]
    Open {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored JSON does not parse: {0}")]
    Json(#[from] serde_json::Error),
    /// What is stored contradicts itself or the log: never served, never overwritten.
    #[error("the stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether this is a passing fault of the medium (a full disk, a failed write, a
    /// read-only remount, a lock held too long) that the store rolled back cleanly:
    /// nothing of the failed call was written, and it may be tried again later. A failed
    /// sync is not one: after it, what is on disk is in doubt.
    pub fn is_fault(&self) -> bool {
        use rusqlite::ErrorCode::{CannotOpen, DatabaseBusy, DatabaseLocked, DiskFull, ReadOnly, SystemIoFailure};
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                let synced = !matches!(
                    e.extended_code,
                    rusqlite::ffi::SQLITE_IOERR_FSYNC | rusqlite::ffi::SQLITE_IOERR_DIR_FSYNC
                );
                synced
                    && matches!(
                        e.code,
                        DiskFull | SystemIoFailure | DatabaseBusy | DatabaseLocked | ReadOnly | CannotOpen
                    )
            }
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
