//! The store boundary: `Backend`, and the records that cross it. The event loop's
//! committer appends each group commit's records (the only call an answer waits for);
//! the materializer brings the tables up to a log position off the answer path; start-up
//! reads the tables and the log tail back (`crate::recover`). A backend is shared by
//! those threads and the HTTP readers, so every method takes `&self`.

use murphy_core::{Changes, LogEntry, SessionChange, SessionRow, State};

use crate::Result;

/// What one group commit appends, in log order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    /// Commands with their outcomes and effects, consecutive LSNs.
    pub entries: Vec<LogEntry>,
    /// Tokens minted in the batch.
    pub tokens: Vec<TokenRow>,
}

impl Records {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.tokens.is_empty()
    }
}

/// A student token, stored as the hex SHA-256 of the token, never the token itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    pub hash: String,
    pub student: String,
}

/// The materialized tables: the state at their LSN, and the sessions.
#[derive(Clone, Debug)]
pub struct Tables {
    pub state: State,
    pub sessions: Vec<SessionRow>,
}

/// One step of the materializer: the tables go from `before` (what they hold) to
/// `after`. Only the entities in `changes` and the `sessions` listed are written, each
/// once, at its value in `after`, however often it changed in between.
pub struct Materialization<'a> {
    pub before: &'a State,
    pub after: &'a State,
    pub changes: &'a Changes,
    pub sessions: &'a [SessionChange],
}

/// A durable store of the log and its tables. Every backend passes the conformance
/// suite in `tests/conformance.rs`.
pub trait Backend: Send + Sync {
    /// Where the data is, for messages to the operator.
    fn describe(&self) -> String;

    /// Appends `records` after everything appended before. Durable when it returns
    /// `Ok`; on `Err` nothing of `records` is in the log, except `StoreError::InDoubt`
    /// (a server backend lost its connection at commit and could not look): then
    /// recover from the log before appending again. The only call on the path of an
    /// answer; called by one thread at a time.
    fn append(&self, records: &Records) -> Result<()>;

    /// Writes the tables from `m.before` to `m.after` in one transaction, and records
    /// `m.after.lsn()` as their position. Only positions already appended.
    fn materialize(&self, m: &Materialization<'_>) -> Result<()>;

    /// The materialized tables, at their position (`state.lsn()`).
    fn tables(&self) -> Result<Tables>;

    /// Every token minted.
    fn tokens(&self) -> Result<Vec<TokenRow>>;

    /// Up to `limit` log entries with LSN greater than `after`, in LSN order.
    fn log(&self, after: u64, limit: u64) -> Result<Vec<LogEntry>>;
}
