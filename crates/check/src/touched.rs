//! The invariants of docs/DESIGN.md §5 (guarantee 1) around what one log entry
//! touched, in time proportional to the entry rather than to the state, and the
//! schedule of the full `State::check_invariants` sweeps that complement them.
//!
//! Why both: `check_invariants` visits every section and student, and for each seated
//! student scans the section's list (about the sum of the squares of the section
//! sizes). After every one of a million entries that is quadratic. So after each entry
//! only the sections and students it touched are checked, with the public accessors:
//! capacity (reserved seats still held included), waitlist bound, units (summed again
//! from the sections), time conflicts, nobody both seated and waiting, a lecture held
//! with exactly one of its linked sections and a linked section only with its lecture,
//! no prerequisite missing without a used permission number, balance range, versions.
//! The rules that need a whole
//! line (nobody eligible waits while a seat is free, every link mirrored) are left to
//! the full sweep, which runs whenever at least as many entries have passed as the
//! last sweep cost, and once at the end: its total cost stays within a constant factor
//! of the replay's, whatever the log's size.

use murphy_core::command::Ref;
use murphy_core::meeting::schedules_overlap;
use murphy_core::state::{BALANCE_CENTS_MAX, OVERDRAFT_CENTS_MAX};
use murphy_core::{LogEntry, Outcome, Section, State, Student};

/// The fewest entries between two full sweeps, so a small state is not swept after
/// every entry.
const FULL_CHECK_ENTRIES_MIN: u64 = 4_096;

/// The sections and students one entry may have changed: those its command names or
/// creates, and those its promotions seated.
#[derive(Debug, Default)]
pub(crate) struct Touched<'a> {
    pub sections: Vec<&'a str>,
    pub students: Vec<&'a str>,
}

impl<'a> Touched<'a> {
    pub(crate) fn by(entry: &'a LogEntry) -> Self {
        let mut touched = Touched::default();
        let refs = entry.command.references().into_iter().chain(entry.command.creates());
        for r in refs {
            match r {
                Ref::Section(id) => touched.section(id),
                Ref::Student(id) => touched.student(id),
            }
        }
        if let Outcome::Dropped { linked: Some(id), .. } | Outcome::Swapped { linked: Some(id), .. } = &entry.outcome {
            touched.section(id);
        }
        for release in &entry.effects.released {
            touched.section(&release.section);
        }
        for promotion in &entry.effects.promoted {
            touched.section(&promotion.section);
            touched.student(&promotion.student);
        }
        touched
    }

    fn section(&mut self, id: &'a str) {
        if !self.sections.contains(&id) {
            self.sections.push(id);
        }
    }

    fn student(&mut self, id: &'a str) {
        if !self.students.contains(&id) {
            self.students.push(id);
        }
    }

