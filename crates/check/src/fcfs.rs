//! Check 5, first come, first served: a student refused a seat (`full`, `reserved`, or
//! `waitlisted`, which also means no seat was there) at LSN a must not be overtaken by
//! a different student granted the same seats (`enrolled`, or `swapped` into them) at
//! LSN b > a while no seat was freed in between (no seated student dropped or swapped
//! out, no capacity raise, no promotion, no reserved seats released). The LSN order is
//! the order of arrival at the server. One pass over the log.
//!
//! What counts as "the same seats": a request wants a section, or a lecture with one of
//! its linked sections (`want`); a grant overtakes refusals of what it was granted (the
//! pair, or either of its sections asked for alone). Reserved seats make students
//! unequal: a grant overtakes a refusal only if the granted student has no privilege
//! the refused one lacked (membership of a population with seats held, or a permission
//! number), so a major taking a seat held for majors overtakes nobody outside.
//!
//! In a log that replays, an inversion cannot happen (the refusal means no seat was
//! there, and nothing freed one), so every inversion is also a divergence for the
//! invariants check; this check says what it meant for the students.

use std::collections::HashMap;

use murphy_core::{Command, LogEntry, Outcome, Population};
use time::OffsetDateTime;

use crate::claims::{Claims, Taken};
use crate::report::Finding;

/// What a request asked for: a section, or a lecture with its linked section.
type Want<'a> = (&'a str, Option<&'a str>);

/// A refusal still waiting for the next freed seat.
#[derive(Clone, Copy, Debug)]
struct Refused<'a> {
    lsn: u64,
    student: &'a str,
    outcome: &'static str,
}

/// The refusals of one want since its last freed seat, per privilege mask: the
/// earliest, and the earliest of a different student (the witness when the earliest
/// one wins later).
#[derive(Debug, Default)]
struct Line<'a> {
    by_mask: Vec<(u64, Refused<'a>, Option<Refused<'a>>)>,
}

impl<'a> Line<'a> {
    fn refuse(&mut self, mask: u64, refused: Refused<'a>) {
        match self.by_mask.iter_mut().find(|(m, _, _)| *m == mask) {
            None => self.by_mask.push((mask, refused, None)),
            Some((_, first, other @ None)) if first.student != refused.student => *other = Some(refused),
            Some(_) => {}
        }
    }

    /// The earliest pending refusal of someone other than `student` whose privileges
    /// include all of `mask`.
    fn overtaken_by(&self, student: &str, mask: u64) -> Option<Refused<'a>> {
        self.by_mask
            .iter()
            .filter(|(m, _, _)| mask & !m == 0)
            .flat_map(|(_, first, other)| [Some(*first), *other])
            .flatten()
            .filter(|r| r.student != student)
            .min_by_key(|r| r.lsn)
    }
}

/// What the log has said so far about links, reservations in force, and students'
/// populations: all a privilege depends on.
#[derive(Default)]
struct Catalog<'a> {
    linked: HashMap<&'a str, &'a [String]>,
    lecture_of: HashMap<&'a str, &'a str>,
    reserved: HashMap<&'a str, Vec<(&'a Population, OffsetDateTime)>>,
    populations: HashMap<&'a str, (Option<&'a str>, Option<&'a str>)>,
}

impl<'a> Catalog<'a> {
    /// What a created section or student adds; an import's rows each created theirs.
    fn learn(&mut self, entry: &'a LogEntry) {
        if !matches!(entry.outcome, Outcome::Created | Outcome::Imported { .. }) {
            return;
        }
        for row in entry.command.rows() {
            self.learn_created(row, entry.at);
        }
    }

    fn learn_created(&mut self, command: &'a Command, at: OffsetDateTime) {
        match command {
            Command::CreateSection {
                section,
                linked,
                reserved,
                ..
            } => {
                self.linked.insert(section, linked);
                for part in linked {
                    self.lecture_of.insert(part, section);
                }
                let in_force = reserved.iter().filter(|r| r.until > at);
                self.reserved
                    .insert(section, in_force.map(|r| (&r.population, r.until)).collect());
            }
            Command::CreateStudent {
                student,
                major,
                standing,
                ..
            } => {
                self.populations
                    .insert(student, (major.as_deref(), standing.as_deref()));
            }
            _ => {}
        }
    }

