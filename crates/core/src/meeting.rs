//! Weekly meeting times (`{"days":"MW","start":"14:00","end":"15:50"}`) and the overlap
//! test behind the `time_conflict` refusal.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Day letters in week order, as the registrar writes them: R is Thursday, U is Sunday.
const DAY_LETTERS: &[u8; 7] = b"MTWRFSU";

/// A set of weekdays, one bit per letter of [`DAY_LETTERS`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Days(u8);

impl Days {
    pub fn overlaps(self, other: Days) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether every day of `self` is one of `other`'s.
    pub fn within(self, other: Days) -> bool {
        self.0 & !other.0 == 0
    }

    /// No day at all (the days of no meetings).
    pub const NONE: Days = Days(0);

    /// Every day of either.
    pub fn union(self, other: Days) -> Days {
        Days(self.0 | other.0)
    }
}

impl FromStr for Days {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut bits = 0u8;
        for letter in text.bytes() {
            let Some(day) = DAY_LETTERS.iter().position(|&d| d == letter) else {
                return Err(format!(
                    "days {text:?}: {:?} is not one of M T W R F S U",
                    letter as char
                ));
            };
            if bits & (1 << day) != 0 {
                return Err(format!("days {text:?}: {:?} appears twice", letter as char));
            }
            bits |= 1 << day;
        }
        if bits == 0 {
            return Err("days must name at least one of M T W R F S U".into());
        }
        Ok(Days(bits))
    }
}

impl fmt::Display for Days {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (day, &letter) in DAY_LETTERS.iter().enumerate() {
            if self.0 & (1 << day) != 0 {
                write!(f, "{}", letter as char)?;
            }
        }
        Ok(())
    }
}

impl TryFrom<String> for Days {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl From<Days> for String {
    fn from(days: Days) -> String {
        days.to_string()
    }
}

impl Serialize for Days {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Days {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// A wall-clock time of day, in minutes since midnight, written `HH:MM`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl FromStr for TimeOfDay {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("time {text:?} is not HH:MM (24-hour clock, e.g. 14:00)");
        let (h, m) = text.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let hours: u16 = h.parse().map_err(|_| bad())?;
        let minutes: u16 = m.parse().map_err(|_| bad())?;
        if hours > 23 || minutes > 59 {
            return Err(bad());
        }
        Ok(TimeOfDay(hours * 60 + minutes))
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for TimeOfDay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// One weekly meeting of a section. `start < end` is checked by `Command::validate`.
/// Read from a JSON object only (`objects.rs`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct Meeting {
    pub days: Days,
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

crate::objects::objects_only!(Meeting, "a meeting: days, start, end", &["days", "start", "end"]);

impl Meeting {
    /// A meeting from its written form, e.g. `("MW", "14:00", "15:50")`; the error says
    /// which part is wrong.
    pub fn parse(days: &str, start: &str, end: &str) -> Result<Meeting, String> {
        Ok(Meeting {
            days: days.parse()?,
            start: start.parse()?,
            end: end.parse()?,
        })
    }

    /// Two meetings conflict when they share a day and their half-open time ranges
    /// intersect: a class ending at 10:50 does not conflict with one starting at 10:50.
    pub fn overlaps(&self, other: &Meeting) -> bool {
        self.days.overlaps(other.days) && self.start < other.end && other.start < self.end
    }
}

/// Whether any meeting of `a` conflicts with any meeting of `b`.
pub fn schedules_overlap(a: &[Meeting], b: &[Meeting]) -> bool {
    a.iter().any(|x| b.iter().any(|y| x.overlaps(y)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meeting(days: &str, start: &str, end: &str) -> Meeting {
        Meeting::parse(days, start, end).unwrap()
    }

    #[test]
    fn days_round_trip_in_week_order() {
        assert_eq!("RMW".parse::<Days>().unwrap().to_string(), "MWR");
        assert!("MM".parse::<Days>().is_err());
        assert!("X".parse::<Days>().is_err());
        assert!("".parse::<Days>().is_err());
    }

    #[test]
    fn times_are_strict_hh_mm() {
        assert_eq!("14:05".parse::<TimeOfDay>().unwrap().minutes(), 14 * 60 + 5);
        for bad in ["24:00", "9:00", "09:60", "0900", "ab:cd", "09:00:00"] {
            assert!(bad.parse::<TimeOfDay>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn overlap_needs_a_shared_day_and_intersecting_times() {
        let mw = meeting("MW", "10:00", "10:50");
        assert!(mw.overlaps(&meeting("W", "10:30", "11:00")));
        assert!(!mw.overlaps(&meeting("TR", "10:00", "10:50")));
        assert!(!mw.overlaps(&meeting("M", "10:50", "12:00")), "back to back is fine");
    }
}
