//! A secondary's follower, on its own thread: it wakes when the log grows (PostgreSQL's
//! LISTEN/NOTIFY), reads the new entries by LSN, applies each through `core` (it must
//! land at its LSN with its logged outcome, or the follower stops rather than serve a
//! state the log does not explain), and publishes the state: reads here are served at
//! this version, with the ETags the primary would give. It also learns, every few
//! seconds, the tokens minted on the primary. Its replication lag is measured per
//! append: from the append's commit (the database's clock, told by its notification)
//! to the publication here of the state that holds it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use murphy_core::{Changes, RulesVersion, State};
use murphy_store::{Commit, LogWatch, Shared, StoreError};
use time::OffsetDateTime;

use crate::metrics::Metrics;
use crate::pipeline::token_map;
use crate::snapshot::{Publisher, Tokens};

/// How long one wait for the log lasts before the follower looks at its stop flag.
const WAIT_TIME_MAX: Duration = Duration::from_millis(200);
/// Log entries read per query.
const ENTRIES_PER_READ: u64 = 10_000;
/// How often the tokens minted elsewhere are read again.
const TOKENS_INTERVAL: Duration = Duration::from_secs(2);
/// After an error, the wait before trying again.
const RETRY_INTERVAL: Duration = Duration::from_millis(500);

/// The follower's thread; `stop` ends it.
pub(super) struct Following {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Following {
    pub(super) fn start(
        store: Arc<dyn Shared>,
        publisher: Publisher,
        known: RulesVersion,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Following> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("murphy-follow".into())
            .spawn(move || follow(&*store, &publisher, known, &metrics, &flag))?;
        Ok(Following { stop, thread })
    }

    /// Stops following and waits for the thread: nothing is published after.
    pub(super) fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.thread.join();
    }
}

fn follow(store: &dyn Shared, publisher: &Publisher, known: RulesVersion, metrics: &Metrics, stop: &AtomicBool) {
    let mut state = publisher.snapshot().state.clone();
    let mut tokens = publisher.snapshot().tokens.clone();
    let mut tokens_read: Option<Instant> = None;
    let mut follower: Option<Box<dyn LogWatch>> = None;
    let mut published = Published {
        lsn: state.lsn(),
        at: None,
    };
    // The log's shortfall last said, if the log ends before this node's state.
    let mut behind: Option<String> = None;
    while !stop.load(Ordering::SeqCst) {
        if tokens_read.is_none_or(|t| t.elapsed() >= TOKENS_INTERVAL) {
            if let Some(fresh) = read_tokens(store, &tokens) {
                tokens = fresh;
                publisher.publish_tokens(tokens.clone());
            }
            tokens_read = Some(Instant::now());
        }
        let waited = match &mut follower {
            Some(f) => f.wait_for_log(state.lsn(), WAIT_TIME_MAX),
            None => match store.follower() {
                Ok(f) => {
                    follower = Some(f);
                    continue;
                }
                Err(e) => Err(e),
            },
        };
        match waited.and_then(|end| catch_up(store, &mut state, end, known, metrics)) {
            Ok(Some(changes)) => {
                behind = None;
                publisher.publish(&state, tokens.clone(), &changes);
                if let Some(f) = &mut follower {
                    published.measure(&mut **f, state.lsn(), metrics);
                }
            }
            Ok(None) => behind = None,
            Err(e @ StoreError::LogBehind { .. }) => {
                // Keep the state served (the log will be restored past it, or the
                // operator starts this node afresh); say it once, not every wait.
                let said = e.to_string();
                if behind.as_ref() != Some(&said) {
                    tracing::error!("this secondary cannot follow the log: {said}");
                    behind = Some(said);
                }
                std::thread::sleep(RETRY_INTERVAL);
            }
            Err(e) => {
                tracing::warn!("following the log failed; trying again: {e}");
                if matches!(e, StoreError::Corrupt(_) | StoreError::RulesNewer { .. }) {
                    // The log does not replay here (or is at rules this binary does not
                    // know): serving on would serve what it does not explain. Stop, say
                    // so, keep the last good state.
                    tracing::error!("this secondary stops following: {e}");
                    return;
                }
                std::thread::sleep(RETRY_INTERVAL);
            }
        }
    }
}

/// Applies the log up to `end` to `state`; the changes, if there were entries.
fn catch_up(
    store: &dyn Shared,
    state: &mut State,
    end: u64,
    known: RulesVersion,
    metrics: &Metrics,
) -> Result<Option<Changes>, StoreError> {
    if end < state.lsn() {
        return Err(StoreError::LogBehind {
            end,
            seen: state.lsn(),
            by: "this node".to_owned(),
        });
    }
    metrics.replication_behind(end.saturating_sub(state.lsn()));
    if end <= state.lsn() {
        return Ok(None);
    }
    while state.lsn() < end {
        let entries = store.log(state.lsn(), ENTRIES_PER_READ)?;
        if entries.is_empty() {
            break;
        }
        for entry in &entries {
            state.replay(entry, known)?;
        }
    }
    metrics.replication_behind(0);
    Ok(Some(state.take_changes()))
}

/// The last publication here, for timing the commits published by it.
struct Published {
    lsn: u64,
    /// When (`None`: before this follower published anything).
    at: Option<OffsetDateTime>,
}

impl Published {
    /// Just published through `lsn`: one lag sample per append published, from its
    /// commit to the publication that first held it. A commit heard of only now but
    /// already held by the last publication (its notification came after its entries
    /// were read) is timed to that one.
    fn measure(&mut self, follower: &mut dyn LogWatch, lsn: u64, metrics: &Metrics) {
        let now = OffsetDateTime::now_utc();
        let commits = match follower.take_commits(lsn) {
            Ok(commits) => commits,
            Err(e) => {
                tracing::warn!("reading the log's notifications failed: {e}");
                Vec::new()
            }
        };
        for Commit { end, at } in commits {
            let published_at = match self.at {
                Some(last) if end <= self.lsn => last,
                _ => now,
            };
            metrics.replication_lag(Duration::try_from(published_at - at).unwrap_or_default());
        }
        *self = Published { lsn, at: Some(now) };
    }
}

/// The tokens, read again; `None` if unchanged or unreadable (tried again later).
fn read_tokens(store: &dyn Shared, known: &Tokens) -> Option<Tokens> {
    let rows = store
        .tokens()
        .inspect_err(|e| tracing::warn!("reading tokens failed: {e}"))
        .ok()?;
    if rows.len() == known.len() {
        return None;
    }
    token_map(rows).inspect_err(|e| tracing::warn!("{e}")).ok()
}
