//! The front door: the one place that decides whether murphy takes a request or a
//! connection, before any routing, body, JSON or token hashing. What it weighs:
//!
//! - each request's sojourn, its wait since its bytes reached the machine
//!   (`sojourn.rs`), against a CoDel-style detector of a standing queue (`codel.rs`);
//!   while one stands, a request that waited past its class's multiple of the target
//!   is shed: writes first, reads of published snapshots later, the operator's
//!   `/metrics` and `/healthz` never;
//! - for writes, the write queue: full, or its writes waiting past
//!   `queue_wait_time_max`;
//! - for connections, the cap and each address's and student's share (`shares.rs`),
//!   and a budget of connections turned away per second: past it, new connections
//!   wait in the kernel's backlog instead of costing CPU.
//!
//! Every refusal is prebuilt (`answers.rs`): a `503` problem with a jittered
//! `Retry-After`. `service.rs` is the hyper service that applies the door to each
//! request; `http::listener` applies it to each connection.

mod answers;
mod codel;
mod service;
mod shares;
pub(crate) mod sojourn;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::Method;
use axum::response::Response;
use tokio::time::Instant;

pub(crate) use service::Front;
pub(crate) use shares::Slot;

use crate::config::Limits;
use crate::line::Reading;
use crate::metrics::{Metrics, SOJOURN_BUCKETS_US, Shed};
use crate::problem::{Code, Problem};
use answers::Answers;
use codel::Codel;
use shares::Shares;

/// What a request is, as far as shedding goes: the order in which classes are shed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// A write without an admission pass: shed first, at twice the target.
    Write,
    /// A write with a valid admission pass (`Murphy-Pass`): at four times the target.
    Admitted,
    /// A read of a published snapshot, the waiting room's own calls, signing in and a
    /// live stream's ticket (what a student needs to take a place and watch it): shed
    /// last, at eight times the target.
    Read,
    /// `/metrics` and `/healthz`: what an operator watches an overload by; never shed.
    Operator,
}

impl Class {
    /// Of a request's method, path and pass alone: nothing else of it is parsed, and
    /// the pass is only checked for its signature and expiry (`pass_ok`).
    pub(crate) fn of(method: &Method, path: &str, pass_ok: impl FnOnce() -> bool) -> Class {
        match (method, path) {
            (_, "/metrics" | "/healthz") => Class::Operator,
            (&Method::GET | &Method::HEAD, _) | (_, "/api/v1/line" | "/api/v1/events/ticket") => Class::Read,
            (_, path) if path.starts_with("/auth/") => Class::Read,
            _ if pass_ok() => Class::Admitted,
            _ => Class::Write,
        }
    }

    /// How many times the sojourn target a request of this class may have waited
    /// while a queue stands; `None`: it is never shed by its wait.
    fn targets_max(self) -> Option<u64> {
        match self {
            Class::Write => Some(2),
            Class::Admitted => Some(4),
            Class::Read => Some(8),
            Class::Operator => None,
        }
    }

    fn writes(self) -> bool {
        matches!(self, Class::Write | Class::Admitted)
    }
}

pub(crate) struct Door {
    codel: Codel,
    /// The sojourns since the waiting room last read them, by `SOJOURN_BUCKETS_US`.
    window: [AtomicU64; SOJOURN_BUCKETS_US.len()],
    answers: Answers,
    shares: Arc<Shares>,
    /// Connections that may still be turned away with an answer, by a token bucket.
    budget: Mutex<Budget>,
    metrics: Arc<Metrics>,
    sojourn_us_max: u64,
    queue_requests_max: u64,
    queue_wait_us_max: u64,
}

impl Door {
    pub(crate) fn new(limits: &Limits, metrics: Arc<Metrics>) -> Door {
        let us = |d: Duration| d.as_micros().min(u128::from(u64::MAX)) as u64;
        let connections = (
            limits.connections_max,
            limits.connections_per_address_max,
            limits.connections_per_student_max,
        );
        let retry_after_min_s = limits.retry_after_time_min.as_secs().max(1);
        let retry_after_s = retry_after_min_s..=limits.retry_after_time_max.as_secs().max(retry_after_min_s);
        Door {
            codel: Codel::new(limits.sojourn_time_target, limits.shed_interval),
            window: std::array::from_fn(|_| AtomicU64::new(0)),
            answers: Answers::new(connections, limits.queue_wait_time_max.as_millis(), retry_after_s),
            shares: Arc::new(Shares::new(connections.0, connections.1, connections.2)),
            budget: Mutex::new(Budget::new(limits.turn_away_connections_per_s_max)),
            metrics,
            sojourn_us_max: us(limits.sojourn_time_max),
            queue_requests_max: limits.queue_requests_max as u64,
            queue_wait_us_max: us(limits.queue_wait_time_max),
        }
    }

