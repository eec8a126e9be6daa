//! The registrar's commands: sections (with their course, prerequisites, linked
//! sections and reservations), capacities, students (with major, standing and
//! completed courses), appointments, completions and permission numbers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use time::OffsetDateTime;

use super::{Section, State, Student, no_section, no_student};
use crate::command::{Command, IMPORTABLE, default_course};
use crate::meeting::schedules_overlap;
use crate::outcome::{Effects, LinkProblem, Outcome};
use crate::permission::{Permission, code_for};
use crate::reservation::ReservedSeats;

impl State {
    /// Creates a section and links its linked sections to it. A reservation whose
    /// instant has already come at creation holds nothing and is not kept.
    pub(super) fn create_section(&mut self, command: &Command, at: OffsetDateTime) -> Outcome {
        let Command::CreateSection {
            section: id,
            title,
            units,
            capacity,
            waitlist_capacity,
            meetings,
            course,
            prerequisites,
            linked,
            reserved,
        } = command
        else {
            unreachable!("create_section is dispatched here")
        };
        if self.sections.contains_key(id.as_str()) {
            return Outcome::AlreadyExists;
        }
        if let Some(refusal) = self.refuse_link(meetings, linked) {
            return refusal;
        }
        let section = Section {
            id: id.clone(),
            title: title.clone(),
            course: course.as_deref().unwrap_or_else(|| default_course(id)).into(),
            units: *units,
            capacity: *capacity,
            waitlist_capacity: *waitlist_capacity,
            meetings: meetings.clone(),
            prerequisites: prerequisites.clone().into(),
            linked: linked.clone().into(),
            linked_to: None,
            reserved: reserved
                .iter()
                .filter(|r| r.until > at)
                .cloned()
                .map(ReservedSeats::new)
                .collect(),
            enrolled: Vec::new(),
            waitlist: Vec::new(),
            version: self.lsn,
        };
        let key: Arc<str> = id.as_str().into();
        for r in &section.reserved {
            self.releases.insert((r.rule.until, key.clone()));
        }
        self.changes.sections.insert(id.clone());
        self.catalog_version = self.lsn;
        self.sections.insert(key.clone(), Arc::new(section));
        for part in linked {
            self.section_mut(part).linked_to = Some(key.clone());
        }
        Outcome::Created
    }

    /// Why one of `linked` cannot be linked to a new section meeting at `meetings`:
    /// a linked section belongs to one lecture, has no links of its own, starts empty
    /// (nobody in it took it with a lecture), and can be taken with its lecture.
    fn refuse_link(&self, meetings: &[crate::Meeting], linked: &[String]) -> Option<Outcome> {
        for id in linked {
            let Some(part) = self.sections.get(id.as_str()) else {
                return Some(no_section(id));
            };
            let reason = if !part.linked.is_empty() {
                LinkProblem::HasLinks
            } else if part.linked_to.is_some() {
                LinkProblem::LinkedElsewhere
            } else if !part.enrolled.is_empty() || !part.waitlist.is_empty() {
                LinkProblem::NotEmpty
            } else if schedules_overlap(&part.meetings, meetings) {
                LinkProblem::MeetsAtTheSameTime
            } else {
                continue;
            };
            return Some(Outcome::CannotLink {
                section: id.clone(),
                reason,
            });
        }
        None
    }

    /// Never below the enrolled, nor below the enrolled plus the seats reservations
    /// still hold; new seats go to the waitlist first.
    pub(super) fn set_capacity(&mut self, id: &str, capacity: u32, fx: &mut Effects) -> Outcome {
        let Some(section) = self.sections.get(id) else {
            return no_section(id);
        };
        let enrolled = section.enrolled.len() as u32;
        if capacity < enrolled {
            return Outcome::BelowEnrolled { enrolled };
        }
        let held = section.held();
        if capacity < enrolled + held {
            return Outcome::BelowReserved { enrolled, held };
        }
        self.section_mut(id).capacity = capacity;
        Outcome::CapacitySet {
            promoted: self.promote(id, fx),
        }
    }

