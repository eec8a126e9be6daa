//! murphy's durable storage, behind one boundary: the `Backend` trait. A backend keeps
//! the log (the serial order: every command with its LSN, arrival time, session and
//! outcome, refusals included; and every token minted) and the materialized tables
//! (sections, lines, students, sessions) that save start-up from replaying the whole
//! history. The log alone rebuilds everything; the tables are a cache of it at a
//! position, written off the answer path (`recover` replays the tail past them).
//!
//! Only this crate touches SQL. `Sqlite` is the embedded default.

mod backend;
mod error;
mod recover;
mod sqlite;

pub use backend::{Backend, Materialization, Records, Tables, TokenRow};
pub use error::{Result, StoreError};
pub use recover::{Recovered, Verified, recover, verify};
pub use sqlite::{Sqlite, SqliteOptions};
