//! Rebuilding a state from stored sections and students (`State::restore`), and the
//! existence check the server runs before a request reaches the log
//! (`State::find_unknown`).

use std::sync::Arc;

use super::{Section, State, Student};
use crate::command::{Command, Ref, SectionId, StudentId};
use crate::rules::RulesVersion;

/// A student id or section id that a request names but that does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unknown {
    Section(SectionId),
    Student(StudentId),
}

impl State {
    /// Rebuilds a state from stored sections and students. What is derived is rebuilt
    /// here, whatever the store handed back: the students' `enrolled`, `waitlisted` and
    /// `units` (from the sections' lines), each linked section's `linked_to` (from its
    /// lecture's `linked`) and the index of reservations by instant. Then every
    /// invariant is checked: a store that hands back a broken state is refused.
    pub fn restore(
        lsn: u64,
        catalog_version: u64,
        rules: RulesVersion,
        sections: Vec<Section>,
        students: Vec<Student>,
    ) -> Result<State, String> {
        let mut state = State {
            lsn,
            catalog_version,
            rules,
            ..State::default()
        };
        for mut student in students {
            student.enrolled.clear();
            student.waitlisted.clear();
            student.units = 0;
            state.students.insert(student.id.as_str().into(), Arc::new(student));
        }
        let mut lectures = Vec::new();
        for mut section in sections {
            section.linked_to = None;
            state.link_back(&section)?;
            let key: Arc<str> = section.id.as_str().into();
            for r in &section.reserved {
                state.releases.insert((r.rule.until, key.clone()));
            }
            if !section.linked.is_empty() {
                lectures.push(key.clone());
            }
            state.sections.insert(key, Arc::new(section));
        }
        for lecture in lectures {
            for part in state.sections[&*lecture].linked.clone().iter() {
                let section = state
                    .sections
                    .get_mut(part.as_str())
                    .map(Arc::make_mut)
                    .ok_or(format!("{lecture}: linked to unknown section {part}"))?;
                section.linked_to = Some(lecture.clone());
            }
        }
        state.check_invariants()?;
        Ok(state)
    }

    /// Records `section`'s seats and places in line in its students' records.
    fn link_back(&mut self, section: &Section) -> Result<(), String> {
        for (line, waiting) in [(&section.enrolled, false), (&section.waitlist, true)] {
            for id in line {
                let student = self
                    .students
                    .get_mut(&**id)
                    .map(Arc::make_mut)
                    .ok_or(format!("{}: unknown student {id}", section.id))?;
                if waiting {
                    student.waitlisted.insert(section.id.clone());
                } else {
                    student.enrolled.insert(section.id.clone());
                    student.units += section.units;
                }
            }
        }
        Ok(())
    }

    /// Finds the first id that `commands` refer to but that neither exists nor is
    /// created by an earlier command of the same list. The server refuses such a
    /// request as bad input before it reaches the log.
    pub fn find_unknown(&self, commands: &[Command]) -> Option<Unknown> {
        let mut created: Vec<Ref<'_>> = Vec::new();
        for command in commands {
            // A transfer's payee is for the rule to check, after the payer's funds (see
            // `transfer`), not a 404 that tells any sender who is a student.
            let payee = match command {
                Command::Transfer { to, .. } => Some(to.as_str()),
                _ => None,
            };
            for r in command.references() {
                if matches!(r, Ref::Student(id) if Some(id) == payee) {
                    continue;
                }
                let exists = match r {
                    Ref::Section(id) => self.sections.contains_key(id),
                    Ref::Student(id) => self.students.contains_key(id),
                };
                if !exists && !created.contains(&r) {
                    return Some(match r {
                        Ref::Section(id) => Unknown::Section(id.to_owned()),
                        Ref::Student(id) => Unknown::Student(id.to_owned()),
                    });
                }
            }
            created.extend(command.creates());
        }
        None
    }
}
