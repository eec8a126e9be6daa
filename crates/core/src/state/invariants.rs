//! Every invariant of DESIGN section 5.1 and of the registrar's rules, checked over the
//! whole state: run after each command in debug builds, after a restore, by `murphy
//! check`'s sweeps and by the property tests.

use std::collections::BTreeSet;

use super::money::{BALANCE_CENTS_MAX, OVERDRAFT_CENTS_MAX};
use super::{Section, State, Student};
use crate::meeting::schedules_overlap;

impl State {
    pub fn check_invariants(&self) -> Result<(), String> {
        for section in self.sections.values() {
            self.check_section(section)?;
            self.check_links(section)?;
            self.check_reserved(section)?;
        }
        for student in self.students.values() {
            self.check_student(student)?;
            self.check_registrar_rules(student)?;
        }
        self.line.as_ref().map_or(Ok(()), |window| window.check())
    }

    fn check_section(&self, section: &Section) -> Result<(), String> {
        let id = &section.id;
        if section.enrolled.len() as u32 > section.capacity {
            return Err(format!(
                "{id}: {} enrolled > capacity {}",
                section.enrolled.len(),
                section.capacity
            ));
        }
        if section.waitlist.len() as u32 > section.waitlist_capacity {
            return Err(format!("{id}: waitlist longer than {}", section.waitlist_capacity));
        }
        if section.version > self.lsn {
            return Err(format!(
                "{id}: version {} is ahead of lsn {}",
                section.version, self.lsn
            ));
        }
        let mut seen = BTreeSet::new();
        for stu in section.enrolled.iter().chain(&section.waitlist) {
            if !seen.insert(stu) {
                return Err(format!("{id}: {stu} appears twice among enrolled and waitlisted"));
            }
            let Some(student) = self.students.get(&**stu) else {
                return Err(format!("{id}: unknown student {stu}"));
            };
            let listed = student.enrolled.contains(id) || student.waitlisted.contains(id);
            if !listed {
                return Err(format!("{id}: {stu} is not linked back to the section"));
            }
        }
        // Nobody jumps the line: `unpromotable` is `None` only when a seat (and the
        // chosen linked seat) is there for the waiter.
        if let Some(stu) = section.waitlist.iter().find(|s| self.unpromotable(s, id).is_none()) {
            return Err(format!("{id}: a seat is free while {stu} waits eligible in line"));
        }
        Ok(())
    }

    /// A lecture's linked sections exist and name it back; a linked section is entered
    /// only with its lecture, so it has no line of its own.
    fn check_links(&self, section: &Section) -> Result<(), String> {
        let id = &section.id;
        for part in section.linked.iter() {
            let linked_back = self
                .sections
                .get(part.as_str())
                .is_some_and(|p| p.linked_to.as_deref() == Some(id.as_str()) && p.linked.is_empty());
            if !linked_back {
                return Err(format!("{id}: linked section {part} does not name it back"));
            }
        }
        if let Some(lecture) = &section.linked_to {
            let listed = self.sections.get(&**lecture).is_some_and(|l| l.linked.contains(id));
            if !listed || !section.waitlist.is_empty() {
                return Err(format!(
                    "{id}: linked to {lecture}, which does not list it, or has a line"
                ));
            }
        }
        Ok(())
    }

    /// Enrolled plus the seats still held stay within the capacity (a reserved seat is
    /// never given to another); every holder sits in the section, holds one reserved
    /// seat, and belongs to the population or used a permission number for it.
    fn check_reserved(&self, section: &Section) -> Result<(), String> {
        let id = &section.id;
        let (enrolled, held) = (section.enrolled.len() as u32, section.held());
        if enrolled + held > section.capacity {
            return Err(format!(
                "{id}: {enrolled} enrolled and {held} seats held > capacity {}",
                section.capacity
            ));
        }
        let mut holders = BTreeSet::new();
        for r in &section.reserved {
            if !self.releases.contains(&(r.rule.until, id.as_str().into())) {
                return Err(format!(
                    "{id}: the reservation for {} is not scheduled for release",
                    r.rule.population
                ));
            }
            if r.holders.len() as u32 > r.rule.seats {
                return Err(format!("{id}: more holders than seats for {}", r.rule.population));
            }
            for stu in &r.holders {
                let student = self.students.get(&**stu);
                let (major, standing) = student.map_or((None, None), |s| s.population());
                let entitled =
                    r.rule.population.admits(major, standing) || student.is_some_and(|s| used_permission(s, section));
                if !holders.insert(stu) || !section.enrolled.contains(stu) || !entitled {
                    return Err(format!("{id}: {stu} holds a seat reserved for {}", r.rule.population));
                }
            }
        }
        Ok(())
    }

