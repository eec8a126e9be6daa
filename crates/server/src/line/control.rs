//! The admission control loop's arithmetic, once a second: a set point in students per
//! second, moved the way TCP moves a window (down by a quarter when the sojourn's p90
//! passed its limit, up by a tenth when it did not and the whole rate was used), never
//! above the rate the active-student limit sustains (each admitted student holds an
//! active place for at least the idle time, so `active_max / idle time`), where it
//! starts; each second's admissions are bounded by the room the limit leaves. It also
//! tracks how long a standing queue has lasted, or calm, for the windows the server
//! opens itself.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Set point moves: the factor on a breach, the step on a calm second.
const DECREASE: f64 = 0.75;
const INCREASE: f64 = 0.10;
/// The admissions measured over the last this many ticks (seconds).
const MEASURED_TICKS_MAX: usize = 30;
/// Until this much has been measured, the set point is the better guess of the rate.
const MEASURED_TIME_MIN: Duration = Duration::from_secs(10);

#[derive(Debug, Default)]
pub(crate) struct Controller {
    /// Students to admit per second (0 until the first admission sets it).
    rate_per_s: f64,
    /// Fractions of a student owed from earlier seconds.
    carry: f64,
    last: Option<Instant>,
    /// The last ticks' admissions and lengths, oldest first.
    measured: VecDeque<(u32, Duration)>,
    overload_since: Option<Instant>,
    calm_since: Option<Instant>,
}

/// What the front door saw over the last second.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Reading {
    /// The p90 of the requests' sojourns, if any came.
    pub(crate) sojourn_p90_us: Option<u64>,
    /// Whether a queue stands now.
    pub(crate) standing: bool,
}

impl Controller {
    /// Notes a second's reading; returns the time since the last tick.
    pub(crate) fn observe(&mut self, now: Instant, reading: Reading) -> Duration {
        let dt = self.last.map_or(Duration::from_secs(1), |last| now - last);
        self.last = Some(now);
        if reading.standing {
            self.calm_since = None;
            self.overload_since.get_or_insert(now);
        } else {
            self.overload_since = None;
            self.calm_since.get_or_insert(now);
        }
        dt
    }

    /// Whether a queue has stood for at least `lasting`.
    pub(crate) fn overloaded_for(&self, now: Instant, lasting: Duration) -> bool {
        self.overload_since.is_some_and(|since| now - since >= lasting)
    }

    pub(crate) fn calm_for(&self, now: Instant, lasting: Duration) -> bool {
        self.calm_since.is_some_and(|since| now - since >= lasting)
    }

    /// How many to admit now, after `dt`: the set point steered by the reading, within
    /// `headroom` (the active-student limit's room) and `waiting`.
    pub(crate) fn admissions(
        &mut self,
        dt: Duration,
        reading: Reading,
        limit: Limit,
        headroom: u32,
        waiting: usize,
    ) -> usize {
        let rate_max = limit.rate_per_s_max.max(1.0);
        if self.rate_per_s == 0.0 {
            self.rate_per_s = rate_max;
        }
        self.rate_per_s = self.rate_per_s.min(rate_max);
        let p90_us_max = limit.sojourn_p90_us_max;
        let breached = reading.sojourn_p90_us.is_some_and(|p90| p90 > p90_us_max);
        let owed = self.carry + self.rate_per_s * dt.as_secs_f64();
        let room = f64::from(headroom);
        let count = owed.floor().min(room).min(waiting as f64).max(0.0);
        if self.measured.len() == MEASURED_TICKS_MAX {
            self.measured.pop_front();
        }
        self.measured.push_back((count as u32, dt));
        if breached {
            self.rate_per_s = (self.rate_per_s * DECREASE).max(1.0);
        } else if room < owed.floor() && room < waiting as f64 {
            // The active limit holds admissions below the set point: a rate nobody
            // can reach steers nothing (and ETAs would count on it), so the set point
            // comes down to what was admitted, as TCP validates an unused window.
            self.rate_per_s = self.rate_per_s.min(self.measured_per_s()).max(1.0);
        } else if count >= owed.floor() && count > 0.0 {
            // The whole rate was used: there is demand for more.
            self.rate_per_s = (self.rate_per_s + (self.rate_per_s * INCREASE).max(1.0)).min(rate_max);
        }
        // What the bounds held back is not owed later: only the fraction carries.
        self.carry = (owed - owed.floor()).min(1.0);
        count as usize
    }

    /// The set point, students per second.
    pub(crate) fn rate_per_s(&self) -> f64 {
        self.rate_per_s
    }

    /// Students actually admitted per second over the last ticks (0 before any).
    pub(crate) fn measured_per_s(&self) -> f64 {
        let (count, time) = self.measured_time();
        if time.is_zero() {
            0.0
        } else {
            f64::from(count) / time.as_secs_f64()
        }
    }