    /// The privileges `student` has for `want`: one bit per reservation in force of
    /// each section that admits them (8 per section at most), all with a permission.
    fn mask(&self, (main, with): Want<'_>, student: &str, permitted: bool) -> u64 {
        if permitted {
            return u64::MAX;
        }
        let (major, standing) = self.populations.get(student).copied().unwrap_or_default();
        let bits = |section: &str, shift: u32| {
            let reserved = self.reserved.get(section).map_or(&[][..], |r| &r[..]);
            reserved
                .iter()
                .enumerate()
                .filter(|(_, (population, _))| population.admits(major, standing))
                .fold(0u64, |mask, (i, _)| mask | 1 << (shift + i as u32))
        };
        bits(main, 0) | with.map_or(0, |w| bits(w, 16))
    }

    /// Every want that a freed seat in `section` may now serve.
    fn wants_of(&self, section: &'a str) -> Vec<Want<'a>> {
        let mut wants = vec![(section, None)];
        if let Some(parts) = self.linked.get(section) {
            wants.extend(parts.iter().map(|p| (section, Some(p.as_str()))));
        }
        if let Some(lecture) = self.lecture_of.get(section) {
            wants.push((lecture, Some(section)));
        }
        wants
    }
}

/// The want, student and permission of a request that asked for seats.
fn asked(command: &Command) -> Option<(Want<'_>, &str, bool)> {
    match command {
        Command::Enroll {
            student,
            section,
            with,
            permission,
            ..
        } => Some(((section, with.as_deref()), student, permission.is_some())),
        Command::Swap { student, to, with, .. } => Some(((to, with.as_deref()), student, false)),
        _ => None,
    }
}

pub(crate) fn check(log: &[LogEntry]) -> Finding {
    let mut finding = Finding::new("seats granted in the log");
    let mut claims = Claims::default();
    let mut catalog = Catalog::default();
    let mut lines: HashMap<Want, Line> = HashMap::new();
    for entry in log {
        // Releases come first in an entry: its command already found the seats open.
        for release in &entry.effects.released {
            if let Some(reserved) = catalog.reserved.get_mut(release.section.as_str()) {
                reserved.retain(|(_, until)| *until != release.until);
            }
            for want in catalog.wants_of(&release.section) {
                lines.remove(&want);
            }
        }
        catalog.learn(entry);
        let refusal = match &entry.outcome {
            Outcome::Full => Some("full"),
            Outcome::Reserved { .. } => Some("reserved"),
            Outcome::Waitlisted { .. } => Some("waitlisted"),
            _ => None,
        };
        let asked = asked(&entry.command);
        if let (Some(outcome), Some((want, student, permitted))) = (refusal, asked) {
            let mask = catalog.mask(want, student, permitted);
            let refused = Refused {
                lsn: entry.lsn,
                student,
                outcome,
            };
            lines.entry(want).or_default().refuse(mask, refused);
        }
        let granted = matches!(entry.outcome, Outcome::Enrolled | Outcome::Swapped { .. });
        if let (true, Some((want, student, permitted))) = (granted, asked) {
            finding.checked += 1;
            overtakes(&lines, &catalog, want, student, permitted, entry.lsn, &mut finding);
        }
        let changes = claims.apply(entry);
        let promoted = changes.taken.iter().filter(|(_, _, how)| *how == Taken::Promoted);
        for section in changes.freed.iter().copied().chain(promoted.map(|(s, _, _)| *s)) {
            for want in catalog.wants_of(section) {
                lines.remove(&want);
            }
        }
    }
    finding
}

/// Reports the earliest refusal a grant of `want` to `student` overtook, if any: of
/// the pair itself, or of either section asked for alone.
fn overtakes(
    lines: &HashMap<Want, Line>,
    catalog: &Catalog,
    (main, with): Want<'_>,
    student: &str,
    permitted: bool,
    lsn: u64,
    finding: &mut Finding,
) {
    let mut wants = vec![(main, with)];
    if let Some(with) = with {
        wants.extend([(main, None), (with, None)]);
    }
    let earliest = wants
        .into_iter()
        .filter_map(|want| {
            let mask = catalog.mask(want, student, permitted);
            Some((want, lines.get(&want)?.overtaken_by(student, mask)?))
        })
        .min_by_key(|(_, refused)| refused.lsn);
    let Some(((section, pair), refused)) = earliest else {
        return;
    };
    let what = pair.map_or(section.to_owned(), |p| format!("{section} with {p}"));
    finding.fail(|| {
        format!(
            "{what}: {} was refused a seat ({}) at LSN {}, yet {student} was granted one at LSN {lsn} \
             with no seat freed in between",
            refused.student, refused.outcome, refused.lsn
        )
    });
}
