//! murphy's durable storage, behind one boundary: the `Backend` trait. A backend keeps
//! the log (the serial order: every command with its LSN, arrival time, session and
//! outcome, refusals included; and every token minted) and the materialized tables
//! (sections, lines, students, sessions) that save start-up from replaying the whole
//! history. The log alone rebuilds everything; the tables are a cache of it at a
//! position, written off the answer path (`recover` replays the tail past them).
//!
//! Only this crate touches SQL. `Sqlite` is the embedded default; `Postgres` is shared
//! by the nodes of a cluster, one primary (the `Lease` holder) and its followers.

mod backend;
mod codec;
mod error;
mod line_meta;
mod postgres;
mod recover;
mod roles;
mod sqlite;

pub use self::postgres::{Follower, LOCK_WAIT_TIME_MAX, Lease, Postgres, PostgresOptions};
pub use backend::{Backend, Materialization, Records, Tables, TokenRow};
pub use error::{Result, StoreError};
pub use recover::{Recovered, Verified, recover, verify};
pub use roles::{Commit, Epoch, LeaseStatus, LogWatch, Member, Members, PrimaryLease, Shared};
pub use sqlite::{Sqlite, SqliteOptions};
