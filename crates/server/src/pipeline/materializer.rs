//! The materializer: the last stage of the write pipeline, off the answer path. It
//! gathers what the committer made durable for `materializer_interval`, then brings the
//! tables up to the latest durable state in one transaction (`Backend::materialize`).
//! It coalesces: an entity or session changed many times since the last step is
//! written once, at its latest value. Its lag is bounded (see `Lag`), and it runs at a
//! lower CPU priority than the threads an answer waits for.

use std::sync::Arc;
use std::time::{Duration, Instant};

use murphy_core::{SessionChange, State};
use murphy_store::{Backend, Materialization};

use super::handoff::{self, Handoff, Pending};
use super::health::Health;
use super::lag::Lag;
use super::stages::Durable;
use crate::config::Limits;
use crate::metrics::Metrics;

/// After a failed step, the wait before the next try.
const RETRY_INTERVAL: Duration = Duration::from_millis(500);

/// The materializer's nice value: it yields the core to the answer path when both want it.
const NICE: i32 = 10;

pub(super) struct Materializer {
    backend: Arc<dyn Backend>,
    /// What the tables hold.
    materialized: State,
    pending: Pending,
    lag: Arc<Lag>,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    interval: Duration,
    /// A step starts early once this many commands wait.
    commands_soon: u64,
    /// How long the last steps, once the committer has ended, may keep failing.
    shutdown_time_max: Duration,
}

impl Materializer {
    /// The materializer of the tables start-up found; `replayed`, the log tail start-up
    /// replayed (durable, not yet in the tables), is its first step.
    pub(super) fn new(
        backend: Arc<dyn Backend>,
        tables: State,
        replayed: Durable,
        (lag, metrics, health): (Arc<Lag>, Arc<Metrics>, Arc<Health>),
        limits: &Limits,
    ) -> Materializer {
        let mut pending = Pending::default();
        if replayed.state.lsn() > tables.lsn() || !replayed.sessions.is_empty() {
            let _ = pending.absorb(replayed);
        }
        Materializer {
            backend,
            materialized: tables,
            pending,
            lag,
            metrics,
            health,
            interval: limits.materializer_interval,
            commands_soon: limits.materializer_lag_commands_max / 2,
            shutdown_time_max: limits.materializer_shutdown_time_max,
        }
    }

    /// Runs until the committer has ended (`Handoff::close`), then writes what is left.
    pub(super) fn run(mut self, handoff: &Handoff) {
        lower_priority();
        loop {
            if self.pending.latest.is_none() && !handoff.wait_for_any() {
                break;
            }
            let since = self.pending.since.or_else(|| handoff.since());
            let due = handoff::due(since, self.interval);
            let open = handoff.wait_until(due, || self.lag.commands() >= self.commands_soon);
            self.pending.merge(handoff.take());
            self.step();
            if !open {
                break;
            }
        }
        self.pending.merge(handoff.take());
        // Shutdown waits for this, so it is bounded whatever the disk does: the log
        // holds every change, and the next start replays what the tables miss.
        let deadline = Instant::now() + self.shutdown_time_max;
        while self.pending.latest.is_some() && !self.step() {
            if Instant::now() >= deadline {
                tracing::warn!(
                    "the tables could not be written within {} ms of stopping; the next start replays the log \
                     past them",
                    self.shutdown_time_max.as_millis()
                );
                return;
            }
            std::thread::sleep(RETRY_INTERVAL);
        }
    }

    /// Writes what waits in one transaction; `true` if it is in the tables now.
    fn step(&mut self) -> bool {
        let Some(latest) = self.pending.latest.take() else {
            return true;
        };
        let sessions: Vec<SessionChange> = std::mem::take(&mut self.pending.sessions).into_values().collect();
        let started = Instant::now();
        let step = Materialization {
            before: &self.materialized,
            after: &latest,
            changes: &self.pending.changes,
            sessions: &sessions,
        };
        match self.backend.materialize(&step) {
            Ok(()) => {
                let rows = self.pending.changes.sections.len() + self.pending.changes.students.len() + sessions.len();
                self.metrics.materialized(rows as u64, started.elapsed());
                self.health.tables(None);
                self.lag.materialized(latest.lsn());
                self.materialized = latest;
                self.pending = Pending::default();
                true
            }
            Err(e @ murphy_store::StoreError::Fenced { .. }) => {
                // Another node holds the lease and writes the tables from the log now.
                // This one is deposed: its committer must not wait for tables it will
                // never write again (it would hold every write until it timed out).
                tracing::info!("deposed: the new primary materializes the tables");
                self.health.stop(&e.to_string(), super::health::RefusalKind::Deposed);
                self.pending = Pending::default();
                true
            }
            Err(e) => {
                tracing::warn!("materializing the tables failed (the log is intact; trying again): {e}");
                self.health.tables(Some(&e.to_string()));
                self.pending.latest = Some(latest);
                for change in sessions {
                    self.pending.sessions.entry(change.client.clone()).or_insert(change);
                }
                std::thread::sleep(RETRY_INTERVAL);
                false
            }
        }
    }
}

/// Lowers this thread's CPU priority (Linux: nice is per thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority on the calling thread's id only changes its scheduling weight.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE);
    }
}
