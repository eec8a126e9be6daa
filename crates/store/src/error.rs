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
    /// Whether this is a fault of the medium (disk full, I/O error, database locked)
    /// rather than of the data: the write did not happen and may be tried again.
    pub fn is_fault(&self) -> bool {
        use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked, DiskFull, SystemIoFailure};
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                matches!(e.code, DiskFull | SystemIoFailure | DatabaseBusy | DatabaseLocked)
            }
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
