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
use tokio::sync::watch;

pub use manager::{Manager, Running};

use crate::pipeline;
use crate::snapshot::{Publisher, Snapshot};

pub enum Role {
    /// Writes are applied here, through this node's pipeline. `epoch` is the lease's
    /// (`None` for a node alone on SQLite).
    Primary {
        writer: pipeline::Handle,
        epoch: Option<u64>,
    },
    /// Another node writes. `primary` is its URL, when known.
    Secondary { primary: Option<String>, epoch: u64 },
}

pub struct Node {
    publisher: Publisher,
    role: ArcSwap<Role>,
    /// Bumped on every change of `role`, for requests that wait for a primary.
    role_changes: watch::Sender<u64>,
    /// This node's URL, as others reach it (`None` until it serves, and alone).
    url: ArcSwap<Option<String>>,
}

impl Node {
    /// A node alone: its own primary for good.
    pub fn alone(publisher: Publisher, writer: pipeline::Handle) -> Node {
        Node {
            publisher,
            role: ArcSwap::from_pointee(Role::Primary { writer, epoch: None }),
            role_changes: watch::Sender::new(0),
            url: ArcSwap::from_pointee(None),
        }
    }

    /// A node of a cluster, a secondary until its manager takes the lease.
    pub fn clustered(publisher: Publisher) -> Node {
        Node {
            publisher,
            role: ArcSwap::from_pointee(Role::Secondary {
                primary: None,
                epoch: 0,
            }),
            role_changes: watch::Sender::new(0),
            url: ArcSwap::from_pointee(None),
        }
    }

    pub fn publisher(&self) -> &Publisher {
        &self.publisher
    }

    /// The latest state published here. Never waits.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.publisher.snapshot()
    }

    pub fn role(&self) -> Arc<Role> {
        self.role.load_full()
    }

    /// The pipeline, while this node is the primary.
    pub fn writer(&self) -> Option<pipeline::Handle> {
        match &**self.role.load() {
            Role::Primary { writer, .. } => Some(writer.clone()),
            Role::Secondary { .. } => None,
        }
    }

    /// Whether this node applies writes now. Never waits, clones nothing.
    pub fn is_primary(&self) -> bool {
        matches!(&**self.role.load(), Role::Primary { .. })
    }

    /// Whether this node is part of a cluster (not alone on SQLite).
    pub fn is_clustered(&self) -> bool {
        !matches!(&**self.role.load(), Role::Primary { epoch: None, .. })
    }

    pub fn url(&self) -> Option<String> {
        (*self.url.load_full()).clone()
    }

    /// A receiver that sees every later change of role.
    pub fn role_changes(&self) -> watch::Receiver<u64> {
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
            self.set_role(Role::Secondary { primary, epoch });
        }
    }

    pub(crate) fn set_url(&self, url: String) {
        self.url.store(Arc::new(Some(url)));
    }
}
