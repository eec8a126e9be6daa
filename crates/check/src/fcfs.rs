//! Check 5, first come, first served: within a section, a student refused a seat
//! (`full`, or `waitlisted`, which also means no seat was free) at LSN a must not be
//! overtaken by a different student granted a seat there (`enrolled`, or `swapped`
//! into it) at LSN b > a while no seat was freed in between (no seated student dropped
//! or swapped out, no capacity raise, no promotion). The LSN order is the order of
//! arrival at the server. One pass over the log, O(1) per entry and section.
//!
//! In a log that replays, an inversion cannot happen (the refusal means the section
//! was full, and nothing freed a seat), so every inversion is also a divergence for
//! the invariants check; this check says what it meant for the students.

use std::collections::HashMap;

use murphy_core::{Command, LogEntry, Outcome};

use crate::claims::{Claims, Taken};
use crate::report::Finding;

/// A refusal still waiting for the next freed seat.
#[derive(Clone, Copy, Debug)]
struct Refused<'a> {
    lsn: u64,
    student: &'a str,
    outcome: &'static str,
}

/// The refusals of one section since its last freed seat: the earliest, and the
/// earliest of a different student (the witness when the earliest one wins later).
#[derive(Debug, Default)]
struct Line<'a> {
    first: Option<Refused<'a>>,
    first_other: Option<Refused<'a>>,
}

impl<'a> Line<'a> {
    fn refuse(&mut self, refused: Refused<'a>) {
        match self.first {
            None => self.first = Some(refused),
            Some(first) if self.first_other.is_none() && first.student != refused.student => {
                self.first_other = Some(refused)
            }
            Some(_) => {}
        }
    }

    /// The earliest pending refusal of someone other than `student`.
    fn overtaken_by(&self, student: &str) -> Option<Refused<'a>> {
        [self.first, self.first_other]
            .into_iter()
            .flatten()
            .find(|r| r.student != student)
    }
}

pub(crate) fn check(log: &[LogEntry]) -> Finding {
    let mut finding = Finding::new("seats granted in the log");
    let mut claims = Claims::default();
    let mut lines: HashMap<&str, Line> = HashMap::new();
    for entry in log {
        let refused = match (&entry.command, &entry.outcome) {
            (Command::Enroll { student, section, .. }, Outcome::Full) => Some((section, student, "full")),
            (Command::Enroll { student, section, .. }, Outcome::Waitlisted { .. }) => {
                Some((section, student, "waitlisted"))
            }
            (Command::Swap { student, to, .. }, Outcome::Full) => Some((to, student, "full")),
            _ => None,
        };
        if let Some((section, student, outcome)) = refused {
            lines.entry(section).or_default().refuse(Refused {
                lsn: entry.lsn,
                student,
                outcome,
            });
        }
        let changes = claims.apply(entry);
        for &(section, student, how) in &changes.taken {
            if how != Taken::Granted {
                continue;
            }
            finding.checked += 1;
            let Some(refused) = lines.get(section).and_then(|line| line.overtaken_by(student)) else {
                continue;
            };
            finding.fail(|| {
                format!(
                    "{section}: {} was refused a seat ({}) at LSN {}, yet {student} was granted one at LSN {} \
                     with no seat freed in between",
                    refused.student, refused.outcome, refused.lsn, entry.lsn
                )
            });
        }
        let promoted = changes.taken.iter().filter(|(_, _, how)| *how == Taken::Promoted);
        for section in changes
            .freed
            .iter()
            .copied()
            .chain(promoted.map(|(section, _, _)| *section))
        {
            lines.remove(section);
        }
    }
    finding
}
