//! The cluster manager, one thread per node: it holds or seeks the primary's lease. As
//! a secondary it follows the log and tries to take the lease every `lease_time / 4`
//! (at once when the primary's session is gone, after `lease_time` when the primary is
//! stuck); taking it, it rebuilds the state from the log (`recover`: the log's end is
//! final for the deposed epoch) and starts the write pipeline, unless the log ends
//! before an LSN this node or another live one has served (a database restored to an
//! older point: `StoreError::LogBehind`), when it hands the lease back and waits for
//! the database to be restored past it. As the primary it renews
//! the lease at the same pace, and steps down the moment the lease is found taken: its
//! pipeline's appends are fenced by then, so it writes nothing and answers nobody "done".

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use murphy_store::{Backend, Epoch, Shared, StoreError};

use super::follower::Following;
use super::{MEMBER_LEASES_LIVE, Node, Role};
use crate::config::Limits;
use crate::metrics::Metrics;
use crate::pipeline;

/// The manager before it runs: started by `Server::serve` once the node's URL is known.
pub(crate) struct Manager {
    pub(crate) store: Arc<dyn Shared>,
    /// The same store, as the write pipeline takes it.
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) node: Arc<Node>,
    pub(crate) limits: Limits,
    pub(crate) metrics: Arc<Metrics>,
}

