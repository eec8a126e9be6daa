//! `murphy check`: verifies what clients saw (a history) and what the server logged
//! against murphy's guarantees (docs/DESIGN.md §5), with counts and the first
//! counter-examples of every violation.
//!
//! `check` is pure: no network, no files, no clock. The binary fetches the log and
//! reads the history, then calls it. Every check is one or two passes, linear or
//! O(n log n) in the sizes of the log and the history.

mod claims;
mod fcfs;
pub mod history;
mod invariants;
mod lost_writes;
mod provenance;
mod real_time;
mod report;
mod sessions;
mod text;
mod touched;

use murphy_core::LogEntry;

pub use history::Record;
pub use provenance::same_server;
pub use report::{EXAMPLES_MAX, Finding, Report};

/// Checks a client-side history and the server's whole log (from LSN 1, in LSN order)
/// against the five guarantees: invariants (by replay), no lost writes, strict
/// serializability in real time, sessions, and first come, first served.
pub fn check(history: &[Record], log: &[LogEntry]) -> Report {
    Report {
        log_entries: log.len() as u64,
        history_records: history.len() as u64,
        invariants: invariants::check(log),
        lost_writes: lost_writes::check(history, log),
        real_time: real_time::check(history),
        sessions: sessions::check(history, log),
        fcfs: fcfs::check(log),
    }
}