    fn check_student(&self, student: &Student) -> Result<(), String> {
        let id = &student.id;
        let mut units = 0;
        let enrolled: Vec<&Section> = student.enrolled.iter().filter_map(|s| self.section(s)).collect();
        if enrolled.len() != student.enrolled.len() {
            return Err(format!("{id}: enrolled in an unknown section"));
        }
        for (i, section) in enrolled.iter().enumerate() {
            if !section.enrolled.iter().any(|s| **s == **id) || student.waitlisted.contains(&section.id) {
                return Err(format!(
                    "{id}: enrollment in {} not mirrored or also waitlisted",
                    section.id
                ));
            }
            units += section.units;
            if let Some(other) = enrolled[i + 1..]
                .iter()
                .find(|o| schedules_overlap(&o.meetings, &section.meetings))
            {
                return Err(format!("{id}: {} and {} meet at the same time", section.id, other.id));
            }
        }
        for sec in &student.waitlisted {
            if !self
                .sections
                .get(sec.as_str())
                .is_some_and(|s| s.waitlist.iter().any(|w| **w == **id))
            {
                return Err(format!("{id}: waitlisted in {sec} but not in its line"));
            }
        }
        if units != student.units || units > student.max_units {
            return Err(format!(
                "{id}: units {} (sum {units}) vs max {}",
                student.units, student.max_units
            ));
        }
        if student.balance_cents < -OVERDRAFT_CENTS_MAX || student.balance_cents > BALANCE_CENTS_MAX {
            return Err(format!("{id}: balance {} out of range", student.balance_cents));
        }
        if student.version > self.lsn {
            return Err(format!("{id}: version ahead of lsn"));
        }
        Ok(())
    }

    /// A lecture is held with exactly one of its linked sections and a linked section
    /// only with its lecture; a lecture's waiter has chosen one of its linked sections;
    /// no prerequisite is missing without a used permission number; permission
    /// numbers name sections that exist and were used, if at all, in the past.
    fn check_registrar_rules(&self, student: &Student) -> Result<(), String> {
        let id = &student.id;
        for sec in &student.enrolled {
            let section = &self.sections[sec.as_str()];
            let parts = section.linked.iter().filter(|p| student.enrolled.contains(*p)).count();
            if !section.linked.is_empty() && parts != 1 {
                return Err(format!("{id}: holds {sec} with {parts} of its linked sections, not 1"));
            }
            if let Some(lecture) = &section.linked_to
                && !student.enrolled.contains(&**lecture)
            {
                return Err(format!("{id}: holds {sec} without {lecture}, which it is linked to"));
            }
            let missing = section
                .prerequisites
                .iter()
                .find(|c| !student.completed.contains(c.as_str()));
            if let Some(course) = missing
                && !used_permission(student, section)
            {
                return Err(format!(
                    "{id}: in {sec} without {course} and without a permission number"
                ));
            }
        }
        for sec in &student.waitlisted {
            let linked = &self.sections[sec.as_str()].linked;
            let chosen = student.waiting_with.get(sec);
            if chosen.is_some_and(|c| !linked.contains(c)) || (chosen.is_none() != linked.is_empty()) {
                return Err(format!("{id}: waits for {sec} with {chosen:?}, not one of {linked:?}"));
            }
        }
        if let Some(sec) = student.waiting_with.keys().find(|s| !student.waitlisted.contains(*s)) {
            return Err(format!(
                "{id}: a linked section chosen for {sec}, where it does not wait"
            ));
        }
        for p in &student.permissions {
            if !self.sections.contains_key(p.section.as_str()) || p.used.is_some_and(|lsn| lsn > self.lsn) {
                return Err(format!(
                    "{id}: permission {} is for an unknown section or used ahead",
                    p.code
                ));
            }
        }
        Ok(())
    }
}

/// Whether `student` used a permission number for `section` or for its lecture (a code
/// opens the pair the lecture is taken in).
fn used_permission(student: &Student, section: &Section) -> bool {
    student.permissions.iter().any(|p| {
        p.used.is_some() && (p.section == section.id || section.linked_to.as_deref() == Some(p.section.as_str()))
    })
}
