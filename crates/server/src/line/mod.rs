//! The waiting room: registration's virtual queue, built into the server. While a
//! registration window is open (`murphy_core::line` keeps its durable facts in the
//! log), a student's write needs an admission pass; without one it is answered with the
//! student's place in line. The primary keeps the line in memory (`memory.rs`): who
//! holds which ticket, who waits, who was admitted; the waiters hold signed passes
//! (`pass.rs`), so a restart or a failover loses nothing they cannot bring back.
//!
//! Once a second (`tick`) the room lets places lapse whose holders stopped asking,
//! expires idle admissions, admits the next students in place order at the rate the
//! control loop sets (`control.rs`), reserves tickets ahead, and publishes what polls
//! read without the lock (`View`). What must survive goes to the log as commands,
//! a few a second: tickets in blocks, the opening's draw, admissions in bulk.

mod answer;
mod control;
mod memory;
mod pass;
mod tick;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use murphy_core::line::Window;
use murphy_core::wire::LineAnswer;
use time::OffsetDateTime;

pub(crate) use control::Reading;
pub(crate) use pass::{Pass, PassKey, Refused};

use crate::config::Limits;
use crate::metrics::Metrics;
use control::Controller;
use memory::{Entry, Memory, Standing};

/// Tickets reserved in the log at a time: a reservation every this many arrivals.
pub(crate) const TICKETS_PER_BLOCK: u64 = 1024;
/// How often the room ticks.
pub(crate) const TICK_INTERVAL: Duration = Duration::from_secs(1);
/// A place lapses when its holder missed two polls, and this much more.
const LAPSE_GRACE: Duration = Duration::from_secs(2);

/// One reading of the clocks the room needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    pub(crate) now: Instant,
    pub(crate) utc: OffsetDateTime,
}

impl Clock {
    pub(crate) fn now() -> Clock {
        Clock {
            now: Instant::now(),
            utc: OffsetDateTime::now_utc(),
        }
    }

    pub(crate) fn unix_s(&self) -> u64 {
        self.utc.unix_timestamp().max(0) as u64
    }
}

/// What becomes of a student's write while a window is open.
#[derive(Debug)]
pub(crate) enum Gate {
    /// Admitted: serve it.
    Go,
    /// Not admitted: the student's place in line instead.
    Wait(Box<LineAnswer>),
    /// Every reserved ticket of `window` is out: reserve up to `through`, then ask again.
    Reserve { window: u64, through: u64 },
    /// The window has all the tickets it may hand out.
    Full,
}

/// What the tick publishes for polls, read without the lock.
#[derive(Debug, Default)]
struct View {
    /// The places of those waiting, sorted.
    waiting: Vec<u64>,
    admit_rate_per_s: f64,
    /// The rate ETAs are drawn from: the measured one, at most what the active limit
    /// sustains over the idle time.
    eta_rate_per_s: f64,
    lapse_share: f64,
    /// The longest a waiter is told to wait before asking again, so that all of them
    /// asking stays within the polls' CPU share.
    poll_s: f64,
    active: u32,
}

