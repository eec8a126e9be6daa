//! How far behind the HTTP runtime is: a task that asks to wake every
//! `PROBE_INTERVAL`, then yields once, and records how long after its due time it got
//! back. The yield is what measures: a task woken by its timer runs next (tokio's LIFO
//! slot), ahead of the backlog, but a yielding task goes to the back of the run queue,
//! behind every connection whose request is ready, and the I/O driver is polled on the
//! way. So the figure is the time a request that has arrived waits for a worker.
//!
//! Why it is measured: it tells where an overloaded server's requests wait. If this
//! stays small while answers are slow, the wait is not for a worker of the runtime
//! (nor, if `murphy_loop_lag_seconds` is small too, for the event loop), which rules
//! out shedding by either of those times as a cure. `/metrics` shows it as
//! `murphy_runtime_lag_seconds`.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio::time::Instant;

use crate::metrics::Metrics;

/// How often the probe wakes. Short enough that overload is seen within a few
/// milliseconds and forgotten as fast; long enough to cost nothing (200 wake-ups a
/// second).
pub const PROBE_INTERVAL: Duration = Duration::from_millis(5);

/// Runs until its task is aborted, storing each wake-up's lateness in
/// `Metrics::runtime_lag_us`.
pub async fn watch(metrics: Arc<Metrics>, interval: Duration) {
    loop {
        let due = Instant::now() + interval;
        tokio::time::sleep_until(due).await;
        tokio::task::yield_now().await;
        let late = Instant::now().saturating_duration_since(due);
        metrics
            .runtime_lag_us
            .store(late.as_micros().min(u128::from(u64::MAX)) as u64, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_runtime_held_up_shows_as_lag_and_then_recovers() {
        let metrics = Arc::new(Metrics::default());
        let probe = tokio::spawn(watch(metrics.clone(), PROBE_INTERVAL));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            metrics.runtime_lag_us.load(Relaxed) < 20_000,
            "an idle runtime is not late"
        );
        // A task that holds the only worker for 60 ms, as a backlog of ready requests would.
        tokio::spawn(async { std::thread::sleep(Duration::from_millis(60)) });
        let mut seen_us = 0;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(1)).await;
            seen_us = seen_us.max(metrics.runtime_lag_us.load(Relaxed));
        }
        assert!(seen_us >= 40_000, "the probe saw the runtime late by {seen_us} us");
        assert!(
            metrics.runtime_lag_us.load(Relaxed) < 20_000,
            "and on time again afterwards"
        );
        probe.abort();
    }
}
