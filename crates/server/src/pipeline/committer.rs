//! The committer: the second stage of the write pipeline. On its own thread it appends
//! sealed batches to the log in order (one append, one fsync, for everything sealed
//! while the previous append was on the disk), then publishes the new snapshot, tells
//! live watchers, answers the batch's requests, and then hands the durable state to
//! the materializer. It is the only caller of `Backend::append`.
//!
//! Order keeps the guarantees: batches are appended in the order the loop sealed them,
//! and nothing of a batch (its snapshot, its answers) is visible before its append
//! returned, so an answer or a read never shows a state that is not on disk.

use std::sync::Arc;
use std::sync::mpsc::Receiver;
use std::time::Instant;

use murphy_store::{Backend, StoreError};

use super::handoff::Handoff;
use super::health::{Health, Refusal, RefusalKind};
use super::lag::Lag;
use super::stages::{Durable, Sealed};
use crate::config::Limits;
use crate::metrics::Metrics;
use crate::snapshot::Publisher;

pub(super) struct Committer {
    pub(super) backend: Arc<dyn Backend>,
    /// Readers' snapshot, live events, the published version.
    pub(super) publisher: Publisher,
    pub(super) metrics: Arc<Metrics>,
    /// Whether appends work; shared with the loop and the HTTP side.
    pub(super) health: Arc<Health>,
    /// Where durable batches wait for the materializer; closed when this ends.
    pub(super) handoff: Arc<Handoff>,
    pub(super) lag: Arc<Lag>,
    pub(super) limits: Limits,
}

impl Drop for Committer {
    /// However the committer ends, the materializer learns that nothing more comes.
    fn drop(&mut self) {
        self.handoff.close();
    }
}

impl Committer {
    /// Appends sealed batches until the loop hangs up. A passing fault of the store (a
    /// full disk) answers the batch, and every batch applied after it, "not applied"
    /// and tells the loop to rebuild its state from the store (`Health`); writes resume
    /// when an append succeeds again. A store in doubt stops writes for good; reads go on.
    pub(super) fn run(mut self, inbox: Receiver<Sealed>) -> Result<(), StoreError> {
        let mut result = Ok(());
        while let Ok(first) = inbox.recv() {
            // Everything sealed while the last append was on the disk goes down
            // together: one fsync, however many batches the loop managed meanwhile.
            let Some(mut group) = self.current(first) else { continue };
            while let Ok(next) = inbox.try_recv() {
                if let Some(next) = self.current(next) {
                    group.absorb(next);
                }
            }
            let waited = self.lag.wait_within(
                self.limits.materializer_lag_commands_max,
                self.limits.materializer_lag_time_max,
                || {
                    let stopped = self.health.refusal().filter(Refusal::stopped).map(|r| r.reason);
                    stopped.or_else(|| self.health.tables_failing())
                },
            );
            match waited {
                Ok(waited) => self.metrics.materializer_wait(waited),
                Err(why) => {
                    self.tables_failing(&why, group);
                    continue;
                }
            }
            if let Err(e) = self.commit(group)
                && !e.is_fault()
                && !matches!(e, StoreError::Fenced { .. } | StoreError::InDoubt { .. })
            {
                // Reported when the pipeline ends: the store was left in doubt.
                result = Err(e);
            }
        }
        result
    }

    /// The batch, if it was applied in the current generation; else it built on a
    /// batch that never reached the log, and is answered "not applied".
    fn current(&self, sealed: Sealed) -> Option<Sealed> {
        if sealed.generation == self.health.generation() {
            return Some(sealed);
        }
        let refusal = self.health.refusal().unwrap_or_else(|| Refusal {
            reason: "an earlier write of the same moment could not be stored".into(),
            kind: RefusalKind::Unavailable,
        });
        sealed.refuse(&refusal);
        None
    }

    fn commit(&mut self, sealed: Sealed) -> Result<(), StoreError> {
        let appended = !sealed.records.is_empty();
        if appended {
            let started = Instant::now();
            if let Err(e) = self.backend.append(&sealed.records) {
                return Err(self.failed(e, sealed));
            }
            self.metrics
                .batch(sealed.records.entries.len() as u64, started.elapsed(), sealed.lag);
            self.health.append_succeeded();
            self.lag.appended(sealed.state.lsn());
            self.publisher
                .publish(&sealed.state, sealed.tokens.clone(), &sealed.changes);
        }
        let Sealed {
            state,
            changes,
            sessions,
            answers,
            token_answers,
            ..
        } = sealed;
        // The batch is durable and published: answer before the handoff, whose folding
        // and freeing of the replaced state nobody needs to wait for.
        for (reply, answer) in answers {
            let _ = reply.send(answer);
        }
        for (reply, result) in token_answers {
            let _ = reply.send(result);
        }
        // Every append goes to the materializer, even one that changed no row (refusals
        // only): the tables must reach its LSN, or the lag would keep an entry no step
        // ever takes, and past `materializer_lag_time_max` the next append would wait
        // for it forever.
        if appended || !changes.sections.is_empty() || !changes.students.is_empty() || !sessions.is_empty() {
            let durable = Durable {
                state,
                changes,
                sessions,
            };
            // Never waits for a step: the lag's limits, checked before the append, are
            // the backpressure. Past half of them the materializer is woken at once.
            let urgent = self.lag.commands() >= self.limits.materializer_lag_commands_max / 2;
            self.handoff.put(durable, urgent);
        }
        Ok(())
    }

    /// The tables trail the log by all they may and cannot be written: the group is
    /// refused at once, not appended (answered `storage_unavailable`), as a failed
    /// append would be; writes resume once a materializer step succeeds.
    fn tables_failing(&self, why: &str, sealed: Sealed) {
        if let Some(refusal) = self.health.refusal().filter(Refusal::stopped) {
            // Deposed, or the store in doubt: said as such.
            sealed.refuse(&refusal);
            return;
        }
        let reason = format!(
            "the tables cannot be written and trail the log by as much as they may: {why} ({})",
            self.backend.describe()
        );
        tracing::warn!("writes are refused until the tables can be written: {reason}");
        self.health.append_failed(&reason, RefusalKind::Unavailable);
        sealed.refuse(&self.health.refusal().expect("refused just now"));
    }

    /// A failed append: nobody of the batch is told "done".
    fn failed(&self, e: StoreError, sealed: Sealed) -> StoreError {
        let reason = format!("{} ({})", e, self.backend.describe());
        match &e {
            StoreError::Fenced { .. } => {
                tracing::warn!("another node took the primary's lease; this one writes nothing more: {reason}");
                self.health.stop(&reason, RefusalKind::Deposed);
            }
            StoreError::InDoubt { .. } => {
                tracing::warn!("an append's commit was never confirmed; rebuilding from the log: {reason}");
                self.health.append_failed(&reason, RefusalKind::OutcomeUnknown);
            }
            e if e.is_fault() => {
                tracing::warn!("append to the log failed; writes are refused until it works again: {reason}");
                self.health.append_failed(&reason, RefusalKind::Unavailable);
            }
            _ => {
                tracing::error!(
                    "append to the log failed and the store is in doubt; writes stop until a restart: {reason}"
                );
                self.health.stop(&reason, RefusalKind::Failed);
            }
        }
        sealed.refuse(&self.health.refusal().expect("refused just now"));
        e
    }
}