/// The running manager; `stop` hands the lease on and ends it.
pub(crate) struct Running {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

enum Now {
    Secondary(Following),
    Primary {
        epoch: Epoch,
        pipeline: JoinHandle<Result<(), StoreError>>,
    },
}

impl Manager {
    pub(crate) fn start(self, url: String) -> std::io::Result<Running> {
        self.node.set_url(url.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let first = Following::start(
            self.store.clone(),
            self.node.publisher().clone(),
            self.limits.rules_version_max,
            self.metrics.clone(),
        )?;
        let thread = std::thread::Builder::new()
            .name("murphy-cluster".into())
            .spawn(move || self.run(&url, first, &flag))?;
        Ok(Running { stop, thread })
    }

    fn run(self, url: &str, first: Following, stop: &AtomicBool) {
        let tick = self.limits.lease_time_max / 4;
        let mut now = Now::Secondary(first);
        let mut refused = None;
        while !stop.load(Ordering::SeqCst) {
            self.register(url);
            now = match now {
                Now::Secondary(following) => self.seek(url, following, &mut refused),
                Now::Primary { epoch, pipeline } => self.hold(epoch, pipeline),
            };
            self.metrics.role(matches!(now, Now::Primary { .. }), self.epoch(&now));
            std::thread::sleep(tick);
        }
        if let Err(e) = self.store.leave(url) {
            tracing::warn!("leaving the cluster's register failed (the entry lapses by itself): {e}");
        }
        match now {
            Now::Secondary(following) => following.stop(),
            Now::Primary { pipeline, .. } => {
                // Hand the lease on at once: another node need not wait for it to lapse.
                self.node.set_role(Role::Secondary {
                    primary: None,
                    epoch: 0,
                });
                let _ = pipeline.join();
                if let Err(e) = self.store.lease().release() {
                    tracing::warn!("releasing the primary's lease failed (it lapses by itself): {e}");
                }
            }
        }
    }

    /// Tells the cluster's register this node is up, which rules its binary knows, and
    /// how far it has served the log.
    fn register(&self, url: &str) {
        let seen = self.node.publisher().snapshot().state.lsn();
        if let Err(e) = self.store.register(url, self.limits.rules_version_max, seen) {
            tracing::warn!("registering this node with the cluster failed; trying again: {e}");
        }
    }

    /// As a secondary: take the lease if it is free, else note who holds it.
    /// `refused`: why the last takeover failed, if it did.
    fn seek(&self, url: &str, following: Following, refused: &mut Option<String>) -> Now {
        match self.store.lease().try_acquire(url, self.limits.lease_time_max) {
            Ok(Some(epoch)) => {
                following.stop();
                match self.promote(epoch) {
                    Ok(pipeline) => {
                        *refused = None;
                        tracing::info!("this node is the primary now, at epoch {}", epoch.0);
                        return Now::Primary { epoch, pipeline };
                    }
                    Err(e) => {
                        // Said once, not again at every try while nothing changes.
                        if refused.as_deref() != Some(e.as_str()) {
                            tracing::error!("taking over as primary failed; handing the lease back: {e}");
                        }
                        *refused = Some(e);
                        let _ = self.store.lease().release();
                        return self.follow_again();
                    }
                }
            }
            Ok(None) => self.note_primary(),
            Err(e) => tracing::warn!("the primary's lease could not be read: {e}"),
        }
        Now::Secondary(following)
    }

    /// As the primary: renew the lease; step down once another node has it.
    fn hold(&self, epoch: Epoch, pipeline: JoinHandle<Result<(), StoreError>>) -> Now {
        match self.store.lease().renew(self.limits.lease_time_max) {
            Ok(_) => Now::Primary { epoch, pipeline },
            Err(StoreError::Fenced { current, .. }) => {
                tracing::warn!("another node took the primary's lease (epoch {current:?}); stepping down");
                self.node.set_role(Role::Secondary {
                    primary: None,
                    epoch: current.unwrap_or(epoch.0),
                });
                // The pipeline ends once the requests in flight let go of it; its
                // appends are fenced meanwhile.
                std::thread::spawn(move || pipeline.join());
                self.follow_again()
            }
            Err(e) => {
                // Not known to be deposed: keep the role. Appends are fenced by epoch
                // in the database anyway, should another node take over meanwhile.
                tracing::warn!("renewing the primary's lease failed; trying again: {e}");
                Now::Primary { epoch, pipeline }
            }
        }
    }

    fn promote(&self, epoch: Epoch) -> Result<JoinHandle<Result<(), StoreError>>, String> {
        let store = self.backend.clone();
        let recovered = murphy_store::recover(&*store, self.limits.sessions(), self.limits.rules_version_max)
            .map_err(|e| e.to_string())?;
        self.log_reaches_what_was_served(recovered.state.lsn())
            .map_err(|e| e.to_string())?;
        let (writer, thread) = pipeline::start(
            store,
            recovered,
            self.limits.clone(),
            self.metrics.clone(),
            self.node.publisher().clone(),
        )
        .map_err(|e| e.to_string())?;
        self.node.set_role(Role::Primary {
            writer,
            epoch: Some(epoch.0),
        });
        Ok(thread)
    }

    /// The log, ending at `end`, must reach every LSN served: by this node (its last
    /// publication, made only once durable) and by the live nodes (their register).
    fn log_reaches_what_was_served(&self, end: u64) -> Result<(), StoreError> {
        let mut seen = self.node.publisher().snapshot().state.lsn();
        let mut by = "this node".to_owned();
        let within = self.limits.lease_time_max * MEMBER_LEASES_LIVE;
        for member in self.store.live(within)? {
            if member.seen_lsn > seen {
                seen = member.seen_lsn;
                by = format!("the node at {}", member.url);
            }
        }
        if end < seen {
            return Err(StoreError::LogBehind { end, seen, by });
        }
        Ok(())
    }

    fn follow_again(&self) -> Now {
        loop {
            match Following::start(
                self.store.clone(),
                self.node.publisher().clone(),
                self.limits.rules_version_max,
                self.metrics.clone(),
            ) {
                Ok(following) => return Now::Secondary(following),
                Err(e) => {
                    tracing::error!("starting the follower failed; trying again: {e}");
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
    }

    /// Records the primary's URL, for passing writes on to it.
    fn note_primary(&self) {
        match self.store.lease().status() {
            Ok(status) => self
                .node
                .note_secondary(status.holder.filter(|_| status.locked && !status.expired), status.epoch),
            Err(e) => tracing::warn!("the primary's lease could not be read: {e}"),
        }
    }

    fn epoch(&self, now: &Now) -> u64 {
        match (now, &*self.node.role()) {
            (Now::Primary { epoch, .. }, _) => epoch.0,
            (_, Role::Secondary { epoch, .. }) => *epoch,
            _ => 0,
        }
    }
}

impl Running {
    /// Stops the manager: a primary stops its pipeline (the last batches are appended)
    /// and releases the lease; a secondary stops following.
    pub(crate) fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
    }
}
