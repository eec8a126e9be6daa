//! The PostgreSQL backend: the same log and tables as SQLite, in a schema of their own
//! (`murphy`), shared by every node of a cluster. One node at a time holds the lease
//! (`Lease`) and appends; every append and materializer step is fenced by its epoch.
//! The others follow the log (`Follower`) and read it by LSN.
//!
//! Connections, each for one job: one appends (the committer's), one writes the tables
//! (the materializer's), one holds the lease's lock, a bounded pool serves readers, and
//! each `Follower` has its own. Every one is opened again after it is lost.

mod conn;
mod follow;
mod lease;
mod load;
mod log;
mod members;
mod schema;
mod tables;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use ::postgres::config::Host;
use murphy_core::LogEntry;

use crate::{Backend, Materialization, Records, Result, StoreError, Tables, TokenRow};
use conn::{Pool, Role, Slot, Target};
pub(crate) use conn::{describe, is_connection_lost, is_fault};
pub use follow::Follower;
pub use lease::{LOCK_WAIT_TIME_MAX, Lease};

/// Limits and names of the PostgreSQL backend.
#[derive(Clone, Debug)]
pub struct PostgresOptions {
    /// The schema murphy's tables live in: a lower-case identifier.
    pub schema: String,
    /// Read connections open at most (HTTP readers, start-up, lease status).
    pub readers_max: usize,
    /// A reader waits this long for a free connection before giving up.
    pub reader_wait_time_max: Duration,
    /// Opening a connection gives up after this long.
    pub connect_time_max: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            schema: "murphy".into(),
            readers_max: 4,
            reader_wait_time_max: Duration::from_secs(5),
            connect_time_max: Duration::from_secs(5),
        }
    }
}

pub struct Postgres {
    target: Arc<Target>,
    appender: Slot,
    materializer: Slot,
    readers: Arc<Pool>,
    lease: Lease,
}

impl Postgres {
    /// Connects to the database at `url` (`postgres://user@host:port/db`, or key=value
    /// pairs), creating the schema at first start and refusing one of another version.
    /// Holds no lease: take it with `lease().try_acquire` before appending.
    pub fn connect(url: &str, options: PostgresOptions) -> Result<Postgres> {
        let config = ::postgres::Config::from_str(url).map_err(|e| StoreError::Unavailable {
            location: "the database URL".into(),
            reason: e.to_string(),
        })?;
        if !schema::valid_name(&options.schema) {
            return Err(StoreError::Unavailable {
                location: location(&config),
                reason: format!("schema name {:?} is not a lower-case identifier", options.schema),
            });
        }
        let mut config = config;
        config.connect_timeout(options.connect_time_max);
        let target = Arc::new(Target {
            location: location(&config),
            config,
            schema: options.schema,
        });
        let mut first = target.connect(Role::Appender)?;
        schema::create(&mut first.client, &target)?;
        let readers = Arc::new(Pool::new(options.readers_max, options.reader_wait_time_max));
        Ok(Postgres {
            lease: Lease::new(target.clone(), readers.clone()),
            appender: Slot::new(Role::Appender, Some(first)),
            materializer: Slot::new(Role::Materializer, None),
            readers,
            target,
        })
    }

    /// This node's side of the primary's lease.
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// A new follower of the log, with a session of its own.
    pub fn follower(&self) -> Result<Follower> {
        Follower::new(self.target.clone())
    }

    /// The LSN of the last log entry (0 for an empty log).
    pub fn log_end(&self) -> Result<u64> {
        self.readers.with(&self.target, log::end)
    }
}

impl Backend for Postgres {
    fn describe(&self) -> String {
        format!("PostgreSQL at {}, schema {}", self.target.location, self.target.schema)
    }

    /// Fenced by the lease: only under the epoch this node holds.
    fn append(&self, records: &Records) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        log::append(&self.appender, &self.target, self.lease.held_epoch(), records)
    }

    /// Fenced by the lease, and by the tables' position (`m.before`).
    fn materialize(&self, m: &Materialization<'_>) -> Result<()> {
        let held = self.lease.held_epoch();
        self.materializer
            .with(&self.target, |conn| tables::materialize(&mut conn.client, held, m))
    }

    fn tables(&self) -> Result<Tables> {
        self.readers.with(&self.target, load::load)
    }

    fn tokens(&self) -> Result<Vec<TokenRow>> {
        self.readers.with(&self.target, log::tokens)
    }

    fn log(&self, after: u64, limit: u64) -> Result<Vec<LogEntry>> {
        self.readers
            .with(&self.target, |client| log::read(client, after, limit))
    }
}

impl crate::Shared for Postgres {
    fn lease(&self) -> &dyn crate::PrimaryLease {
        &self.lease
    }

    fn follower(&self) -> Result<Box<dyn crate::LogWatch>> {
        Ok(Box::new(Follower::new(self.target.clone())?))
    }
}

impl crate::Members for Postgres {
    fn register(&self, url: &str, rules_version_max: murphy_core::RulesVersion, seen_lsn: u64) -> Result<()> {
        self.readers.with(&self.target, |client| {
            members::register(client, url, rules_version_max, seen_lsn)
        })
    }

    fn leave(&self, url: &str) -> Result<()> {
        self.readers.with(&self.target, |client| members::leave(client, url))
    }

    fn live(&self, within: Duration) -> Result<Vec<crate::Member>> {
        self.readers.with(&self.target, |client| members::live(client, within))
    }
}

/// Host, port and database of `config`, for messages.
fn location(config: &::postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", config.get_dbname().unwrap_or("(default database)"))
}

/// A u64 (LSN, seq, version) as PostgreSQL's bigint; past i64::MAX is refused, not wrapped.
fn signed(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{value} is past what a bigint holds")))
}

/// A stored bigint as the u64 it was written from.
fn unsigned(value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative value {value} where none is written")))
}

/// A stored bigint as the u32 (units, capacities) it was written from.
fn small(value: i64) -> Result<u32> {
    u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("value {value} is out of range")))
}
