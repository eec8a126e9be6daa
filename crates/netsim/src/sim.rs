//! The engine: the lecture's event loop, `while true: e = getNextEvent(); handle(e)`.
//!
//! A [`Queue`] holds future events ordered by simulated time; [`run`] pops the earliest
//! and hands it to the model's one handler, which may schedule more. One handler runs at
//! a time, so a model needs no locks, and time is simulated only: the wall clock is never
//! read, so a seed gives the same run, event for event. Events due at the same instant
//! run in the order they were scheduled (a sequence number breaks ties), which keeps
//! that order independent of the heap's internals.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Simulated time, in nanoseconds since the run began.
pub type Nanos = u64;
pub const MICROSECOND: Nanos = 1_000;
pub const MILLISECOND: Nanos = 1_000_000;
pub const SECOND: Nanos = 1_000_000_000;

/// Seconds (a float, as users give them) to simulated time, rounded to the nanosecond.
pub fn nanos(seconds: f64) -> Nanos {
    assert!(seconds >= 0.0 && seconds.is_finite(), "a time is a non-negative number");
    (seconds * SECOND as f64).round() as Nanos
}

pub fn seconds(t: Nanos) -> f64 {
    t as f64 / SECOND as f64
}

/// What a simulated system does with each event.
pub trait Model {
    type Event;
    fn handle(&mut self, now: Nanos, event: Self::Event, queue: &mut Queue<Self::Event>);
    /// Checked after each event: true ends the run before the queue drains.
    fn finished(&self) -> bool {
        false
    }
}

struct Entry<E> {
    /// `at << 64 | seq`: one comparison orders by time, then by scheduling order.
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed: `BinaryHeap` is a max-heap and the earliest event must come out first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// The future events of one run, bounded: a model states the most events it can have
/// pending (from its own limits: windows, queues, nodes), and exceeding that is a bug
/// in the model, caught by an assertion rather than by memory running out.
pub struct Queue<E> {
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
    now: Nanos,
    events_in_flight_max: usize,
    in_flight_peak: usize,
    handled: u64,
}

impl<E> Queue<E> {
    pub fn new(events_in_flight_max: usize) -> Queue<E> {
        Queue {
            heap: BinaryHeap::with_capacity(events_in_flight_max.min(1 << 16)),
            seq: 0,
            now: 0,
            events_in_flight_max,
            in_flight_peak: 0,
            handled: 0,
        }
    }

    /// Schedules `event` at time `at`, which must not be in the past.
    #[inline]
    pub fn at(&mut self, at: Nanos, event: E) {
        assert!(at >= self.now, "an event scheduled in the past");
        assert!(
            self.heap.len() < self.events_in_flight_max,
            "more than {} events in flight: a model's limits are wrong",
            self.events_in_flight_max
        );
        self.heap.push(Entry {
            key: (u128::from(at) << 64) | u128::from(self.seq),
            event,
        });
        self.seq += 1;
        self.in_flight_peak = self.in_flight_peak.max(self.heap.len());
    }

    #[inline]
    pub fn after(&mut self, delay: Nanos, event: E) {
        self.at(self.now + delay, event);
    }

    pub fn now(&self) -> Nanos {
        self.now
    }

    /// Events handled so far.
    pub fn handled(&self) -> u64 {
        self.handled
    }

    /// The most events that were ever pending at once: the run's memory, in events.
    pub fn in_flight_peak(&self) -> usize {
        self.in_flight_peak
    }
}

/// How often, in events, [`run`] reports its simulated time to `progress`.
const PROGRESS_EVENTS: u64 = 1 << 16;

/// Runs the loop until no event is due at or before `until`, or the model is finished.
/// `progress` sees the model and the simulated time now and then (for a progress bar);
/// it cannot change the run.
pub fn run<M: Model>(model: &mut M, queue: &mut Queue<M::Event>, until: Nanos, progress: &mut dyn FnMut(&M, Nanos)) {
    while let Some(next) = queue.heap.peek() {
        let at = (next.key >> 64) as Nanos;
        if at > until {
            break;
        }
        let entry = queue.heap.pop().expect("peeked");
        debug_assert!(at >= queue.now, "time never runs backwards");
        queue.now = at;
        queue.handled += 1;
        model.handle(at, entry.event, queue);
        if queue.handled % PROGRESS_EVENTS == 0 {
            progress(model, at);
        }
        if model.finished() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo(Vec<(Nanos, u32)>);
    impl Model for Echo {
        type Event = u32;
        fn handle(&mut self, now: Nanos, event: u32, queue: &mut Queue<u32>) {
            self.0.push((now, event));
            if event < 3 {
                queue.after(10, event + 10);
            }
        }
    }

    #[test]
    fn events_come_out_in_time_then_schedule_order() {
        let mut q = Queue::new(16);
        q.at(5, 2);
        q.at(5, 1);
        q.at(1, 0);
        let mut m = Echo(Vec::new());
        run(&mut m, &mut q, 100, &mut |_, _| {});
        assert_eq!(m.0, vec![(1, 0), (5, 2), (5, 1), (11, 10), (15, 12), (15, 11)]);
        assert_eq!(q.handled(), 6);
        assert_eq!(q.in_flight_peak(), 3);
    }

    #[test]
    #[should_panic(expected = "events in flight")]
    fn the_bound_is_enforced() {
        let mut q = Queue::new(1);
        q.at(1, 0u32);
        q.at(2, 0u32);
    }
}
