//! How far the materialized tables trail the log, in commands and in time. The
//! committer records each append; the materializer records each step it completes.
//! Past either bound the committer waits before appending more: the answer path slows
//! down to the materializer's pace instead of the lag (and start-up's replay) growing
//! without end.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub(crate) struct Lag {
    inner: Mutex<Inner>,
    caught_up: Condvar,
}

struct Inner {
    appended_lsn: u64,
    materialized_lsn: u64,
    /// Appends not yet materialized, oldest first: (last LSN, when appended).
    appends: VecDeque<(u64, Instant)>,
}

impl Lag {
    /// No lag: the log and the tables both end at `lsn`.
    pub(crate) fn new(lsn: u64) -> Lag {
        Lag {
            inner: Mutex::new(Inner {
                appended_lsn: lsn,
                materialized_lsn: lsn,
                appends: VecDeque::new(),
            }),
            caught_up: Condvar::new(),
        }
    }

    /// The log now ends at `lsn`.
    pub(crate) fn appended(&self, lsn: u64) {
        let mut inner = self.lock();
        if lsn > inner.appended_lsn {
            inner.appended_lsn = lsn;
            inner.appends.push_back((lsn, Instant::now()));
        }
    }

    /// The tables are now at `lsn`.
    pub(crate) fn materialized(&self, lsn: u64) {
        let mut inner = self.lock();
        inner.materialized_lsn = inner.materialized_lsn.max(lsn);
        while inner.appends.front().is_some_and(|&(last, _)| last <= lsn) {
            inner.appends.pop_front();
        }
        self.caught_up.notify_all();
    }

    /// Log entries not yet in the tables.
    pub(crate) fn commands(&self) -> u64 {
        let inner = self.lock();
        inner.appended_lsn - inner.materialized_lsn
    }

    /// How long the oldest entry not yet in the tables has been in the log.
    pub(crate) fn age(&self) -> Duration {
        self.lock()
            .appends
            .front()
            .map_or(Duration::ZERO, |(_, at)| at.elapsed())
    }

    /// Waits until the lag is within `commands_max` and `time_max`; returns how long.
    /// Past the bound while `failing` says why the tables cannot be written, it waits
    /// no longer and returns that: a materializer that fails will not catch up by
    /// itself, and a write that waits for it would only time out.
    pub(crate) fn wait_within<E>(
        &self,
        commands_max: u64,
        time_max: Duration,
        failing: impl Fn() -> Option<E>,
    ) -> Result<Duration, E> {
        let started = Instant::now();
        let mut inner = self.lock();
        loop {
            let age = inner.appends.front().map_or(Duration::ZERO, |(_, at)| at.elapsed());
            if inner.appended_lsn - inner.materialized_lsn <= commands_max && age <= time_max {
                return Ok(started.elapsed());
            }
            if let Some(why) = failing() {
                return Err(why);
            }
            // Wake on each materializer step; the timeout only guards a missed wake-up.
            inner = self
                .caught_up
                .wait_timeout(inner, Duration::from_millis(50))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}
