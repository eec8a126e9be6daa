//! Every invariant of docs/DESIGN.md §5 (guarantee 1) and of the registrar's rules, in
//! two kinds. What one section or one student keeps by itself (`check_section_alone`,
//! `check_student_alone`) costs time proportional to it: `murphy check` asks it after
//! every log entry of what the entry touched. What needs whole lines or both sides of a
//! link (every seat mirrored in its student's record, nobody eligible waiting while a
//! seat is free, links named back, reserved seats' holders) is added by
//! `check_invariants`, over the whole state: run after each command in debug builds,
//! after a restore, by `murphy check`'s sweeps and by the property tests.

use std::collections::BTreeSet;

use super::money::{BALANCE_CENTS_MAX, OVERDRAFT_CENTS_MAX};
use super::{Section, State, Student};
use crate::meeting::schedules_overlap;

impl State {
    pub fn check_invariants(&self) -> Result<(), String> {
        for section in self.sections.values() {
            self.check_section(section)?;
            self.check_lines(section)?;
            self.check_links(section)?;
            self.check_reserved(section)?;
        }
        for student in self.students.values() {
            self.check_student(student)?;
            self.check_mirrored(student)?;
            self.check_waits(student)?;
        }
        self.line.as_ref().map_or(Ok(()), |window| window.check())
    }

    /// What section `id` keeps by itself, if it exists: no more students than seats,
    /// nor than seats less those reservations still hold; a line within its bound; a
    /// version not ahead of the log.
    pub fn check_section_alone(&self, id: &str) -> Result<(), String> {
        self.sections.get(id).map_or(Ok(()), |s| self.check_section(s))
    }

    /// What student `id` keeps by itself, with the sections they hold, if they exist:
    /// every section held or waited for exists, none both; no two held meet at the same
    /// time; their units add up and stay within the limit; a lecture held with exactly
    /// one of its linked sections and a linked section only with its lecture; no
    /// prerequisite missing without a used permission number; the balance in range; a
    /// version not ahead of the log.
    pub fn check_student_alone(&self, id: &str) -> Result<(), String> {
        self.students.get(id).map_or(Ok(()), |s| self.check_student(s))
    }

    fn check_section(&self, section: &Section) -> Result<(), String> {
        let id = &section.id;
        let (enrolled, capacity) = (section.enrolled.len(), section.capacity as usize);
        if enrolled > capacity {
            return Err(format!("{id} holds {enrolled} students for {capacity} seats"));
        }
        if enrolled + section.held() as usize > capacity {
            return Err(format!(
                "{id} holds {enrolled} students and keeps {} seats for reservations, in {capacity} seats",
                section.held()
            ));
        }
        if section.waitlist.len() > section.waitlist_capacity as usize {
            return Err(format!(
                "{id}'s waitlist holds {} for {} places",
                section.waitlist.len(),
                section.waitlist_capacity
            ));
        }
        if section.version > self.lsn {
            return Err(format!(
                "{id}'s version {} is ahead of LSN {}",
                section.version, self.lsn
            ));
        }
        Ok(())
    }

    fn check_student(&self, student: &Student) -> Result<(), String> {
        let id = &student.id;
        let mut held: Vec<&Section> = Vec::with_capacity(student.enrolled.len());
        for sec in &student.enrolled {
            let section = self
                .section(sec)
                .ok_or_else(|| format!("{id} is enrolled in {sec}, which does not exist"))?;
            if student.waitlisted.contains(sec) {
                return Err(format!("{id} is both enrolled and waitlisted in {sec}"));
            }
            if let Some(other) = held.iter().find(|o| schedules_overlap(&o.meetings, &section.meetings)) {
                return Err(format!(
                    "{id} is enrolled in {} and {sec}, which meet at the same time",
                    other.id
                ));
            }
            self.check_registrar_rules(student, section)?;
            held.push(section);
        }
        let units: u64 = held.iter().map(|s| u64::from(s.units)).sum();
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
        if let Some(sec) = student.waitlisted.iter().find(|s| self.section(s).is_none()) {
            return Err(format!("{id} waits for {sec}, which does not exist"));
        }
        if student.balance_cents < -OVERDRAFT_CENTS_MAX || student.balance_cents > BALANCE_CENTS_MAX {
            return Err(format!(
                "{id}'s balance {} cents is out of range",
                student.balance_cents
            ));
        }
        if student.version > self.lsn {
            return Err(format!(
                "{id}'s version {} is ahead of LSN {}",
                student.version, self.lsn
            ));
        }
        Ok(())
    }

    /// A lecture is held with exactly one of its linked sections, a linked section only
    /// with its lecture, and a section missing a prerequisite only by a permission
    /// number used (for it or its lecture) by now.
    fn check_registrar_rules(&self, student: &Student, section: &Section) -> Result<(), String> {
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
        if let Some(course) = missing
            && !used_permission(student, section, self.lsn)
        {
            return Err(format!(
                "{id} is enrolled in {sec} without its prerequisite {course} and without a permission number"
            ));
        }
        Ok(())
    }

    /// Every student in a section's lines is there once, exists and lists it back; and
    /// nobody jumps the line: `unpromotable` is `None` only when a seat (and the chosen
    /// linked seat) is there for the waiter.
    fn check_lines(&self, section: &Section) -> Result<(), String> {
        let id = &section.id;
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

    /// Every reservation in force is scheduled for release; every holder sits in the
    /// section, holds one reserved seat, and belongs to the population or used a
    /// permission number for it.
    fn check_reserved(&self, section: &Section) -> Result<(), String> {
        let id = &section.id;
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
                let entitled = r.rule.population.admits(major, standing)
                    || student.is_some_and(|s| used_permission(s, section, self.lsn));
                if !holders.insert(stu) || !section.enrolled.contains(stu) || !entitled {
                    return Err(format!("{id}: {stu} holds a seat reserved for {}", r.rule.population));
                }
            }
        }
        Ok(())
    }

    /// Every seat and place in line of the student's record is in the section's lists.
    fn check_mirrored(&self, student: &Student) -> Result<(), String> {
        let id = &student.id;
        for sec in &student.enrolled {
            if !self.sections[sec.as_str()].enrolled.iter().any(|s| **s == **id) {
                return Err(format!("{id}: enrollment in {sec} not mirrored"));
            }
        }
        for sec in &student.waitlisted {
            if !self.sections[sec.as_str()].waitlist.iter().any(|w| **w == **id) {
                return Err(format!("{id}: waitlisted in {sec} but not in its line"));
            }
        }
        Ok(())
    }

    /// A lecture's waiter has chosen one of its linked sections, and only a waiter has;
    /// permission numbers name sections that exist and were used, if at all, by now.
    fn check_waits(&self, student: &Student) -> Result<(), String> {
        let id = &student.id;
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

/// Whether `student` used, by `lsn`, a permission number for `section` or for its
/// lecture (a code opens the pair the lecture is taken in).
fn used_permission(student: &Student, section: &Section, lsn: u64) -> bool {
    student.permissions.iter().any(|p| {
        p.used.is_some_and(|used| used <= lsn)
            && (p.section == section.id || section.linked_to.as_deref() == Some(p.section.as_str()))
    })
}
