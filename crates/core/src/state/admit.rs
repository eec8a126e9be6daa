//! May this student take these seats now? The rules that look without changing
//! anything: a permission number's validity, prerequisites, time conflicts and units
//! for a move (sections left and entered at once), and whether a seat is there for this
//! student given the reservations in force. Waitlist promotion asks the same questions
//! (`unpromotable`), so a line and a newcomer are judged alike.

use super::{Section, State, Student};
use crate::meeting::schedules_overlap;
use crate::outcome::Outcome;

impl State {
    /// Whether `code` is an unused permission number of `student` for `section`.
    pub(super) fn permits(student: &Student, section: &str, code: &str) -> bool {
        student
            .permissions
            .iter()
            .any(|p| p.code == code && p.section == section && p.used.is_none())
    }

    /// The first course that a section being entered requires and the student has not
    /// completed, in the order the sections and their prerequisites are listed.
    pub(super) fn missing_prerequisite(&self, student: &Student, enter: &[String]) -> Option<Outcome> {
        enter
            .iter()
            .flat_map(|id| self.sections[id.as_str()].prerequisites.iter())
            .find(|course| !student.completed.contains(course.as_str()))
            .map(|course| Outcome::MissingPrerequisite { course: course.clone() })
    }

    /// Would `student` fit the sections of `enter` once those of `leave` are dropped?
    /// Time conflicts (with what they keep, and among the sections entered) are checked
    /// before units, as docs/DESIGN.md §3 orders them.
    pub(super) fn fits(&self, student: &Student, enter: &[String], leave: &[String]) -> Result<(), Outcome> {
        let entering: Vec<&Section> = enter.iter().map(|id| &*self.sections[id.as_str()]).collect();
        for id in &student.enrolled {
            if leave.contains(id) {
                continue;
            }
            let kept = &self.sections[id.as_str()];
            if entering.iter().any(|e| schedules_overlap(&kept.meetings, &e.meetings)) {
                return Err(Outcome::TimeConflict { with: id.clone() });
            }
        }
        if let [first, second] = entering[..]
            && schedules_overlap(&first.meetings, &second.meetings)
        {
            return Err(Outcome::TimeConflict { with: first.id.clone() });
        }
        let left: u32 = leave.iter().map(|id| self.sections[id.as_str()].units).sum();
        let units = student.units - left + entering.iter().map(|s| s.units).sum::<u32>();
        if units > student.max_units {
            return Err(Outcome::UnitLimit {
                units,
                max_units: student.max_units,
            });
        }
        Ok(())
    }

    /// A seat in every section of `enter` for this student, or why not: `full` when any
    /// has no seat at all, else `reserved` when the only seats left are held for a
    /// population the student is not in.
    pub(super) fn seats_for(&self, student: &Student, enter: &[String], permitted: bool) -> Result<(), Outcome> {
        let mut refusal = None;
        for id in enter {
            match seat_for(&self.sections[id.as_str()], student, permitted) {
                Ok(()) => {}
                Err(Outcome::Full) => return Err(Outcome::Full),
                Err(other) => refusal = refusal.or(Some(other)),
            }
        }
        refusal.map_or(Ok(()), Err)
    }

    /// Under rules that allow one section per course: the section of the course being
    /// entered that the student already holds or waits for, besides those of `enter`
    /// and `leave`. A holding is a lecture (or a section without links) with its linked
    /// section, so only such sections count; entering a linked section alone (a swap
    /// within one lecture) keeps the holding and is never a duplicate.
    pub(super) fn duplicate_course(&self, student: &Student, enter: &[String], leave: &[String]) -> Option<Outcome> {
        if !self.rules.one_section_per_course() {
            return None;
        }
        let entering = &self.sections[enter.first()?.as_str()];
        if entering.linked_to.is_some() {
            return None;
        }
        let held = student
            .enrolled
            .iter()
            .chain(&student.waitlisted)
            .filter(|id| !enter.contains(id) && !leave.contains(id))
            .map(|id| &self.sections[id.as_str()])
            .find(|s| s.linked_to.is_none() && s.course == entering.course)?;
        Some(Outcome::DuplicateCourse {
            course: entering.course.to_string(),
            held: held.id.clone(),
        })
    }

    /// Why a waitlisted student cannot take a free seat (and, for a lecture, a seat in
    /// the linked section they chose) now, if they cannot. Their appointment and
    /// prerequisites are not rechecked: both held when they joined the line, and
    /// neither can be lost. One section per course is: a student who joined two lines
    /// of a course, or a line of a course they hold, under older rules is skipped.
    pub(super) fn unpromotable(&self, stu: &str, sec: &str) -> Option<Outcome> {
        let student = &self.students[stu];
        if student.balance_cents < 0 {
            return Some(Outcome::Hold {
                balance_cents: student.balance_cents,
            });
        }
        let enter = pair(sec, student.waiting_with.get(sec));
        if let Some(refusal) = self.duplicate_course(student, &enter, &[]) {
            return Some(refusal);
        }
        self.fits(student, &enter, &[])
            .and_then(|()| self.seats_for(student, &enter, false))
            .err()
    }
}

/// The sections a waiter takes when promoted: the section and the linked one chosen.
pub(super) fn pair(sec: &str, with: Option<&String>) -> Vec<String> {
    let mut enter = vec![sec.to_owned()];
    enter.extend(with.cloned());
    enter
}

/// Is a seat of `section` there for `student`? A member of a population with seats
/// still held for it may take one of those; anyone may take an unreserved seat; a
/// permission number opens a reserved seat too. Never past the capacity.
pub(super) fn seat_for(section: &Section, student: &Student, permitted: bool) -> Result<(), Outcome> {
    if section.free() == 0 {
        return Err(Outcome::Full);
    }
    if permitted || reserved_slot(section, student).is_some() {
        return Ok(());
    }
    if section.enrolled.len() as u32 + section.held() < section.capacity {
        return Ok(());
    }
    let until = section
        .reserved
        .iter()
        .filter(|r| r.held() > 0)
        .map(|r| r.rule.until)
        .min()
        .expect("a section with free seats and none unreserved holds some");
    Err(Outcome::Reserved { until })
}

/// The first reservation of `section` with seats still held for a population the
/// student belongs to.
pub(super) fn reserved_slot(section: &Section, student: &Student) -> Option<usize> {
    let (major, standing) = student.population();
    section
        .reserved
        .iter()
        .position(|r| r.held() > 0 && r.rule.population.admits(major, standing))
}
