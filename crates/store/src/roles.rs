//! The roles a node of a cluster plays against its shared store besides `Backend`, as
//! traits the cluster code uses rather than a backend's types: seeking and holding the
//! primary's lease (`PrimaryLease`), following the log as it grows (`LogWatch`), and
//! the register of which nodes are up and which rules their binaries know (`Members`,
//! what an upgrade is checked against). `Shared` is a store that plays them all:
//! PostgreSQL's (`Postgres`).

use std::time::{Duration, Instant};

use murphy_core::RulesVersion;
use time::OffsetDateTime;

use crate::{Backend, Result};

/// A store the nodes of a cluster share: the log and the tables, the primary's lease,
/// followers of the log, and the register of nodes.
pub trait Shared: Backend + Members {
    /// This node's side of the primary's lease.
    fn lease(&self) -> &dyn PrimaryLease;

    /// A new follower of the log, with a session of its own.
    fn follower(&self) -> Result<Box<dyn LogWatch>>;
}

/// The primary's lease, from one node's side: at most one node holds it at a time, and
/// every append of the store is fenced by the epoch it holds.
pub trait PrimaryLease: Send + Sync {
    /// Takes the lease for the node at `node` if it is free or has lapsed (deposing a
    /// stuck holder); `None` while another node holds it.
    fn try_acquire(&self, node: &str, lease_time: Duration) -> Result<Option<Epoch>>;

    /// Extends the lease this node holds by `lease_time`; `StoreError::Fenced` once
    /// another node has taken it. Returns until when it is held, by this node's clock.
    fn renew(&self, lease_time: Duration) -> Result<Instant>;

    /// Hands the lease on now, if held.
    fn release(&self) -> Result<()>;

    /// The lease as the store sees it.
    fn status(&self) -> Result<LeaseStatus>;
}

/// A follower of the log: woken when the log grows.
pub trait LogWatch: Send {
    /// Waits until the log ends past `after`, at most `timeout`; the log's end.
    fn wait_for_log(&mut self, after: u64, timeout: Duration) -> Result<u64>;

    /// The appends heard of that end at or before `through`, oldest first, each once.
    fn take_commits(&mut self, through: u64) -> Result<Vec<Commit>>;
}

/// A node that registered itself recently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The URL the other nodes reach it at.
    pub url: String,
    /// The newest rules version its binary knows.
    pub rules_version_max: RulesVersion,
    /// The highest LSN it has served (0: none, or a binary that does not say). The
    /// log must reach it: a database restored to an older point does not.
    pub seen_lsn: u64,
}

/// The cluster's register of its nodes. Each node registers itself every few moments
/// while it runs and leaves the register when it stops; a node not seen for a while is
/// not counted live (it crashed, or was stopped without leaving).
pub trait Members: Send + Sync {
    /// Records that the node at `url`, whose binary knows rules up to
    /// `rules_version_max` and which has served the log up to `seen_lsn`, is up now
    /// (by the database's clock).
    fn register(&self, url: &str, rules_version_max: RulesVersion, seen_lsn: u64) -> Result<()>;

    /// Removes the node at `url` from the register: it is stopping.
    fn leave(&self, url: &str) -> Result<()>;

    /// The nodes registered within the last `within`, by URL.
    fn live(&self, within: Duration) -> Result<Vec<Member>>;
}

/// A lease epoch: the fencing token of one holder's term, 1 for the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Epoch(pub u64);

/// The lease as the database sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseStatus {
    /// The current epoch; 0 if no node ever held the lease.
    pub epoch: u64,
    /// The node that took it at that epoch.
    pub holder: Option<String>,
    /// When it lapses unless renewed, by the database's clock.
    pub expires_at: Option<OffsetDateTime>,
    /// Whether it has lapsed (a taker may depose the holder).
    pub expired: bool,
    /// Whether a session holds the lease's lock (false: the holder is gone, and any
    /// node may take over at once).
    pub locked: bool,
    /// The LSN of the last log entry.
    pub log_end: u64,
}

/// One append as its notification tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The log's end after the append.
    pub end: u64,
    /// When it committed, by the database's clock.
    pub at: OffsetDateTime,
}