    /// The rate admissions are expected to go on at, for ETAs: the measured one once
    /// there is enough of it, the set point before.
    pub(crate) fn expected_per_s(&self) -> f64 {
        if self.measured_time().1 >= MEASURED_TIME_MIN {
            self.measured_per_s()
        } else {
            self.rate_per_s
        }
    }

    fn measured_time(&self) -> (u32, Duration) {
        self.measured
            .iter()
            .fold((0, Duration::ZERO), |(n, t), &(count, dt)| (n + count, t + dt))
    }
}

/// What the controller keeps under: the sojourn's p90, and the admission rate the
/// active-student limit sustains.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limit {
    pub(crate) sojourn_p90_us_max: u64,
    pub(crate) rate_per_s_max: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn calm() -> Reading {
        Reading {
            sojourn_p90_us: Some(1_000),
            standing: false,
        }
    }

    const LIMIT: Limit = Limit {
        sojourn_p90_us_max: 10_000,
        rate_per_s_max: 200.0,
    };

    fn breach() -> Reading {
        Reading {
            sojourn_p90_us: Some(50_000),
            standing: true,
        }
    }

    #[test]
    fn the_rate_starts_at_what_the_limit_sustains_falls_on_a_breach_and_rises_back() {
        let mut c = Controller::default();
        let first = c.admissions(SECOND, calm(), LIMIT, 2000, 100_000);
        assert_eq!(first, 200, "the sustainable rate to begin");
        assert_eq!(
            c.admissions(SECOND, calm(), LIMIT, 2000, 100_000),
            200,
            "and never above it"
        );
        c.admissions(SECOND, breach(), LIMIT, 2000, 100_000);
        let fallen = c.rate_per_s();
        assert!(fallen < 200.0 * 0.8, "{fallen}");
        c.admissions(SECOND, calm(), LIMIT, 2000, 100_000);
        assert!(c.rate_per_s() > fallen, "{} after {fallen}", c.rate_per_s());
    }

    #[test]
    fn admissions_stay_within_the_active_limits_room_and_who_waits() {
        let mut c = Controller::default();
        c.admissions(SECOND, breach(), LIMIT, 2000, 100_000);
        assert_eq!(c.admissions(SECOND, calm(), LIMIT, 50, 100_000), 50);
        assert_eq!(c.admissions(SECOND, calm(), LIMIT, 2000, 7), 7);
        let rate = c.rate_per_s();
        c.admissions(SECOND, calm(), LIMIT, 2000, 0);
        assert_eq!(c.rate_per_s(), rate, "nobody waits: no reason to move");
    }

    #[test]
    fn a_set_point_the_active_limit_holds_admissions_below_comes_down_to_what_was_admitted() {
        let mut c = Controller::default();
        for _ in 0..MEASURED_TICKS_MAX {
            assert_eq!(c.admissions(SECOND, calm(), LIMIT, 150, 100_000), 150);
        }
        let held = c.rate_per_s();
        assert!(
            (150.0..=165.0).contains(&held),
            "{held}: within a step of what was admitted"
        );
        let count = c.admissions(SECOND, calm(), LIMIT, 2000, 100_000);
        assert!(
            c.rate_per_s() > held,
            "{count} admitted, the whole rate used: it rises again"
        );
    }

    #[test]
    fn the_expected_rate_is_the_set_point_until_enough_is_measured() {
        let mut c = Controller::default();
        c.admissions(SECOND, calm(), LIMIT, 2000, 30);
        assert_eq!((c.measured_per_s(), c.expected_per_s()), (30.0, 200.0));
        for _ in 0..MEASURED_TICKS_MAX {
            c.admissions(SECOND, calm(), LIMIT, 2000, 120);
        }
        assert_eq!(
            c.expected_per_s(),
            120.0,
            "the last ticks' admissions, the first forgotten"
        );
    }

    #[test]
    fn overload_and_calm_are_timed() {
        let mut c = Controller::default();
        let t0 = Instant::now();
        let standing = Reading {
            sojourn_p90_us: None,
            standing: true,
        };
        c.observe(t0, standing);
        c.observe(t0 + 5 * SECOND, standing);
        assert!(!c.overloaded_for(t0 + 5 * SECOND, 10 * SECOND));
        c.observe(t0 + 10 * SECOND, standing);
        assert!(c.overloaded_for(t0 + 10 * SECOND, 10 * SECOND));
        c.observe(t0 + 11 * SECOND, calm());
        assert!(!c.overloaded_for(t0 + 11 * SECOND, SECOND) && c.calm_for(t0 + 12 * SECOND, SECOND));
    }
}
