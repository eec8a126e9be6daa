//! `StoreError`: the one error type of the store boundary. Each says what failed and
//! where; `is_fault` tells a passing fault of the medium (a full disk, an I/O error, a
//! lost connection), which a writer may retry, from a store whose contents cannot be
//! trusted or a write this node may not make (`Fenced`).

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
    /// A statement PostgreSQL refused or could not finish, the connection lost included.
    #[error("PostgreSQL: {}", crate::postgres::describe(.0))]
    Postgres(#[from] ::postgres::Error),
    /// PostgreSQL could not be reached (or no connection was free): nothing was done.
    #[error("PostgreSQL at {location} is unavailable: {reason}")]
    Unavailable { location: String, reason: String },
    /// This node may not write: it holds no lease, or another node has taken the lease
    /// over since (its epoch is newer). Nothing was written; the node must step down.
    #[error("{}", fenced(*held, *current))]
    Fenced {
        /// The epoch this node wrote with, if it held the lease.
        held: Option<u64>,
        /// The lease's epoch now, if known.
        current: Option<u64>,
    },
    /// The connection was lost while an append was committing and could not be opened
    /// again to see whether it landed: LSNs `first..=last` may or may not be in the log.
    /// Recover from the log before appending again.
    #[error("the append of lsn {first}..={last} may or may not be in the log: {reason}")]
    InDoubt { first: u64, last: u64, reason: String },
    #[error("stored JSON does not parse: {0}")]
    Json(#[from] serde_json::Error),
    /// What is stored contradicts itself or the log: never served, never overwritten.
    #[error("the stored data is inconsistent: {0}")]
    Corrupt(String),
    /// The log ends before an LSN already served, by this node or by another live one
    /// (`Members`): the database lost entries that were answered as done, as when it
    /// is restored from an older backup. A primary on it would hand those LSNs out
    /// again for other commands, so no node takes over until the log reaches `seen`.
    #[error(
        "the log ends at lsn {end}, but {by} has already served lsn {seen}: the database lost entries \
         answered as done (restored from an older backup?). Restore it to a point that reaches lsn {seen}; \
         until then no node takes over as primary"
    )]
    LogBehind { end: u64, seen: u64, by: String },
    /// The log is at rules newer than this binary knows: it cannot replay it, and must
    /// not append to it. Said in one line, with both versions and the fix.
    #[error("{}", murphy_core::rules::newer_than_known(*log, *known))]
    RulesNewer {
        log: murphy_core::RulesVersion,
        known: murphy_core::RulesVersion,
    },
}

impl From<murphy_core::ReplayError> for StoreError {
    fn from(e: murphy_core::ReplayError) -> Self {
        match e {
            murphy_core::ReplayError::Newer { log, known } => StoreError::RulesNewer { log, known },
            other => StoreError::Corrupt(other.to_string()),
        }
    }
}

fn fenced(held: Option<u64>, current: Option<u64>) -> String {
    let current = match current {
        Some(epoch) => format!("the lease is at epoch {epoch}"),
        None => "another node holds the lease".to_owned(),
    };
    match held {
        Some(epoch) => format!("fenced: this node's lease epoch {epoch} is stale ({current}); nothing was written"),
        None => format!("fenced: this node holds no lease ({current}); nothing was written"),
    }
}

impl StoreError {
    /// Whether this is a passing fault of the medium (a full disk, a failed write, a
    /// read-only remount, a lock held too long, a lost or refused connection) that the
    /// store rolled back cleanly: nothing of the failed call was written, and it may be
    /// tried again later. A failed sync is not one: after it, what is on disk is in
    /// doubt (and so is `InDoubt`, an append whose commit was never confirmed).
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
            StoreError::Postgres(e) => crate::postgres::is_fault(e),
            StoreError::Unavailable { .. } => true,
            _ => false,
        }
    }

    /// Whether the connection a statement ran on is gone (PostgreSQL restarted, the
    /// network failed, the session was terminated): the next call reconnects.
    pub fn is_connection_lost(&self) -> bool {
        match self {
            StoreError::Postgres(e) => crate::postgres::is_connection_lost(e),
            StoreError::Unavailable { .. } => true,
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
