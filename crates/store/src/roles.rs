//! The roles a node of a cluster plays against the store besides `Backend`, as traits
//! the cluster code uses: `Members`, the register of which nodes are up and which rules
//! their binaries know (what an upgrade is checked against).

use std::time::Duration;

use murphy_core::RulesVersion;

use crate::Result;

/// A node that registered itself recently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The URL the other nodes reach it at.
    pub url: String,
    /// The newest rules version its binary knows.
    pub rules_version_max: RulesVersion,
}

/// The cluster's register of its nodes. Each node registers itself every few moments
/// while it runs and leaves the register when it stops; a node not seen for a while is
/// not counted live (it crashed, or was stopped without leaving).
pub trait Members: Send + Sync {
    /// Records that the node at `url`, whose binary knows rules up to
    /// `rules_version_max`, is up now (by the database's clock).
    fn register(&self, url: &str, rules_version_max: RulesVersion) -> Result<()>;

    /// Removes the node at `url` from the register: it is stopping.
    fn leave(&self, url: &str) -> Result<()>;

    /// The nodes registered within the last `within`, by URL.
    fn live(&self, within: Duration) -> Result<Vec<Member>>;
}