pub(crate) struct Room {
    key: PassKey,
    limits: Limits,
    metrics: Arc<Metrics>,
    inner: Mutex<Inner>,
    view: ArcSwap<View>,
    /// One ticket reservation in the log at a time.
    pub(crate) reserving: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Inner {
    memory: Option<Memory>,
    /// Students who wrote lately while no window was open, and when: admitted at once
    /// when one opens, so that it does not turn back a student halfway through.
    recent: HashMap<Arc<str>, Instant>,
    control: Controller,
}

impl Room {
    pub(crate) fn new(key: PassKey, limits: Limits, metrics: Arc<Metrics>) -> Room {
        Room {
            key,
            limits,
            metrics,
            inner: Mutex::default(),
            view: ArcSwap::default(),
            reserving: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) fn key(&self) -> &PassKey {
        &self.key
    }

    /// `POST /api/v1/line`: the student's place, the same one however often asked; a
    /// new ticket for one who holds none. `Err(Gate::Reserve | Gate::Full)` when no
    /// ticket is free.
    pub(crate) fn join(&self, line: Option<&Window>, student: &str, clock: Clock) -> Result<LineAnswer, Gate> {
        let Some(window) = line else {
            return Ok(LineAnswer::closed());
        };
        let mut inner = self.lock();
        let memory = inner.memory(window, clock.now);
        let student: Arc<str> = student.into();
        let held = memory.students.get(&student).copied();
        if held.is_some_and(|e| e.state != Standing::Gone) {
            return Ok(self.touch(window, memory, &student, clock));
        }
        let Some(_) = memory.join(window, &student, clock.unix_s(), clock.now + LAPSE_GRACE) else {
            return Err(self.reserve(window));
        };
        Ok(self.touch(window, memory, &student, clock))
    }

    /// `GET /api/v1/line`: where the student stands; a pass brings back a place this
    /// memory lost (a restart) and keeps the place from lapsing.
    pub(crate) fn poll(&self, line: Option<&Window>, student: &str, pass: Option<&Pass>, clock: Clock) -> LineAnswer {
        let Some(window) = line else {
            return LineAnswer::closed();
        };
        let mut inner = self.lock();
        let memory = inner.memory(window, clock.now);
        if let Some(pass) = pass.filter(|p| p.window == window.id && p.student == student) {
            memory.adopt(window, pass, clock.now, clock.now + LAPSE_GRACE);
        }
        self.touch(window, memory, &student.into(), clock)
    }

    /// A student's write: served if admitted (its activity noted), else answered with
    /// the student's place (joining the line if needed).
    pub(crate) fn gate(&self, line: Option<&Window>, student: &str, pass: Option<&Pass>, clock: Clock) -> Gate {
        let Some(window) = line else {
            self.lock().recent.insert(student.into(), clock.now);
            return Gate::Go;
        };
        let mut inner = self.lock();
        let idle_max = self.limits.line_admitted_idle_time_max;
        let memory = inner.memory(window, clock.now);
        if let Some(pass) = pass.filter(|p| p.window == window.id && p.student == student) {
            memory.adopt(window, pass, clock.now, clock.now + LAPSE_GRACE);
        }
        let student: Arc<str> = student.into();
        if let Some(entry) = memory.students.get(&student).copied()
            && let Standing::Admitted { active_at, since } = entry.state
        {
            let durable = entry.ticket == 0
                || memory
                    .place(window, entry.ticket)
                    .is_some_and(|place| place <= window.admitted);
            if !durable {
                // Admitted here, not yet in the log: a moment more.
                return Gate::Wait(Box::new(self.touch(window, memory, &student, clock)));
            }
            let state = if clock.now.saturating_duration_since(active_at) <= idle_max {
                Standing::Admitted {
                    active_at: clock.now,
                    since,
                }
            } else {
                Standing::Gone // idle too long: to the back of the line
            };
            memory.students.insert(student.clone(), Entry { state, ..entry });
            if state != Standing::Gone {
                return Gate::Go;
            }
        }
        drop(inner);
        match self.join(line, &student, clock) {
            Ok(answer) => Gate::Wait(Box::new(answer)),
            Err(gate) => gate,
        }
    }

    /// The ticket reservation to ask for when every reserved ticket is out.
    fn reserve(&self, window: &Window) -> Gate {
        if window.tickets >= self.limits.line_tickets_max {
            return Gate::Full;
        }
        Gate::Reserve {
            window: window.id,
            through: (window.tickets + TICKETS_PER_BLOCK).min(self.limits.line_tickets_max),
        }
    }

    /// The student's answer; a waiting place is kept from lapsing until twice the
    /// wait it is told, and a little more.
    fn touch(&self, window: &Window, memory: &mut Memory, student: &Arc<str>, clock: Clock) -> LineAnswer {
        let entry = memory.students.get(student).copied();
        let (answer, next_poll) = self.answer(window, memory, student, entry, clock);
        if let (Some(entry), Some(next_poll)) = (entry, next_poll)
            && let Standing::Waiting { .. } = entry.state
        {
            let lapse_at = clock.now + 2 * next_poll + LAPSE_GRACE;
            memory.students.insert(
                student.clone(),
                Entry {
                    state: Standing::Waiting { lapse_at },
                    ..entry
                },
            );
        }
        answer
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("never poisoned")
    }
}

impl Inner {
    /// The memory of `window`, begun afresh when it is another window's.
    fn memory(&mut self, window: &Window, now: Instant) -> &mut Memory {
        tick::memory_of(&mut self.memory, &mut self.recent, window, now)
    }
}
