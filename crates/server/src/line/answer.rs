//! A student's answer: where they stand, with the signed pass, the place, how many
//! still wait ahead, an ETA range and when to ask again.

use std::sync::Arc;
use std::time::Duration;

use murphy_core::line::Window;
use murphy_core::wire::{EtaRange, LineAnswer, LineState};

use super::memory::{Entry, Memory, Standing};
use super::{Clock, Pass, Room, View};

/// The ETA range around the expected wait: admission rates wander.
const ETA_LOW: f64 = 0.8;
const ETA_HIGH: f64 = 1.25;

impl Room {
    /// `student`'s answer, and the wait it is told before asking again (while it holds
    /// a place not yet admitted).
    pub(super) fn answer(
        &self,
        window: &Window,
        memory: &Memory,
        student: &Arc<str>,
        entry: Option<Entry>,
        clock: Clock,
    ) -> (LineAnswer, Option<Duration>) {
        let view = self.view.load();
        let started = window.start.is_some();
        let mut answer = LineAnswer {
            state: LineState::Out,
            window: Some(window.id),
            opens_at: Some(window.opens_at),
            admitted_through: started.then_some(window.admitted),
            admit_rate_per_s: started.then_some((view.admit_rate_per_s * 100.0).round() / 100.0),
            active: Some(view.active),
            active_max: Some(window.active_max),
            ..LineAnswer::closed()
        };
        let Some(entry) = entry.filter(|e| e.state != Standing::Gone) else {
            return (answer, None);
        };
        if entry.ticket != 0 {
            answer.pass = Some(self.key.sign(&Pass {
                student: student.to_string(),
                window: window.id,
                ticket: entry.ticket,
                issued: entry.issued,
                expires: entry.issued + self.limits.line_pass_time_max.as_secs(),
            }));
        }
        let place = memory.place(window, entry.ticket);
        answer.place = place.filter(|&p| p > 0);
        let poll = match (entry.state, place) {
            (Standing::Admitted { .. }, Some(place)) if place <= window.admitted => {
                answer.state = LineState::Admitted;
                return (answer, None);
            }
            (_, None) => {
                answer.state = LineState::PreQueue;
                // Ask again just after the opening's draw.
                let until_open = (window.opens_at - clock.utc).max(time::Duration::ZERO);
                let until_open = Duration::try_from(until_open).unwrap_or_default() + Duration::from_secs(1);
                self.poll_within(until_open, &view)
            }
            (_, Some(place)) => {
                answer.state = LineState::Waiting;
                let ahead = view.waiting.partition_point(|&p| p < place) as u64;
                answer.ahead = Some(ahead);
                let expected_s = expected_wait_s(ahead, &view);
                answer.eta = expected_s.map(|s| EtaRange {
                    min_s: (s * ETA_LOW).floor() as u64,
                    max_s: (s * ETA_HIGH).ceil() as u64,
                });
                // Sooner as admission nears, so an admitted student learns it in time.
                let half = expected_s.map_or(Duration::MAX, |s| Duration::from_secs_f64(s / 2.0));
                self.poll_within(half, &view)
            }
        };
        answer.next_poll_after_s = Some(poll.as_secs_f64().ceil() as u64);
        (answer, Some(poll))
    }

    /// `wanted`, within the polls' bounds: never below `line_poll_time_min`, never past
    /// what keeps all waiters' polls within their CPU share.
    fn poll_within(&self, wanted: Duration, view: &View) -> Duration {
        let min = self.limits.line_poll_time_min;
        let longest = Duration::from_secs_f64(view.poll_s).clamp(min, self.limits.line_poll_time_max.max(min));
        wanted.clamp(min, longest)
    }
}

/// Seconds until a waiter with `ahead` others before it is admitted, at the rate seen
/// lately, counting only the share of those ahead that will still be there.
fn expected_wait_s(ahead: u64, view: &View) -> Option<f64> {
    (view.eta_rate_per_s >= 0.01).then(|| (ahead as f64 * (1.0 - view.lapse_share) + 1.0) / view.eta_rate_per_s)
}
