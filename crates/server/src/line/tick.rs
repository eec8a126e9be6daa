//! The room's second: places lapse, idle admissions expire, the next students are
//! admitted, tickets are reserved ahead, and the view polls read is published. What
//! must survive is returned as commands for the log; the caller submits them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use murphy_core::Command;
use murphy_core::line::Window;

use super::control::Limit;
use super::memory::Memory;
use super::{Clock, Inner, LAPSE_GRACE, Reading, Room, TICKETS_PER_BLOCK, View};

impl Room {
    /// Once a second, on the primary. `line` is the durable window, if one is open;
    /// `may_open`: the log's rules know the waiting room's commands (version 3), so a
    /// window may be opened under lasting overload.
    pub(crate) fn tick(&self, line: Option<&Window>, may_open: bool, clock: Clock, reading: Reading) -> Vec<Command> {
        let mut inner = self.lock();
        let dt = inner.control.observe(clock.now, reading);
        let Some(window) = line else {
            return self.tick_closed(&mut inner, may_open, clock);
        };
        let Inner {
            memory: slot,
            recent,
            control,
        } = &mut *inner;
        let memory = memory_of(slot, recent, window, clock.now);
        let seed = (window.start.is_none() && clock.utc >= window.opens_at).then(draw_seed);
        let active = memory.sweep(window, clock.now, self.limits.line_admitted_idle_time_max);
        let mut admitted = None;
        if window.start.is_some() {
            let knows_all = memory.complete || clock.now - memory.began >= self.grace();
            // Before it knows all, every place might be held: admission skips none.
            let waiting = if knows_all { memory.waiting.len() } else { usize::MAX };
            let limit = Limit {
                sojourn_p90_us_max: micros(self.limits.line_sojourn_p90_time_max),
                rate_per_s_max: self.sustained_per_s(window, memory),
            };
            let headroom = window.active_max.saturating_sub(active);
            let count = control.admissions(dt, reading, limit, headroom, waiting);
            let frontier = if knows_all {
                memory.admit(count, clock.now)
            } else {
                memory.admit_blind(window, count as u64, clock.now)
            };
            admitted = (frontier > window.admitted).then_some(frontier);
        }
        let tickets = self.tickets_ahead(window, memory);
        let calm = control.calm_for(clock.now, self.limits.line_overload_time_min);
        let close = window.automatic && window.start.is_some() && memory.waiting.is_empty() && calm;
        let eta_rate_per_s = control.expected_per_s().min(self.sustained_per_s(window, memory));
        self.publish(memory, control.measured_per_s(), eta_rate_per_s, active);
        let waiting = memory.waiting.len() as u64;
        self.metrics
            .line(waiting, active, control.rate_per_s(), memory.frontier);
        let mut commands = Vec::new();
        if tickets.is_some() || seed.is_some() || admitted.is_some() {
            commands.push(Command::AdvanceLine {
                window: window.id,
                tickets,
                seed,
                admitted,
            });
        }
        if close {
            commands.push(Command::CloseLine {});
        }
        commands
    }

    /// No window: forget the last one's line; open one if a queue has stood too long.
    fn tick_closed(&self, inner: &mut Inner, may_open: bool, clock: Clock) -> Vec<Command> {
        inner.memory = None;
        let idle_max = self.limits.line_admitted_idle_time_max;
        inner
            .recent
            .retain(|_, at| clock.now.saturating_duration_since(*at) <= idle_max);
        self.view.store(Arc::default());
        self.metrics.line(0, 0, 0.0, 0);
        let lasting = inner
            .control
            .overloaded_for(clock.now, self.limits.line_overload_time_min);
        if !(may_open && lasting) {
            return Vec::new();
        }
        vec![Command::OpenLine {
            opens_at: clock.utc,
            active_max: self.limits.line_active_students_max,
            automatic: true,
        }]
    }

    /// Not the primary (any more): the line is kept where writes are.
    pub(crate) fn forget(&self) {
        let mut inner = self.lock();
        inner.memory = None;
        inner.recent.clear();
        self.view.store(Arc::default());
    }

    /// The admission rate the active limit sustains (Little's law): each admitted
    /// student holds an active place for at least the idle time, and as long as the
    /// admitted have lately held one.
    fn sustained_per_s(&self, window: &Window, memory: &Memory) -> f64 {
        let idle_s = self.limits.line_admitted_idle_time_max.as_secs_f64().max(1.0);
        f64::from(window.active_max) / idle_s.max(memory.hold_s)
    }

    /// A new block of tickets when half of the last one is out.
    fn tickets_ahead(&self, window: &Window, memory: &Memory) -> Option<u64> {
        let max = self.limits.line_tickets_max;
        (memory.issued + TICKETS_PER_BLOCK / 2 >= window.tickets && window.tickets < max)
            .then(|| (window.tickets + TICKETS_PER_BLOCK).min(max))
    }

    /// How long a memory that began with tickets already out waits before it takes
    /// a place nobody has asked about for lapsed: the longest a waiter may be told to
    /// wait, twice over.
    fn grace(&self) -> Duration {
        2 * self.limits.line_poll_time_max + LAPSE_GRACE
    }

    fn publish(&self, memory: &Memory, admit_rate_per_s: f64, eta_rate_per_s: f64, active: u32) {
        let waiting: Vec<u64> = memory.waiting.keys().copied().collect();
        let share = self.limits.line_polls_cpu_share_max.max(1e-6);
        let poll_s = waiting.len() as f64 * self.limits.line_poll_cpu_time.as_secs_f64() / share;
        self.view.store(Arc::new(View {
            waiting,
            admit_rate_per_s,
            eta_rate_per_s,
            lapse_share: memory.lapse_share(),
            poll_s,
            active,
        }));
    }
}

/// The memory of `window` in `slot`, begun afresh when it is another window's.
pub(super) fn memory_of<'a>(
    slot: &'a mut Option<Memory>,
    recent: &mut HashMap<Arc<str>, Instant>,
    window: &Window,
    now: Instant,
) -> &'a mut Memory {
    if slot.as_ref().is_none_or(|m| m.id != window.id) {
        let writing = std::mem::take(recent).into_keys();
        *slot = Some(Memory::new(window, now, writing));
    }
    let memory = slot.as_mut().expect("set above");
    memory.sync(window);
    memory
}

fn draw_seed() -> u64 {
    getrandom::u64().expect("the OS random source is available") & murphy_core::line::LINE_SEED_MAX
}

fn micros(d: Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}
