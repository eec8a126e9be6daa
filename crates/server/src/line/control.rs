//! The admission control loop's arithmetic, once a second: a set point in students per
//! second, moved the way TCP moves a window (down by a quarter when the sojourn's p90
//! passed its limit, up by a tenth when it did not and the whole rate was used), and
//! bounded by the room the active-student limit leaves. It also tracks how long a
//! standing queue has lasted, or calm, for the windows the server opens itself.

use std::time::{Duration, Instant};

/// Set point moves: the factor on a breach, the step on a calm second.
const DECREASE: f64 = 0.75;
const INCREASE: f64 = 0.10;
/// How much of the measured rate is the last second's (an exponential average).
const MEASURE_WEIGHT: f64 = 0.3;

#[derive(Debug, Default)]
pub(crate) struct Controller {
    /// Students to admit per second (0 until the first admission sets it).
    rate_per_s: f64,
    /// Fractions of a student owed from earlier seconds.
    carry: f64,
    last: Option<Instant>,
    /// Students actually admitted per second, lately.
    measured_per_s: f64,
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
        limit: (u64, u32),
        headroom: u32,
        waiting: usize,
    ) -> usize {
        let (p90_us_max, active_max) = limit;
        let rate_max = f64::from(active_max);
        if self.rate_per_s == 0.0 {
            self.rate_per_s = (rate_max / 10.0).max(1.0);
        }
        let breached = reading.sojourn_p90_us.is_some_and(|p90| p90 > p90_us_max);
        let owed = self.carry + self.rate_per_s * dt.as_secs_f64();
        let count = owed.floor().min(f64::from(headroom)).min(waiting as f64).max(0.0);
        if breached {
            self.rate_per_s = (self.rate_per_s * DECREASE).max(1.0);
        } else if count >= owed.floor() && count > 0.0 {
            // The whole rate was used: there is demand for more.
            self.rate_per_s = (self.rate_per_s + (self.rate_per_s * INCREASE).max(1.0)).min(rate_max);
        }
        // What the bounds held back is not owed later: only the fraction carries.
        self.carry = (owed - owed.floor()).min(1.0);
        let secs = dt.as_secs_f64().max(1e-3);
        self.measured_per_s = (1.0 - MEASURE_WEIGHT) * self.measured_per_s + MEASURE_WEIGHT * count / secs;
        count as usize
    }

    /// The set point, students per second.
    pub(crate) fn rate_per_s(&self) -> f64 {
        self.rate_per_s
    }

    /// Students actually admitted per second, lately.
    pub(crate) fn measured_per_s(&self) -> f64 {
        self.measured_per_s
    }
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

    #[test]
    fn the_rate_rises_while_calm_and_falls_when_the_p90_breaches() {
        let mut c = Controller::default();
        let limit = (10_000, 2000);
        let first = c.admissions(SECOND, calm(), limit, 2000, 100_000);
        assert_eq!(first, 200, "a tenth of the active limit per second to begin");
        let second = c.admissions(SECOND, calm(), limit, 2000, 100_000);
        assert!(second > first, "{second}");
        let before = c.rate_per_s();
        let breach = Reading {
            sojourn_p90_us: Some(50_000),
            standing: true,
        };
        c.admissions(SECOND, breach, limit, 2000, 100_000);
        assert!(c.rate_per_s() < before * 0.8, "{} after {before}", c.rate_per_s());
    }

    #[test]
    fn admissions_stay_within_the_active_limits_room_and_who_waits() {
        let mut c = Controller::default();
        assert_eq!(c.admissions(SECOND, calm(), (10_000, 2000), 50, 100_000), 50);
        assert_eq!(c.admissions(SECOND, calm(), (10_000, 2000), 2000, 7), 7);
        let rate = c.rate_per_s();
        c.admissions(SECOND, calm(), (10_000, 2000), 0, 100_000);
        assert_eq!(c.rate_per_s(), rate, "held back by the limit: no reason to rise");
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