    /// Checks the touched sections and students; the first broken rule is the error.
    pub(crate) fn check(&self, state: &State) -> Result<(), String> {
        for id in &self.sections {
            let Some(section) = state.section(id) else { continue };
            if section.enrolled.len() > section.capacity as usize {
                return Err(format!(
                    "{id} holds {} students for {} seats",
                    section.enrolled.len(),
                    section.capacity
                ));
            }
            if section.enrolled.len() + section.held() as usize > section.capacity as usize {
                return Err(format!(
                    "{id} holds {} students and keeps {} seats for reservations, in {} seats",
                    section.enrolled.len(),
                    section.held(),
                    section.capacity
                ));
            }
            if section.waitlist.len() > section.waitlist_capacity as usize {
                return Err(format!(
                    "{id}'s waitlist holds {} for {} places",
                    section.waitlist.len(),
                    section.waitlist_capacity
                ));
            }
            if section.version > state.lsn() {
                return Err(format!(
                    "{id}'s version {} is ahead of LSN {}",
                    section.version,
                    state.lsn()
                ));
            }
        }
        for id in &self.students {
            let Some(student) = state.student(id) else { continue };
            let mut seated = Vec::with_capacity(student.enrolled.len());
            for sec in &student.enrolled {
                let section = state
                    .section(sec)
                    .ok_or_else(|| format!("{id} is enrolled in {sec}, which does not exist"))?;
                if student.waitlisted.contains(sec) {
                    return Err(format!("{id} is both enrolled and waitlisted in {sec}"));
                }
                if let Some(other) = seated
                    .iter()
                    .find(|o: &&&murphy_core::Section| schedules_overlap(&o.meetings, &section.meetings))
                {
                    return Err(format!(
                        "{id} is enrolled in {} and {sec}, which meet at the same time",
                        other.id
                    ));
                }
                check_registrar_rules(state, student, section)?;
                seated.push(section);
            }
            let units: u64 = seated.iter().map(|s| u64::from(s.units)).sum();
            if units != u64::from(student.units) {
                return Err(format!(
                    "{id} is said to have {} units, but their sections add up to {units}",
                    student.units
                ));
            }
            if units > u64::from(student.max_units) {
                return Err(format!(
                    "{id} has {units} units, over their limit of {}",
                    student.max_units
                ));
            }
            if let Some(sec) = student.waitlisted.iter().find(|s| state.section(s).is_none()) {
                return Err(format!("{id} waits for {sec}, which does not exist"));
            }
            if student.balance_cents < -OVERDRAFT_CENTS_MAX || student.balance_cents > BALANCE_CENTS_MAX {
                return Err(format!(
                    "{id}'s balance {} cents is out of range",
                    student.balance_cents
                ));
            }
            if student.version > state.lsn() {
                return Err(format!(
                    "{id}'s version {} is ahead of LSN {}",
                    student.version,
                    state.lsn()
                ));
            }
        }
        Ok(())
    }
}

/// A lecture is held with exactly one of its linked sections, a linked section only
/// with its lecture, and a section missing a prerequisite only by a used permission
/// number (for it or its lecture).
fn check_registrar_rules(state: &State, student: &Student, section: &Section) -> Result<(), String> {
    let (id, sec) = (&student.id, &section.id);
    let parts = section.linked.iter().filter(|p| student.enrolled.contains(*p)).count();
    if !section.linked.is_empty() && parts != 1 {
        return Err(format!("{id} holds {sec} with {parts} of its linked sections, not 1"));
    }
    if let Some(lecture) = &section.linked_to
        && !student.enrolled.contains(&**lecture)
    {
        return Err(format!(
            "{id} holds {sec} without {lecture}, the lecture it is linked to"
        ));
    }
    let missing = section
        .prerequisites
        .iter()
        .find(|c| !student.completed.contains(c.as_str()));
    let permitted = || {
        student.permissions.iter().any(|p| {
            p.used.is_some_and(|lsn| lsn <= state.lsn())
                && (p.section == *sec || section.linked_to.as_deref() == Some(p.section.as_str()))
        })
    };
    if let Some(course) = missing
        && !permitted()
    {
        return Err(format!(
            "{id} is enrolled in {sec} without its prerequisite {course} and without a permission number"
        ));
    }
    Ok(())
}

/// When to run the next full sweep: after as many entries as the last one cost.
#[derive(Debug)]
pub(crate) struct FullChecks {
    since: u64,
    every: u64,
}

impl Default for FullChecks {
    fn default() -> Self {
        FullChecks {
            since: 0,
            every: FULL_CHECK_ENTRIES_MIN,
        }
    }
}

impl FullChecks {
    /// Counts one entry; true when a sweep is due.
    pub(crate) fn tick(&mut self) -> bool {
        self.since += 1;
        self.since >= self.every
    }

    /// Runs a sweep now and schedules the next one.
    pub(crate) fn run(&mut self, state: &State) -> Result<(), String> {
        self.since = 0;
        self.every = sweep_cost(state).max(FULL_CHECK_ENTRIES_MIN);
        state.check_invariants()
    }
}

/// About the work of `check_invariants`: every student, and for every section its
/// lines plus, for each seated student, a scan of the section's list.
fn sweep_cost(state: &State) -> u64 {
    let students = state.students().count() as u64;
    let sections: u64 = state
        .sections()
        .map(|s| {
            let (enrolled, waiting) = (s.enrolled.len() as u64, s.waitlist.len() as u64);
            1 + enrolled + waiting + enrolled * enrolled
        })
        .sum();
    students + sections
}
