//! What the primary remembers of a window's line, in memory only: who holds which
//! ticket, who waits, who was admitted and when they last wrote. A restart or a
//! failover forgets it; the passes the waiters hold bring it back as they poll, and
//! until then admission moves by places alone (`complete`), skipping nobody.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use murphy_core::line::{Window, prequeue_places};

use super::pass::Pass;

/// One student's standing in the window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Entry {
    /// The arrival number; 0 for a student admitted without one (writing when the
    /// window opened).
    pub(crate) ticket: u64,
    /// When the pass was issued (Unix seconds): the same pass on every answer.
    pub(crate) issued: u64,
    pub(crate) state: Standing,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Standing {
    /// Holds a place; it lapses at `lapse_at` unless the student asks again.
    Waiting { lapse_at: Instant },
    /// May write; expires when it has not written for the idle limit. `since`: when
    /// admitted (or first seen admitted by this memory).
    Admitted { active_at: Instant, since: Instant },
    /// Left the line (missed its polls) or idled out of admission: must join again.
    Gone,
}

/// How much of `hold_s` is the last sweep's expiries (an exponential average).
const HOLD_WEIGHT: f64 = 0.2;

pub(crate) struct Memory {
    /// The window (its id) this memory is of.
    pub(crate) id: u64,
    pub(crate) began: Instant,
    /// Whether it began with the window, before any ticket was handed out: then it
    /// knows every waiter, and admission may skip those who left.
    pub(crate) complete: bool,
    /// The last ticket handed out.
    pub(crate) issued: u64,
    /// The pre-queue's places, once drawn.
    prequeue: Option<Arc<[u32]>>,
    pub(crate) students: HashMap<Arc<str>, Entry>,
    /// Those waiting, by place, once the order is drawn: admission takes from the front.
    pub(crate) waiting: BTreeMap<u64, Arc<str>>,
    /// Places up to here are admitted, as far as this memory knows (the log may trail).
    pub(crate) frontier: u64,
    /// Waiters admitted, and places that lapsed, since the memory began: how many of
    /// those ahead of a waiter will still be there.
    pub(crate) admitted_count: u64,
    pub(crate) lapsed_count: u64,
    /// How long an admitted student holds an active place, from admission to expiry,
    /// lately (seconds; 0 before the first expiry): by Little's law the active limit
    /// sustains `active_max / hold_s` admissions a second.
    pub(crate) hold_s: f64,
}

impl Memory {
    /// A memory of `window`; those in `writing` (students who wrote lately) are admitted
    /// at once, so a window opening does not turn back a student halfway through.
    pub(crate) fn new(window: &Window, now: Instant, writing: impl Iterator<Item = Arc<str>>) -> Memory {
        let complete = window.tickets == 0;
        let admitted = Entry {
            ticket: 0,
            issued: 0,
            state: Standing::Admitted {
                active_at: now,
                since: now,
            },
        };
        let students = if complete {
            writing.map(|student| (student, admitted)).collect()
        } else {
            HashMap::new()
        };
        let mut memory = Memory {
            id: window.id,
            began: now,
            complete,
            // A ticket reserved before this memory may have been handed out.
            issued: window.tickets,
            prequeue: None,
            students,
            waiting: BTreeMap::new(),
            frontier: window.admitted,
            admitted_count: 0,
            lapsed_count: 0,
            hold_s: 0.0,
        };
        memory.sync(window);
        memory
    }

    /// Catches up with the durable window: the draw, once made, orders those waiting.
    pub(crate) fn sync(&mut self, window: &Window) {
        debug_assert_eq!(window.id, self.id);
        self.frontier = self.frontier.max(window.admitted);
        if self.prequeue.is_some() {
            return;
        }
        let Some(start) = window.start else {
            return;
        };
        self.prequeue = Some(prequeue_places(start.seed, start.tickets).into());
        let waiting: Vec<(u64, Arc<str>)> = self
            .students
            .iter()
            .filter(|(_, e)| matches!(e.state, Standing::Waiting { .. }))
            .filter_map(|(s, e)| Some((self.place(window, e.ticket)?, s.clone())))
            .collect();
        self.waiting.extend(waiting);
    }

    /// A ticket's place, once the order is drawn.
    pub(crate) fn place(&self, window: &Window, ticket: u64) -> Option<u64> {
        if ticket == 0 {
            return Some(0);
        }
        window.place(ticket, self.prequeue.as_deref().unwrap_or(&[]))
    }

    /// Hands `student` the next ticket reserved, waiting until `lapse_at`; `None` when
    /// every reserved ticket is out.
    pub(crate) fn join(
        &mut self,
        window: &Window,
        student: &Arc<str>,
        issued: u64,
        lapse_at: Instant,
    ) -> Option<Entry> {
        if self.issued >= window.tickets {
            return None;
        }
        self.issued += 1;
        let entry = Entry {
            ticket: self.issued,
            issued,
            state: Standing::Waiting { lapse_at },
        };
        self.set(window, student, entry);
        Some(entry)
    }

