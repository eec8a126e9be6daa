//! Reserved seats: a section holds some of its seats for a population (a major, a class
//! standing) until an instant. Before it, a student outside the population can take
//! only the unreserved seats; at it, the reserved seats open to all (see
//! `State::release_due`, which runs the release as the first step of the first command
//! applied at or after the instant).
//!
//! Who sits in a reserved seat is recorded (`ReservedSeats::holders`), not derived from
//! the students' majors: a student with a permission number may take a reserved seat
//! without belonging to its population, and must give it back when they drop.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::command::check_id;

/// Whom a reservation is for: `major:COMSCI` or `standing:senior`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Population {
    Major(String),
    Standing(String),
}

impl Population {
    /// Whether a student with this major and standing belongs to the population.
    pub fn admits(&self, major: Option<&str>, standing: Option<&str>) -> bool {
        match self {
            Population::Major(m) => major == Some(m.as_str()),
            Population::Standing(s) => standing == Some(s.as_str()),
        }
    }
}

impl FromStr for Population {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a population: write major:ID or standing:ID (e.g. major:COMSCI)");
        let (kind, id) = text.split_once(':').ok_or_else(bad)?;
        check_id(kind, id).map_err(|_| bad())?;
        match kind {
            "major" => Ok(Population::Major(id.to_owned())),
            "standing" => Ok(Population::Standing(id.to_owned())),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Population {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Population::Major(m) => write!(f, "major:{m}"),
            Population::Standing(s) => write!(f, "standing:{s}"),
        }
    }
}

impl Serialize for Population {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Population {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// `{"for": "major:COMSCI", "seats": 20, "until": "2026-11-30T08:00:00Z"}`: as a
/// `create_section` command asks for it.
/// Read from a JSON object only (`objects.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct Reservation {
    #[serde(rename = "for")]
    pub population: Population,
    pub seats: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
}

crate::objects::objects_only!(
    Reservation,
    "a reservation: for, seats, until",
    &["for", "seats", "until"]
);

/// A reservation in force, and the students sitting in its seats (in the order they took
/// them). `holders.len() <= seats`; a member who finds every reserved seat taken sits in
/// an unreserved seat and is not a holder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservedSeats {
    #[serde(flatten)]
    pub rule: Reservation,
    #[serde(default)]
    pub holders: Vec<Arc<str>>,
}

impl ReservedSeats {
    pub fn new(rule: Reservation) -> ReservedSeats {
        ReservedSeats {
            rule,
            holders: Vec::new(),
        }
    }

    /// Seats still held for the population: reserved and nobody in them yet.
    pub fn held(&self) -> u32 {
        self.rule.seats.saturating_sub(self.holders.len() as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn populations_read_and_write_as_kind_colon_id() {
        let major: Population = "major:COMSCI".parse().unwrap();
        assert_eq!(major, Population::Major("COMSCI".into()));
        assert_eq!(major.to_string(), "major:COMSCI");
        assert!(major.admits(Some("COMSCI"), None));
        assert!(!major.admits(Some("MATH"), Some("COMSCI")));
        let standing: Population = "standing:senior".parse().unwrap();
        assert!(standing.admits(None, Some("senior")));
        for bad in ["COMSCI", "minor:X", "major:", "major:a b", ":x"] {
            assert!(bad.parse::<Population>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn a_reservation_is_its_wire_shape() {
        let text = r#"{"for":"major:COMSCI","seats":20,"until":"2026-11-30T08:00:00Z"}"#;
        let rule: Reservation = serde_json::from_str(text).unwrap();
        assert_eq!(rule.seats, 20);
        assert_eq!(serde_json::to_string(&rule).unwrap(), text);
        let mut seats = ReservedSeats::new(rule);
        seats.holders.push("s1".into());
        assert_eq!(seats.held(), 19);
    }
}
