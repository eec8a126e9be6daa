//! The committer: the second stage of the write pipeline. The loop applies a batch in
//! memory and seals it; the committer, on its own thread, makes sealed batches durable
//! in order (one SQLite transaction, one fsync each), then publishes the new snapshot,
//! then answers the batch's requests. While it waits on the disk, the loop is already
//! applying the next batch, so the fsync is no longer on the loop's critical path.
//!
//! Order is what keeps the guarantees: batches commit in the order the loop sealed
//! them, and nothing of a batch (its snapshot, its answers) is visible before its
//! commit, so an answer or a read never shows a state that is not on disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use murphy_core::wire::SectionEvent;
use murphy_core::{Changes, State};
use murphy_store::{Batch, Store, StoreError};
use tokio::sync::{broadcast, oneshot};

use crate::engine::{Answer, TokenResult};
use crate::metrics::Metrics;
use crate::snapshot::Snapshot;

/// The WAL is truncated once it passes this size.
const WAL_BYTES_MAX: u64 = 64 * 1024 * 1024;

/// A batch applied in memory, on its way to disk.
pub struct Sealed {
    pub batch: Batch,
    /// The state after the batch, and what it changed since the previous batch.
    pub state: State,
    pub changes: Changes,
    /// Token hash -> student, after the batch.
    pub tokens: imbl::HashMap<String, String>,
    pub answers: Vec<(oneshot::Sender<Answer>, Answer)>,
    pub token_answers: Vec<(oneshot::Sender<TokenResult>, TokenResult)>,
    /// How long the batch's oldest request waited for the loop.
    pub lag: Duration,
}

impl Sealed {
    /// Appends a later batch, so both are committed in one transaction.
    fn absorb(&mut self, later: Sealed) {
        self.batch.entries.extend(later.batch.entries);
        self.batch.sessions.extend(later.batch.sessions);
        self.batch.tokens.extend(later.batch.tokens);
        self.state = later.state;
        self.changes.sections.extend(later.changes.sections);
        self.changes.students.extend(later.changes.students);
        self.tokens = later.tokens;
        self.answers.extend(later.answers);
        self.token_answers.extend(later.token_answers);
        self.lag = self.lag.max(later.lag);
    }
}

pub struct Committer {
    pub store: Store,
    /// The state on disk: what the last commit left.
    pub durable: State,
    pub published: Arc<ArcSwap<Snapshot>>,
    pub metrics: Arc<Metrics>,
    /// Set when a commit fails, so the loop stops taking requests.
    pub failed: Arc<AtomicBool>,
    /// Live seat counts for `GET /api/v1/events`: one message per commit.
    pub events: broadcast::Sender<Arc<Vec<SectionEvent>>>,
}

impl Committer {
    /// Commits sealed batches until the loop hangs up. On a failed commit nobody of that
    /// batch or any later one is told "done" (their reply channels are dropped, which
    /// the HTTP side answers with 503) and the error is returned: crash-only.
    pub fn run(mut self, inbox: Receiver<Sealed>) -> Result<(), StoreError> {
        for first in inbox.iter() {
            // Everything sealed while the last commit was on the disk goes down together:
            // one fsync, however many batches the loop managed meanwhile.
            let mut group = first;
            while let Ok(next) = inbox.try_recv() {
                group.absorb(next);
            }
            if let Err(e) = self.commit(group) {
                self.failed.store(true, Ordering::SeqCst);
                tracing::error!("commit failed, no further writes are accepted: {e}");
                return Err(e);
            }
        }
        Ok(())
    }

    /// Tells live watchers what the commit changed, after it is durable and published.
    fn announce(&self, state: &State, changes: &Changes) {
        if changes.sections.is_empty() || self.events.receiver_count() == 0 {
            return;
        }
        let mut events: Vec<SectionEvent> = changes
            .sections
            .iter()
            .filter_map(|id| state.section(id))
            .map(SectionEvent::from)
            .collect();
        events.sort_by_key(|e| e.version);
        let _ = self.events.send(Arc::new(events));
    }

    fn commit(&mut self, sealed: Sealed) -> Result<(), StoreError> {
        let Sealed {
            batch,
            state,
            changes,
            tokens,
            answers,
            token_answers,
            lag,
        } = sealed;
        if !batch.entries.is_empty() || !batch.tokens.is_empty() {
            let started = Instant::now();
            self.store.commit(&batch, &self.durable, &state, &changes)?;
            self.store.truncate_wal_over(WAL_BYTES_MAX)?;
            if !batch.entries.is_empty() {
                self.metrics.batch(batch.entries.len() as u64, started.elapsed(), lag);
            }
            let previous = self.published.load_full();
            self.published.store(Arc::new(previous.next(state.clone(), tokens)));
            self.announce(&state, &changes);
            self.durable = state;
        }
        for (reply, answer) in answers {
            let _ = reply.send(answer);
        }
        for (reply, result) in token_answers {
            let _ = reply.send(result);
        }
        Ok(())
    }
}
