//! The committer: the second stage of the write pipeline. On its own thread it appends
//! sealed batches to the log in order (one append, one fsync, for everything sealed
//! while the previous append was on the disk), then publishes the new snapshot, tells
//! live watchers, hands the durable state to the materializer, and only then answers
//! the batch's requests. It is the only caller of `Backend::append`.
//!
//! Order keeps the guarantees: batches are appended in the order the loop sealed them,
//! and nothing of a batch (its snapshot, its answers) is visible before its append
//! returned, so an answer or a read never shows a state that is not on disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::Instant;

use arc_swap::ArcSwap;
use murphy_core::wire::SectionEvent;
use murphy_core::{Changes, State};
use murphy_store::{Backend, StoreError};
use tokio::sync::broadcast;

use super::lag::Lag;
use super::stages::{Durable, Sealed};
use crate::config::Limits;
use crate::metrics::Metrics;
use crate::snapshot::Snapshot;

pub(super) struct Committer {
    pub(super) backend: Arc<dyn Backend>,
    pub(super) published: Arc<ArcSwap<Snapshot>>,
    pub(super) metrics: Arc<Metrics>,
    /// Set when an append fails, so the loop stops taking requests.
    pub(super) failed: Arc<AtomicBool>,
    /// Live seat counts for `GET /api/v1/events`: one message per append.
    pub(super) events: broadcast::Sender<Arc<Vec<SectionEvent>>>,
    pub(super) materializer: SyncSender<Durable>,
    pub(super) lag: Arc<Lag>,
    pub(super) limits: Limits,
}

impl Committer {
    /// Appends sealed batches until the loop hangs up. On a failed append nobody of
    /// that batch or any later one is told "done" (their reply channels are dropped,
    /// which the HTTP side answers with 503) and the error is returned: crash-only.
    pub(super) fn run(mut self, inbox: Receiver<Sealed>) -> Result<(), StoreError> {
        for first in inbox.iter() {
            // Everything sealed while the last append was on the disk goes down
            // together: one fsync, however many batches the loop managed meanwhile.
            let mut group = first;
            while let Ok(next) = inbox.try_recv() {
                group.absorb(next);
            }
            let waited = self.lag.wait_within(
                self.limits.materializer_lag_commands_max,
                self.limits.materializer_lag_time_max,
            );
            self.metrics.materializer_wait(waited);
            if let Err(e) = self.commit(group) {
                self.failed.store(true, Ordering::SeqCst);
                tracing::error!("append to the log failed, no further writes are accepted: {e}");
                return Err(e);
            }
        }
        Ok(())
    }

    fn commit(&mut self, sealed: Sealed) -> Result<(), StoreError> {
        let Sealed {
            records,
            state,
            changes,
            sessions,
            tokens,
            answers,
            token_answers,
            lag,
        } = sealed;
        if !records.is_empty() {
            let started = Instant::now();
            self.backend.append(&records)?;
            self.metrics.batch(records.entries.len() as u64, started.elapsed(), lag);
            self.lag.appended(state.lsn());
            let previous = self.published.load_full();
            self.published.store(Arc::new(previous.next(state.clone(), tokens)));
            self.announce(&state, &changes);
        }
        if !changes.sections.is_empty() || !changes.students.is_empty() || !sessions.is_empty() {
            // Blocks only if the materializer is far behind: backpressure, not loss.
            let durable = Durable {
                state,
                changes,
                sessions,
            };
            if self.materializer.send(durable).is_err() {
                tracing::error!("the materializer stopped; the tables fall behind the log until a restart");
            }
        }
        for (reply, answer) in answers {
            let _ = reply.send(answer);
        }
        for (reply, result) in token_answers {
            let _ = reply.send(result);
        }
        Ok(())
    }

    /// Tells live watchers what the append changed, after it is durable and published.
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
}
