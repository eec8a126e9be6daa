//! The overload detector, CoDel as Facebook adapted it for RPC queues: a queue is in
//! trouble not when it is long but when it never empties, that is when even the
//! request that waited least over an interval waited longer than the target. While
//! that holds, requests that waited past a multiple of the target are shed: they are
//! the standing queue, and serving them late helps nobody.
//!
//! Lock-free: every request records its wait with two atomic operations, and the one
//! that finds the interval over closes it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

pub(crate) struct Codel {
    target_us: u64,
    interval_ns: u64,
    /// When the current interval began (nanoseconds, the caller's clock).
    began_ns: AtomicU64,
    /// The least wait seen in the current interval; `u64::MAX` while it saw none.
    least_us: AtomicU64,
    /// Whether every request of the last closed interval waited over the target.
    standing: AtomicBool,
}

impl Codel {
    pub(crate) fn new(target: Duration, interval: Duration) -> Codel {
        Codel {
            target_us: target.as_micros().min(u128::from(u64::MAX)) as u64,
            interval_ns: interval.as_nanos().clamp(1, u128::from(u64::MAX)) as u64,
            began_ns: AtomicU64::new(0),
            least_us: AtomicU64::new(u64::MAX),
            standing: AtomicBool::new(false),
        }
    }

    pub(crate) fn target_us(&self) -> u64 {
        self.target_us
    }

    /// Whether a queue stood in the last interval, if that interval is recent.
    pub(crate) fn standing(&self, now_ns: u64) -> bool {
        let fresh = now_ns.saturating_sub(self.began_ns.load(Relaxed)) < 2 * self.interval_ns;
        fresh && self.standing.load(Relaxed)
    }

    /// Records a request that waited `waited_us`, seen at `now_ns`; returns whether a
    /// queue stands: every request of the last interval waited over the target. An
    /// interval with no request closes as no queue.
    pub(crate) fn observe(&self, now_ns: u64, waited_us: u64) -> bool {
        let began = self.began_ns.load(Relaxed);
        if now_ns.saturating_sub(began) >= self.interval_ns
            && self.began_ns.compare_exchange(began, now_ns, Relaxed, Relaxed).is_ok()
        {
            let least = self.least_us.swap(u64::MAX, Relaxed);
            // An interval that ended long ago (no request since) says nothing of now.
            let fresh = now_ns.saturating_sub(began) < 2 * self.interval_ns;
            self.standing
                .store(fresh && least != u64::MAX && least > self.target_us, Relaxed);
        }
        self.least_us.fetch_min(waited_us, Relaxed);
        self.standing.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn codel() -> Codel {
        Codel::new(Duration::from_millis(5), Duration::from_millis(100))
    }

    #[test]
    fn a_queue_stands_only_when_every_request_of_an_interval_waited_over_the_target() {
        let c = codel();
        assert!(!c.observe(0, 50_000));
        for t in 1..10 {
            assert!(!c.observe(t * 10 * MS, 6_000), "not before the interval closes");
        }
        assert!(c.observe(100 * MS, 6_000), "every wait over 5 ms: a standing queue");
        // One request through at once in the next interval: the queue emptied.
        assert!(c.observe(150 * MS, 100));
        assert!(!c.observe(200 * MS, 9_000), "the interval saw a short wait");
    }

    #[test]
    fn an_idle_spell_is_no_queue() {
        let c = codel();
        c.observe(0, 50_000);
        assert!(c.observe(100 * MS, 50_000));
        // Nothing for a second: the next request finds no standing queue.
        assert!(!c.observe(1_100 * MS, 50_000));
    }
}
