//! The seats the log itself claims, outcome by outcome, without replaying the rules:
//! who holds a seat in which section and how many seats it has. The invariants check
//! uses it to name an overbooking the way the log states it (independently of the
//! replay, which cannot overbook), and the first-come-first-served check uses it to
//! know when a seat was freed. Sections the log never created are not tracked. A
//! lecture and its linked section are claimed together: an `enrolled` with `with`
//! takes both, a `dropped` or `swapped` naming a `linked` section gives both back.

use std::collections::{HashMap, HashSet};

use murphy_core::{Command, LogEntry, Outcome};

#[derive(Debug)]
struct Claimed<'a> {
    capacity: u32,
    enrolled: HashSet<&'a str>,
}

/// The seating the log's outcomes add up to after each entry.
#[derive(Debug, Default)]
pub(crate) struct Claims<'a> {
    sections: HashMap<&'a str, Claimed<'a>>,
}

/// How a seat was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// By the command's own student: `enrolled`, or `swapped` into the section.
    Granted,
    /// From the waitlist, as an effect.
    Promoted,
}

/// What one entry did to the seats, by the log's own account.
#[derive(Debug, Default)]
pub(crate) struct SeatChanges<'a> {
    /// Sections where a seat became free: a seated student dropped or swapped out,
    /// the capacity went up, or reserved seats were released to all.
    pub freed: Vec<&'a str>,
    /// Seats taken: section, student, how.
    pub taken: Vec<(&'a str, &'a str, Taken)>,
    /// Sections holding more students than seats after the entry: section, enrolled,
    /// capacity.
    pub overbooked: Vec<(&'a str, usize, u32)>,
}

impl<'a> Claims<'a> {
    /// A section created (by its own entry or an import's row) starts empty.
    fn create(&mut self, command: &'a Command) {
        if let Command::CreateSection { section, capacity, .. } = command {
            self.sections.insert(
                section,
                Claimed {
                    capacity: *capacity,
                    enrolled: HashSet::new(),
                },
            );
        }
    }

    /// Takes one entry's outcome and effects into account. Within an entry the state
    /// machine frees seats before it fills them (a drop, then its promotions), so
    /// capacity is compared once, after the whole entry.
    pub(crate) fn apply(&mut self, entry: &'a LogEntry) -> SeatChanges<'a> {
        let mut changes = SeatChanges::default();
        let mut touched: Vec<&'a str> = Vec::new();
        match (&entry.command, &entry.outcome) {
            (Command::CreateSection { .. }, Outcome::Created) => self.create(&entry.command),
            (Command::Import { rows }, Outcome::Imported { .. }) => rows.iter().for_each(|row| self.create(row)),
            (Command::SetCapacity { section, capacity }, Outcome::CapacitySet { .. }) => {
                if let Some(claimed) = self.sections.get_mut(section.as_str()) {
                    if *capacity > claimed.capacity {
                        changes.freed.push(section);
                    }
                    claimed.capacity = *capacity;
                    touched.push(section);
                }
            }
            (
                Command::Enroll {
                    student, section, with, ..
                },
                Outcome::Enrolled,
            ) => {
                for id in std::iter::once(section).chain(with) {
                    self.seat(id, student, Taken::Granted, &mut changes, &mut touched);
                }
            }
            (Command::Drop { student, section }, Outcome::Dropped { linked, .. }) => {
                // A drop from the waitlist frees no seat: only a seated student counts.
                for id in std::iter::once(section).chain(linked) {
                    self.unseat(id, student, &mut changes);
                }
            }
            (
                Command::Swap {
                    student,
                    from,
                    to,
                    with,
                },
                Outcome::Swapped { linked, .. },
            ) => {
                for id in std::iter::once(from).chain(linked) {
                    self.unseat(id, student, &mut changes);
                }
                for id in std::iter::once(to).chain(with) {
                    self.seat(id, student, Taken::Granted, &mut changes, &mut touched);
                }
            }
            _ => {}
        }
        changes
            .freed
            .extend(entry.effects.released.iter().map(|r| r.section.as_str()));
        for promotion in &entry.effects.promoted {
            self.seat(
                &promotion.section,
                &promotion.student,
                Taken::Promoted,
                &mut changes,
                &mut touched,
            );
        }
        for section in touched {
            let claimed = &self.sections[section];
            if claimed.enrolled.len() > claimed.capacity as usize
                && !changes.overbooked.iter().any(|(s, _, _)| *s == section)
            {
                changes
                    .overbooked
                    .push((section, claimed.enrolled.len(), claimed.capacity));
            }
        }
        changes
    }

    fn unseat(&mut self, section: &'a str, student: &str, changes: &mut SeatChanges<'a>) {
        if let Some(claimed) = self.sections.get_mut(section)
            && claimed.enrolled.remove(student)
        {
            changes.freed.push(section);
        }
    }

    fn seat(
        &mut self,
        section: &'a str,
        student: &'a str,
        how: Taken,
        changes: &mut SeatChanges<'a>,
        touched: &mut Vec<&'a str>,
    ) {
        changes.taken.push((section, student, how));
        if let Some(claimed) = self.sections.get_mut(section) {
            claimed.enrolled.insert(student);
            touched.push(section);
        }
    }
}