    /// Takes in what a pass says, for a student this memory lost (a restart) or holds
    /// with a worse place (a second device's ticket after a restart): one place per
    /// student, the best one shown. A place already passed by admission is admitted.
    pub(crate) fn adopt(&mut self, window: &Window, pass: &Pass, now: Instant, lapse_at: Instant) {
        let place = self.place(window, pass.ticket);
        if let Some(held) = self.students.get(pass.student.as_str()) {
            let held_place = self.place(window, held.ticket);
            // The same ticket (whatever became of it), an admission without a ticket,
            // or an order not drawn yet: what is held stands.
            let better = place.is_some() && held_place.is_some() && place < held_place;
            if held.ticket == pass.ticket || held.ticket == 0 || !better {
                return;
            }
        }
        let passed = place.is_some_and(|p| p <= window.admitted);
        if passed && self.complete {
            return; // a complete memory saw this place lapse
        }
        let state = if passed {
            Standing::Admitted {
                active_at: now,
                since: now,
            }
        } else {
            Standing::Waiting { lapse_at }
        };
        let entry = Entry {
            ticket: pass.ticket,
            issued: pass.issued,
            state,
        };
        self.set(window, &pass.student.as_str().into(), entry);
    }

    /// Records `entry` for `student`, keeping `waiting` in step.
    pub(crate) fn set(&mut self, window: &Window, student: &Arc<str>, entry: Entry) {
        if let Some(old) = self.students.insert(student.clone(), entry)
            && let Some(place) = self.place(window, old.ticket)
        {
            self.waiting.remove(&place);
        }
        if let (Standing::Waiting { .. }, Some(place)) = (entry.state, self.place(window, entry.ticket)) {
            self.waiting.insert(place, student.clone());
        }
    }

    /// Places not asked for in time lapse; admissions idle past `idle_max` expire.
    /// Returns how many are admitted and active.
    pub(crate) fn sweep(&mut self, window: &Window, now: Instant, idle_max: Duration) -> u32 {
        let mut active = 0u32;
        let mut lapsed = Vec::new();
        let (mut held, mut expired) = (Duration::ZERO, 0u32);
        for (student, entry) in self.students.iter_mut() {
            match entry.state {
                Standing::Waiting { lapse_at } if lapse_at <= now => {
                    entry.state = Standing::Gone;
                    lapsed.push((student.clone(), entry.ticket));
                }
                Standing::Admitted { active_at, since } if now.saturating_duration_since(active_at) > idle_max => {
                    entry.state = Standing::Gone;
                    held += now.saturating_duration_since(since);
                    expired += 1;
                }
                Standing::Admitted { .. } => active += 1,
                _ => {}
            }
        }
        for (_, ticket) in lapsed {
            if let Some(place) = self.place(window, ticket) {
                self.waiting.remove(&place);
            }
            self.lapsed_count += 1;
        }
        if expired > 0 {
            let hold_s = held.as_secs_f64() / f64::from(expired);
            self.hold_s = if self.hold_s == 0.0 {
                hold_s
            } else {
                (1.0 - HOLD_WEIGHT) * self.hold_s + HOLD_WEIGHT * hold_s
            };
        }
        active
    }

    /// Admits the first `count` waiting, in place order; returns the frontier.
    pub(crate) fn admit(&mut self, count: usize, now: Instant) -> u64 {
        for _ in 0..count {
            let Some((place, student)) = self.waiting.pop_first() else {
                break;
            };
            if let Some(entry) = self.students.get_mut(&student) {
                entry.state = Standing::Admitted {
                    active_at: now,
                    since: now,
                };
            }
            self.frontier = self.frontier.max(place);
            self.admitted_count += 1;
        }
        self.frontier
    }

    /// Moves the frontier `count` places on, whoever holds them: while this memory is
    /// incomplete it cannot tell a place that lapsed from one it never heard of, so it
    /// skips neither. Those known to wait there are admitted.
    pub(crate) fn admit_blind(&mut self, window: &Window, count: u64, now: Instant) -> u64 {
        let through = (self.frontier + count).min(window.tickets);
        while let Some((&place, _)) = self.waiting.first_key_value()
            && place <= through
        {
            self.admit(1, now);
        }
        self.frontier = self.frontier.max(through);
        self.frontier
    }

    /// Of the places reached, the share whose holder had left.
    pub(crate) fn lapse_share(&self) -> f64 {
        let reached = self.admitted_count + self.lapsed_count;
        if reached == 0 {
            0.0
        } else {
            self.lapsed_count as f64 / reached as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hold_is_the_time_from_admission_to_expiry() {
        let window = Window {
            id: 1,
            opens_at: time::OffsetDateTime::UNIX_EPOCH,
            active_max: 10,
            automatic: false,
            tickets: 0,
            start: None,
            admitted: 0,
        };
        let t0 = Instant::now();
        let idle = Duration::from_secs(10);
        let writing = ["s1", "s2"].into_iter().map(Arc::<str>::from);
        let mut memory = Memory::new(&window, t0, writing);
        assert_eq!(
            memory.sweep(&window, t0 + idle, idle),
            2,
            "both active within the idle limit"
        );
        // One wrote 3 s after admission: it holds its place 3 s longer.
        let entry = memory.students.get_mut("s2").unwrap();
        entry.state = Standing::Admitted {
            active_at: t0 + Duration::from_secs(3),
            since: t0,
        };
        assert_eq!(memory.sweep(&window, t0 + Duration::from_secs(11), idle), 1);
        assert_eq!(memory.hold_s, 11.0);
        assert_eq!(memory.sweep(&window, t0 + Duration::from_secs(14), idle), 0);
        assert!(
            (memory.hold_s - (0.8 * 11.0 + 0.2 * 14.0)).abs() < 1e-9,
            "{}",
            memory.hold_s
        );
    }
}
