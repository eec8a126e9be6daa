//! Rules versions. The registrar's rules change between terms; the log must not. Every
//! log entry records the version of the rules it was decided under, and the state
//! machine keeps every released version's decisions reachable: replay applies each
//! entry under its own version, so an old log replays to its old answers on a new
//! binary. The version new commands are decided under is the cluster's (`State::rules`),
//! moved forward only by the registrar's `upgrade_rules` command, once every node runs
//! a binary that knows the new version (see docs/DESIGN.md §7).
//!
//! A version is a named constant with a line of what it changed (`RELEASED`); a rule it
//! introduced is a predicate here (`one_section_per_course`), asked where the rule is
//! checked, so the difference between versions is written once.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A version of the rules. Any number deserializes (a log may come from a newer
/// binary); `is_known` says whether this build can decide under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RulesVersion(u32);

impl RulesVersion {
    /// The rules murphy was first released with; a log entry that records no version
    /// was decided under these.
    pub const V1: RulesVersion = RulesVersion(1);
    /// No two sections of one course: a student holds or waits for one section of a
    /// course at a time (Banner's duplicate-course check).
    pub const V2: RulesVersion = RulesVersion(2);
    /// The registrar's `import` (many rows created at once, all or nothing) and the
    /// waiting room (a registration window, during which a student's write needs an
    /// admission, `line.rs`). Neither decides anything of the rules before it; their
    /// commands are new to the log.
    pub const V3: RulesVersion = RulesVersion(3);
    /// The newest version this build decides under: where a new log starts.
    pub const LATEST: RulesVersion = RulesVersion::V3;

    /// Every version this build knows, oldest first, with what it changed.
    pub const RELEASED: &'static [(RulesVersion, &'static str)] = &[
        (
            RulesVersion::V1,
            "the rules as first released: seats, waitlists, holds, appointments, time conflicts, units, \
             linked sections, prerequisites, permission numbers, reservations",
        ),
        (
            RulesVersion::V2,
            "no two sections of one course: an enroll, waitlist join or swap that would leave a student \
             holding or waiting for two sections of a course is refused (duplicate_course), and a waiter \
             it would break is skipped",
        ),
        (
            RulesVersion::V3,
            "the import command: a file's sections, students or completions created in one entry, all of \
             them or, at the first refused row, none (import_refused); and the waiting room: open_line, \
             close_line and advance_line in the log; while a registration window is open, a student's write \
             needs an admission pass",
        ),
    ];

    /// The version numbered `number`, known to this build or not.
    pub const fn new(number: u32) -> RulesVersion {
        RulesVersion(number)
    }

    pub const fn number(self) -> u32 {
        self.0
    }

    /// Whether this build can decide under this version: every released one, none
    /// newer than `LATEST`.
    pub fn is_known(self) -> bool {
        RulesVersion::V1 <= self && self <= RulesVersion::LATEST
    }

    /// What the version changed, if this build knows it.
    pub fn changed(self) -> Option<&'static str> {
        RulesVersion::RELEASED
            .iter()
            .find(|(version, _)| *version == self)
            .map(|(_, changed)| *changed)
    }

    /// V2: a student may hold or wait for only one section of a course (a lecture and
    /// its linked section count as one).
    pub(crate) fn one_section_per_course(self) -> bool {
        self >= RulesVersion::V2
    }
}

impl Default for RulesVersion {
    /// A log entry that records no version was written before versions were recorded.
    fn default() -> Self {
        RulesVersion::V1
    }
}

impl fmt::Display for RulesVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a log entry cannot be replayed on this state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// The entry was decided under rules newer than this binary knows.
    Newer { log: RulesVersion, known: RulesVersion },
    /// The entry records another version than the log's current one: versions move
    /// only by an `upgrade_rules` entry, and never back.
    Version {
        lsn: u64,
        entry: RulesVersion,
        current: RulesVersion,
    },
    /// Replayed, the entry lands at another LSN, or with another outcome or effects,
    /// than the log says. The state has applied it.
    Diverged { lsn: u64, applied: Box<crate::Applied> },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Newer { log, known } => write!(f, "{}", newer_than_known(*log, *known)),
            ReplayError::Version { lsn, entry, current } => write!(
                f,
                "lsn {lsn} records rules version {entry}, but the log is at version {current} there; \
                 versions move only by an upgrade_rules entry"
            ),
            ReplayError::Diverged { lsn, applied } => write!(
                f,
                "replay of lsn {lsn} gave lsn {} {:?} {:?}, which the log does not say",
                applied.lsn, applied.outcome, applied.effects
            ),
        }
    }
}

impl std::error::Error for ReplayError {}

/// The one line a binary says when the log is at rules it does not know: both
/// versions, and the fix.
pub fn newer_than_known(log: RulesVersion, known: RulesVersion) -> String {
    format!(
        "the log is at rules version {log}, but this murphy knows rules up to version {known}: \
         run a murphy that knows version {log} (an upgrade, once finalized, cannot be rolled back)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every version up to `LATEST` is released with a line, in order, and no other.
    #[test]
    fn every_known_version_is_listed_once_in_order() {
        let numbers: Vec<u32> = RulesVersion::RELEASED.iter().map(|(v, _)| v.number()).collect();
        let expected: Vec<u32> = (1..=RulesVersion::LATEST.number()).collect();
        assert_eq!(numbers, expected);
        assert!(
            RulesVersion::RELEASED
                .iter()
                .all(|(v, line)| v.is_known() && !line.is_empty())
        );
        assert!(!RulesVersion::new(0).is_known());
        assert!(!RulesVersion::new(RulesVersion::LATEST.number() + 1).is_known());
    }

    /// The design document lists every released version with the line it has here.
    #[test]
    fn the_design_document_lists_every_version() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/DESIGN.md");
        let design = std::fs::read_to_string(path).expect("docs/DESIGN.md is in the repository");
        for (version, changed) in RulesVersion::RELEASED {
            let row = format!("| {version} | {changed} |");
            assert!(design.contains(&row), "docs/DESIGN.md lacks the row {row}");
        }
    }
}
