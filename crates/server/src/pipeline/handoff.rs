//! What the committer hands the materializer: not a queue of batches but one `Pending`,
//! into which the committer folds each durable batch and which the materializer takes
//! whole when a step is due.
//!
//! Why not a channel: a bounded queue of batches fills while a long materializer step
//! runs (at 700 batches a second, 1,024 batches last 1.4 s), and then the committer, and
//! every answer behind it, waits for a thread that runs at a lower CPU priority: all the
//! connections of a closed-loop load stalled together for about 100 ms, every second or
//! so. Here the committer never waits for a step, only for a swap under the lock; the
//! lag's limits (`Lag`, checked before each append) are what bound the memory, and
//! coalescing bounds it by the rows changed, not by the batches.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use murphy_core::{Changes, SessionChange, State};

use super::stages::Durable;

/// Durable changes not yet in the tables, coalesced.
#[derive(Default)]
pub(super) struct Pending {
    /// The latest durable state; `None` when nothing waits.
    pub(super) latest: Option<State>,
    pub(super) changes: Changes,
    pub(super) sessions: BTreeMap<String, SessionChange>,
    /// When the oldest waiting change arrived.
    pub(super) since: Option<Instant>,
}

impl Pending {
    /// Folds in a later durable batch; returns the state it replaces, for the caller to
    /// drop outside any lock.
    pub(super) fn absorb(&mut self, durable: Durable) -> Option<State> {
        self.since.get_or_insert_with(Instant::now);
        self.changes.sections.extend(durable.changes.sections);
        self.changes.students.extend(durable.changes.students);
        for change in durable.sessions {
            self.sessions.insert(change.client.clone(), change);
        }
        self.latest.replace(durable.state)
    }

    /// Folds in what waited after this; `later` wins for every row both changed.
    pub(super) fn merge(&mut self, later: Pending) {
        let Some(state) = later.latest else { return };
        self.since = self.since.or(later.since);
        self.changes.sections.extend(later.changes.sections);
        self.changes.students.extend(later.changes.students);
        self.sessions.extend(later.sessions);
        self.latest = Some(state);
    }
}

/// The committer's side puts, the materializer's side takes.
#[derive(Default)]
pub(super) struct Handoff {
    inner: Mutex<Inner>,
    arrived: Condvar,
}

#[derive(Default)]
struct Inner {
    pending: Pending,
    /// The committer has ended: nothing more will be put.
    closed: bool,
}

impl Handoff {
    /// Folds `durable` in. Wakes the materializer when it is the first change waiting or
    /// when `urgent` (the lag asks for an early step); otherwise the materializer's own
    /// timer wakes it, so the committer pays no wake-up per batch.
    pub(super) fn put(&self, durable: Durable, urgent: bool) {
        let (replaced, first) = {
            let mut inner = self.lock();
            let first = inner.pending.latest.is_none();
            (inner.pending.absorb(durable), first)
        };
        drop(replaced);
        if first || urgent {
            self.arrived.notify_one();
        }
    }

    /// Nothing more will be put; the materializer writes what waits and ends.
    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.arrived.notify_one();
    }

    /// Waits until something waits to be written or the committer has ended; `false`
    /// when it has ended and nothing waits.
    pub(super) fn wait_for_any(&self) -> bool {
        let mut inner = self.lock();
        while inner.pending.latest.is_none() && !inner.closed {
            inner = self.arrived.wait(inner).unwrap_or_else(|p| p.into_inner());
        }
        inner.pending.latest.is_some()
    }

    /// Waits until `deadline`, until `due_early()` says a step should start now, or
    /// until the committer has ended; `false` in that last case.
    pub(super) fn wait_until(&self, deadline: Instant, due_early: impl Fn() -> bool) -> bool {
        let mut inner = self.lock();
        loop {
            if inner.closed {
                return false;
            }
            let now = Instant::now();
            if now >= deadline || due_early() {
                return true;
            }
            inner = self
                .arrived
                .wait_timeout(inner, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Everything waiting, leaving nothing.
    pub(super) fn take(&self) -> Pending {
        std::mem::take(&mut self.lock().pending)
    }

    /// When the oldest change waiting here arrived.
    pub(super) fn since(&self) -> Option<Instant> {
        self.lock().pending.since
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How long a step may be put off: the materializer's interval, counted from the oldest
/// change waiting.
pub(super) fn due(since: Option<Instant>, interval: Duration) -> Instant {
    since.unwrap_or_else(Instant::now) + interval
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn durable(state: &State, sections: &[&str]) -> Durable {
        let mut changes = Changes::default();
        for id in sections {
            changes.sections.insert((*id).to_string());
        }
        Durable {
            state: state.clone(),
            changes,
            sessions: Vec::new(),
        }
    }

    #[test]
    fn puts_coalesce_and_a_take_leaves_nothing() {
        let handoff = Handoff::default();
        let state = State::default();
        handoff.put(durable(&state, &["A-1"]), false);
        handoff.put(durable(&state, &["A-1", "B-1"]), false);
        let pending = handoff.take();
        assert_eq!(pending.changes.sections.len(), 2, "A-1 once, B-1 once");
        assert!(pending.latest.is_some() && pending.since.is_some());
        assert!(handoff.take().latest.is_none(), "a take leaves nothing");
    }

    #[test]
    fn the_committer_never_waits_for_a_taker() {
        // A queue of batches would block its sender once full; the handoff takes any
        // number of puts with nobody taking.
        let handoff = Handoff::default();
        let state = State::default();
        for _ in 0..10_000 {
            handoff.put(durable(&state, &["A-1"]), false);
        }
        assert_eq!(handoff.take().changes.sections.len(), 1);
    }

    #[test]
    fn a_waiting_materializer_wakes_on_the_first_put_and_on_close() {
        let handoff = Arc::new(Handoff::default());
        let taker = {
            let handoff = handoff.clone();
            std::thread::spawn(move || {
                let first = handoff.wait_for_any();
                let _ = handoff.take();
                let second = handoff.wait_for_any();
                (first, second)
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        handoff.put(durable(&State::default(), &["A-1"]), false);
        std::thread::sleep(Duration::from_millis(20));
        handoff.close();
        assert_eq!(taker.join().expect("the taker"), (true, false));
    }

    #[test]
    fn merge_keeps_the_oldest_arrival_and_the_latest_state() {
        let mut earlier = Pending::default();
        let _ = earlier.absorb(durable(&State::default(), &["A-1"]));
        let first_arrival = earlier.since;
        let mut later = Pending::default();
        let _ = later.absorb(durable(&State::default(), &["B-1"]));
        earlier.merge(later);
        assert_eq!(earlier.since, first_arrival);
        assert_eq!(earlier.changes.sections.len(), 2);
        earlier.merge(Pending::default());
        assert_eq!(earlier.changes.sections.len(), 2, "merging nothing changes nothing");
    }
}
