//! The invariants of docs/DESIGN.md §5 (guarantee 1) around what one log entry
//! touched, in time proportional to the entry rather than to the state, and the
//! schedule of the full `State::check_invariants` sweeps that complement them.
//!
//! Why both: `check_invariants` visits every section and student, and for each seated
//! student scans the section's list (about the sum of the squares of the section
//! sizes). After every one of a million entries that is quadratic. So after each entry
//! only the sections and students it touched are checked, by core's predicates for one
//! entity (`State::check_section_alone`, `State::check_student_alone`: capacity with
//! reserved seats, waitlist bound, units, time conflicts, nobody both seated and
//! waiting, linked sections, prerequisites, balance range, versions), so `check` knows
//! every rule core knows and restates none. The rules that need a whole line (nobody
//! eligible waits while a seat is free, every seat mirrored) are left to the full
//! sweep, which runs whenever at least as many entries have passed as the last sweep
//! cost, and once at the end: its total cost stays within a constant factor of the
//! replay's, whatever the log's size.

use murphy_core::command::Ref;
use murphy_core::{LogEntry, Outcome, State};

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

    /// Checks the touched sections and students by core's own predicates for one
    /// entity (`State::check_section_alone`, `check_student_alone`); the first broken
    /// rule is the error.
    pub(crate) fn check(&self, state: &State) -> Result<(), String> {
        for id in &self.sections {
            state.check_section_alone(id)?;
        }
        for id in &self.students {
            state.check_student_alone(id)?;
        }
        Ok(())
    }
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