    pub(super) fn create_student(&mut self, command: &Command) -> Outcome {
        let Command::CreateStudent {
            student: id,
            name,
            max_units,
            major,
            standing,
            completed,
        } = command
        else {
            unreachable!("create_student is dispatched here")
        };
        if self.students.contains_key(id.as_str()) {
            return Outcome::AlreadyExists;
        }
        self.changes.students.insert(id.clone());
        let student = Student {
            id: id.clone(),
            name: name.clone(),
            max_units: *max_units,
            appointment: None,
            balance_cents: 0,
            major: major.as_deref().map(Arc::from),
            standing: standing.as_deref().map(Arc::from),
            completed: completed.iter().map(|c| Arc::from(c.as_str())).collect(),
            enrolled: BTreeSet::new(),
            waitlisted: BTreeSet::new(),
            waiting_with: BTreeMap::new(),
            permissions: Vec::new(),
            units: 0,
            version: self.lsn,
        };
        self.students.insert(id.as_str().into(), Arc::new(student));
        Outcome::Created
    }

    pub(super) fn set_appointment(&mut self, id: &str, at: Option<OffsetDateTime>) -> Outcome {
        if !self.students.contains_key(id) {
            return no_student(id);
        }
        self.student_mut(id).appointment = at;
        Outcome::AppointmentSet
    }

    /// A completion makes nobody promotable: prerequisites are checked on joining a
    /// line, and a waiter has met them already.
    pub(super) fn record_completion(&mut self, id: &str, course: &str) -> Outcome {
        let Some(student) = self.students.get(id) else {
            return no_student(id);
        };
        if student.completed.contains(course) {
            return Outcome::AlreadyExists;
        }
        self.student_mut(id).completed.insert(course.into());
        Outcome::CompletionRecorded
    }

    /// An import's rows, in order, under this one LSN: all of them, or at the first
    /// refusal none (the state as it was, which a clone keeps in O(1)). A completion
    /// already on record is counted, not refused, so a file of completions can be
    /// imported again.
    pub(super) fn import(&mut self, at: OffsetDateTime, rows: &[Command], fx: &mut Effects) -> Outcome {
        let before = self.clone();
        let effects_before = fx.clone();
        let mut already_recorded = 0;
        for (i, row) in rows.iter().enumerate() {
            assert!(IMPORTABLE.contains(&row.kind()), "validate refuses other rows");
            match self.dispatch(at, row, fx) {
                Outcome::AlreadyExists if matches!(row, Command::RecordCompletion { .. }) => already_recorded += 1,
                refusal if refusal.is_refusal() => {
                    *self = before;
                    *fx = effects_before;
                    return Outcome::ImportRefused {
                        row: u32::try_from(i + 1).expect("validate bounds the rows"),
                        refusal: Box::new(refusal),
                    };
                }
                _ => {}
            }
        }
        Outcome::Imported {
            rows: u32::try_from(rows.len()).expect("validate bounds the rows"),
            already_recorded,
        }
    }

    /// A new code, distinct from every code the student holds.
    pub(super) fn issue_permission(&mut self, stu: &str, sec: &str) -> Outcome {
        if !self.sections.contains_key(sec) {
            return no_section(sec);
        }
        let Some(student) = self.students.get(stu) else {
            return no_student(stu);
        };
        let code = (0..)
            .map(|attempt| code_for(self.lsn, attempt))
            .find(|code| student.permissions.iter().all(|p| p.code != *code))
            .expect("codes of different attempts differ");
        let issued = self.lsn;
        self.student_mut(stu).permissions.push(Permission {
            code: code.clone(),
            section: sec.to_owned(),
            issued,
            used: None,
        });
        Outcome::Permission { code }
    }
}