    /// The one decision for a request of `class` that waited `waited_us` before murphy
    /// started on it at `now_ns`. `writes_here`: this node applies writes (a primary),
    /// so its write queue has a say. `None`: serve it; else the refusal to send.
    pub(crate) fn request(&self, class: Class, waited_us: u64, now_ns: u64, writes_here: bool) -> Option<Response> {
        self.metrics.sojourn(waited_us);
        let bucket = SOJOURN_BUCKETS_US
            .iter()
            .position(|&bound| waited_us <= bound)
            .unwrap_or(SOJOURN_BUCKETS_US.len() - 1);
        self.window[bucket].fetch_add(1, Relaxed);
        let standing = self.codel.observe(now_ns, waited_us);
        let why = match class.targets_max() {
            None => return None,
            Some(_) if waited_us > self.sojourn_us_max => Shed::Sojourn,
            Some(times) if standing && waited_us > times * self.codel.target_us() => Shed::Sojourn,
            Some(_) if class.writes() && writes_here && self.queue_late() => Shed::Queue,
            Some(_) => return None,
        };
        self.metrics.shed(why);
        self.metrics.response(503);
        Some(self.answers.response(why))
    }

    /// What the door saw since the last reading, for the waiting room's control loop:
    /// the sojourns' p90 (the upper bound of its bucket), and whether a queue stands.
    pub(crate) fn reading(&self, now_ns: u64) -> Reading {
        let counts: Vec<u64> = self.window.iter().map(|c| c.swap(0, Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        let mut seen = 0;
        let sojourn_p90_us = (total > 0).then(|| {
            let bucket = counts
                .iter()
                .position(|&c| {
                    seen += c;
                    seen * 10 >= total * 9
                })
                .expect("the counts reach the total");
            SOJOURN_BUCKETS_US[bucket]
        });
        Reading {
            sojourn_p90_us,
            standing: self.codel.standing(now_ns),
        }
    }

    /// Whether a write would wait in the write queue longer than it may: the queue is
    /// full, or writes are waiting and the last one the loop took had waited too long.
    fn queue_late(&self) -> bool {
        let depth = self.metrics.queue_depth();
        depth >= self.queue_requests_max
            || (depth > 0 && self.metrics.queue_wait_us.load(Relaxed) > self.queue_wait_us_max)
    }

    /// Returns once a connection can be taken or turned away with an answer; until
    /// then, new connections wait in the kernel's backlog.
    pub(crate) async fn room(&self) {
        loop {
            if self.shares.room() {
                return;
            }
            let Some(next) = self.budget.lock().expect("never poisoned").next_at(Instant::now()) else {
                return;
            };
            tokio::select! {
                () = self.shares.freed() => {}
                () = tokio::time::sleep_until(next) => {}
            }
        }
    }

    /// Takes a connection from `address`, or says why not.
    pub(crate) fn connection(&self, address: IpAddr) -> Result<Slot, Shed> {
        self.shares.open(address)
    }

    /// The raw answer for a connection refused for `why`, or `None` when the budget for
    /// answering such connections is spent (it is then closed unanswered).
    pub(crate) fn turn_away(&self, why: Shed) -> Option<Bytes> {
        if !self.budget.lock().expect("never poisoned").take(Instant::now()) {
            self.metrics.shed(Shed::Unanswered);
            return None;
        }
        self.metrics.shed(why);
        Some(self.answers.raw(why))
    }

    /// Counts `slot` against `student`'s share of connections; past it, the refusal.
    pub(crate) fn student_share(&self, slot: &Slot, student: &str) -> Result<(), Problem> {
        slot.attribute(student).map_err(|why| {
            self.metrics.shed(why);
            Problem::unavailable(Code::TooManyConnections, self.answers.student_share_detail())
        })
    }
}

/// A token bucket: connections that may be answered per second, with a tenth of a
/// second's worth in reserve.
struct Budget {
    per_s: f64,
    tokens: f64,
    at: Instant,
}

impl Budget {
    fn new(per_s: u32) -> Budget {
        let per_s = f64::from(per_s.max(1));
        Budget {
            per_s,
            tokens: Budget::reserve(per_s),
            at: Instant::now(),
        }
    }

    fn reserve(per_s: f64) -> f64 {
        (per_s / 10.0).max(1.0)
    }

    fn refill(&mut self, now: Instant) {
        let earned = now.saturating_duration_since(self.at).as_secs_f64() * self.per_s;
        self.tokens = (self.tokens + earned).min(Budget::reserve(self.per_s));
        self.at = now;
    }

    fn take(&mut self, now: Instant) -> bool {
        self.refill(now);
        let has = self.tokens >= 1.0;
        if has {
            self.tokens -= 1.0;
        }
        has
    }

    /// `None` if a token is there now; else when the next one will be.
    fn next_at(&mut self, now: Instant) -> Option<Instant> {
        self.refill(now);
        (self.tokens < 1.0).then(|| now + Duration::from_secs_f64((1.0 - self.tokens) / self.per_s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_come_from_the_method_path_and_pass_alone() {
        let of = |method, path, pass| Class::of(&method, path, || pass);
        assert_eq!(of(Method::POST, "/api/v1/commands", false), Class::Write);
        assert_eq!(of(Method::POST, "/api/v1/commands", true), Class::Admitted);
        assert_eq!(of(Method::GET, "/api/v1/sections", true), Class::Read);
        assert_eq!(of(Method::POST, "/api/v1/line", false), Class::Read);
        assert_eq!(of(Method::GET, "/metrics", false), Class::Operator);
        assert_eq!(of(Method::DELETE, "/api/v1/sections", false), Class::Write);
    }

    #[test]
    fn writes_are_shed_before_reads_and_the_operator_never() {
        let limits = Limits {
            sojourn_time_target: Duration::from_millis(5),
            shed_interval: Duration::from_millis(100),
            ..Limits::default()
        };
        let door = Door::new(&limits, Arc::default());
        const MS: u64 = 1_000_000;
        // A standing queue: every request of an interval waited over 5 ms.
        assert!(
            door.request(Class::Read, 30_000, 0, true).is_none(),
            "no queue seen yet"
        );
        assert!(door.request(Class::Read, 30_000, 100 * MS, true).is_none());
        let shed = |class, waited_us| door.request(class, waited_us, 150 * MS, true).is_some();
        assert!(!shed(Class::Write, 9_000), "within twice the target");
        assert!(shed(Class::Write, 11_000));
        assert!(!shed(Class::Admitted, 19_000), "admitted writes may wait four times");
        assert!(shed(Class::Admitted, 21_000));
        assert!(!shed(Class::Read, 39_000), "reads may wait eight times the target");
        assert!(shed(Class::Read, 41_000));
        assert!(!shed(Class::Operator, 10_000_000));
        assert!(shed(Class::Read, 600_000), "past sojourn_time_max, whatever the queue");
    }

    #[test]
    fn a_request_that_waited_past_the_maximum_is_shed_with_no_standing_queue() {
        let limits = Limits {
            sojourn_time_max: Duration::from_millis(100),
            ..Limits::default()
        };
        let door = Door::new(&limits, Arc::default());
        // Quick requests throughout: no standing queue is ever seen.
        for t in 0..5 {
            assert!(door.request(Class::Write, 100, t * 100_000_000, true).is_none());
        }
        let late = |class, waited_us| door.request(class, waited_us, 500_000_000, true).is_some();
        assert!(!late(Class::Write, 95_000), "within sojourn_time_max (100 ms)");
        assert!(
            late(Class::Write, 105_000),
            "a write admitted now would wait as long again"
        );
        assert!(late(Class::Read, 105_000));
        assert!(!late(Class::Operator, 105_000), "the operator's requests never");
    }

    #[test]
    fn the_budget_answers_so_many_connections_a_second_then_waits() {
        let mut budget = Budget::new(100);
        let t0 = Instant::now();
        let answered = (0..50).filter(|_| budget.take(t0)).count();
        assert_eq!(answered, 10, "a tenth of a second's worth at once");
        let next = budget.next_at(t0).expect("spent");
        assert!(next - t0 <= Duration::from_millis(10));
        assert!(budget.take(t0 + Duration::from_millis(10)));
        assert!(budget.next_at(t0 + Duration::from_secs(1)).is_none());
    }
}
