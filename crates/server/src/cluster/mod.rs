//! Who writes. A node over SQLite is alone and always its own primary. Over PostgreSQL,
//! every node runs `murphy serve` against one database and one of them holds the
//! primary's lease (`murphy_store::Lease`): it runs the write pipeline; the others are
//! secondaries that follow the log, serve reads at their version, and pass writes on to
//! the primary (`crate::http::cluster`). PostgreSQL does the durable, replicated part;
//! the lease's epoch fences a deposed primary out of the log. No consensus of our own.
//!
//! `Node` is what the HTTP side asks: the published state, and the role now. The
//! `manager` thread changes the role: it renews the lease, or takes it over.

mod follower;
mod manager;

use std::sync::Arc;

use arc_swap::ArcSwap;
use murphy_store::Members;
use tokio::sync::watch;

pub(crate) use manager::{Manager, Running};

/// A node counts as live (its binary's rules are checked before an upgrade) while it
/// registered within this many lease times; it registers every quarter of one.
pub(crate) const MEMBER_LEASES_LIVE: u32 = 4;

use crate::pipeline;
use crate::snapshot::{Publisher, Snapshot};

pub(crate) enum Role {
    /// Writes are applied here, through this node's pipeline. `epoch` is the lease's
    /// (`None` for a node alone on SQLite).
    Primary {
        writer: pipeline::Handle,
        epoch: Option<u64>,
    },
    /// Another node writes. `primary` is its URL, when known.
    Secondary { primary: Option<String>, epoch: u64 },
}

pub(crate) struct Node {
    publisher: Publisher,
    role: ArcSwap<Role>,
    /// Bumped on every change of `role`, for requests that wait for a primary.
    role_changes: watch::Sender<u64>,
    /// This node's URL, as others reach it (`None` until it serves, and alone).
    url: ArcSwap<Option<String>>,
    /// The cluster's register of nodes (`None` alone).
    members: Option<Arc<dyn Members>>,
}

impl Node {
    /// A node alone: its own primary for good.
    pub(crate) fn alone(publisher: Publisher, writer: pipeline::Handle) -> Node {
        Node {
            publisher,
            role: ArcSwap::from_pointee(Role::Primary { writer, epoch: None }),
            role_changes: watch::Sender::new(0),
            url: ArcSwap::from_pointee(None),
            members: None,
        }
    }

    /// A node of a cluster, a secondary until its manager takes the lease.
    pub(crate) fn clustered(publisher: Publisher, members: Arc<dyn Members>) -> Node {
        Node {
            publisher,
            role: ArcSwap::from_pointee(Role::Secondary {
                primary: None,
                epoch: 0,
            }),
            role_changes: watch::Sender::new(0),
            url: ArcSwap::from_pointee(None),
            members: Some(members),
        }
    }

    /// The cluster's register of nodes, in a cluster.
    pub(crate) fn members(&self) -> Option<Arc<dyn Members>> {
        self.members.clone()
    }

    pub(crate) fn publisher(&self) -> &Publisher {
        &self.publisher
    }

    /// The latest state published here. Never waits.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.publisher.snapshot()
    }

    pub(crate) fn role(&self) -> Arc<Role> {
        self.role.load_full()
    }

    /// The pipeline, while this node is the primary.
    pub(crate) fn writer(&self) -> Option<pipeline::Handle> {
        match &**self.role.load() {
            Role::Primary { writer, .. } => Some(writer.clone()),
            Role::Secondary { .. } => None,
        }
    }

    /// Whether this node applies writes now. Never waits, clones nothing.
    pub(crate) fn is_primary(&self) -> bool {
        matches!(&**self.role.load(), Role::Primary { .. })
    }

    pub(crate) fn url(&self) -> Option<String> {
        (*self.url.load_full()).clone()
    }

    /// A receiver that sees every later change of role.
    pub(crate) fn role_changes(&self) -> watch::Receiver<u64> {
        self.role_changes.subscribe()
    }

    pub(crate) fn set_role(&self, role: Role) {
        self.role.store(Arc::new(role));
        self.role_changes.send_modify(|n| *n += 1);
    }

    /// Notes another node as the primary (or none), if that is news.
    pub(crate) fn note_secondary(&self, primary: Option<String>, epoch: u64) {
        let known =
            matches!(&**self.role.load(), Role::Secondary { primary: p, epoch: e } if *p == primary && *e == epoch);
        if !known {
            // The operator's record of who writes, on every secondary.
            match &primary {
                Some(url) => tracing::info!("this node is a secondary; the primary is {url} (epoch {epoch})"),
                None => tracing::warn!(
                    "no node holds the primary's lease (epoch {epoch}); writes wait for a node to take it"
                ),
            }
            self.set_role(Role::Secondary { primary, epoch });
        }
    }

    pub(crate) fn set_url(&self, url: String) {
        self.url.store(Arc::new(Some(url)));
    }
}
