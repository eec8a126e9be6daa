//! The seats the log itself claims, outcome by outcome, without replaying the rules:
//! who holds a seat in which section and how many seats it has. The invariants check
//! uses it to name an overbooking the way the log states it (independently of the
//! replay, which cannot overbook), and the first-come-first-served check uses it to
//! know when a seat was freed. Sections the log never created are not tracked.

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
    /// or the capacity went up.
    pub freed: Vec<&'a str>,
    /// Seats taken: section, student, how.
    pub taken: Vec<(&'a str, &'a str, Taken)>,
    /// Sections holding more students than seats after the entry: section, enrolled,
    /// capacity.
    pub overbooked: Vec<(&'a str, usize, u32)>,
}

impl<'a> Claims<'a> {
    /// Takes one entry's outcome and effects into account. Within an entry the state
    /// machine frees seats before it fills them (a drop, then its promotions), so
    /// capacity is compared once, after the whole entry.
    pub(crate) fn apply(&mut self, entry: &'a LogEntry) -> SeatChanges<'a> {
        let mut changes = SeatChanges::default();
        let mut touched: Vec<&'a str> = Vec::new();
        match (&entry.command, &entry.outcome) {
            (Command::CreateSection { section, capacity, .. }, Outcome::Created) => {
                self.sections.insert(
                    section,
                    Claimed {
                        capacity: *capacity,
                        enrolled: HashSet::new(),
                    },
                );
            }
            (Command::SetCapacity { section, capacity }, Outcome::CapacitySet { .. }) => {
                if let Some(claimed) = self.sections.get_mut(section.as_str()) {
                    if *capacity > claimed.capacity {
                        changes.freed.push(section);
                    }
                    claimed.capacity = *capacity;
                    touched.push(section);
                }
            }
            (Command::Enroll { student, section, .. }, Outcome::Enrolled) => {
                self.seat(section, student, Taken::Granted, &mut changes, &mut touched);
            }
            (Command::Drop { student, section }, Outcome::Dropped { .. }) => {
                // A drop from the waitlist frees no seat: only a seated student counts.
                if let Some(claimed) = self.sections.get_mut(section.as_str())
                    && claimed.enrolled.remove(student.as_str())
                {
                    changes.freed.push(section);
                }
            }
            (Command::Swap { student, from, to }, Outcome::Swapped { .. }) => {
                if let Some(claimed) = self.sections.get_mut(from.as_str())
                    && claimed.enrolled.remove(student.as_str())
                {
                    changes.freed.push(from);
                }
                self.seat(to, student, Taken::Granted, &mut changes, &mut touched);
            }
            _ => {}
        }
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
