//! A student's moves: enroll, drop, swap. Each is planned first as the sections it
//! leaves and enters at once (a lecture with its linked section, both or neither),
//! then judged by the rules in the order of docs/DESIGN.md §3, then done whole or not
//! at all.

use time::OffsetDateTime;

use super::admit::pair;
use super::{Section, State, Student, no_section, no_student};
use crate::command::SectionId;
use crate::outcome::{Effects, Outcome};

/// What an `enroll` asks for.
pub(super) struct Ask<'a> {
    pub student: &'a str,
    pub section: &'a str,
    pub with: Option<&'a str>,
    pub waitlist: bool,
    pub permission: Option<&'a str>,
}

impl State {
    /// The rules of docs/DESIGN.md §3, in order; the first one broken is the answer.
    /// Linked sections come first (the request must name a pair), then a permission
    /// number (it waives what follows it: the appointment, prerequisites, reservations).
    pub(super) fn enroll(&mut self, ask: Ask<'_>, at: OffsetDateTime) -> Outcome {
        let (stu, sec) = (ask.student, ask.section);
        let Some(section) = self.sections.get(sec) else {
            return no_section(sec);
        };
        if let Some(with) = ask.with.filter(|w| !self.sections.contains_key(*w)) {
            return no_section(with);
        }
        let Some(student) = self.students.get(stu) else {
            return no_student(stu);
        };
        let enter = match enter_with(section, ask.with) {
            Ok(enter) => enter,
            Err(refusal) => return refusal,
        };
        let permitted = match ask.permission {
            Some(code) if !State::permits(student, sec, code) => return Outcome::BadPermission,
            Some(_) => true,
            None => false,
        };
        match self.may_enter(student, &enter, &[], permitted, at) {
            Ok(()) => {}
            Err(no_seat @ (Outcome::Full | Outcome::Reserved { .. })) => {
                return self.wait_or_refuse(&ask, &enter, no_seat, permitted);
            }
            Err(refusal) => return refusal,
        }
        for id in &enter {
            self.seat(stu, id, permitted);
        }
        if let Some(code) = ask.permission {
            let lsn = self.lsn;
            let student = self.student_mut(stu);
            let permission = student.permissions.iter_mut().find(|p| p.code == code);
            permission.expect("checked by permits").used = Some(lsn);
        }
        Outcome::Enrolled
    }

    /// Every rule for entering `enter` (leaving `leave` at once) after the request's
    /// shape: appointment, hold, already there, one section per course (rules version
    /// 2), prerequisites, time, units, seats.
    fn may_enter(
        &self,
        student: &Student,
        enter: &[String],
        leave: &[String],
        permitted: bool,
        at: OffsetDateTime,
    ) -> Result<(), Outcome> {
        if let Some(refusal) = refuse_before_open_or_hold(student, at, permitted) {
            return Err(refusal);
        }
        let main = &self.sections[enter[0].as_str()];
        if student.enrolled.contains(&main.id) {
            return Err(Outcome::AlreadyEnrolled);
        }
        if student.waitlisted.contains(&main.id) {
            return Err(Outcome::AlreadyWaitlisted {
                position: waitlist_position(main, &student.id),
            });
        }
        if let Some(from) = leave.first()
            && !student.enrolled.contains(from)
        {
            return Err(Outcome::NotEnrolled);
        }
        if let Some(refusal) = self.duplicate_course(student, enter, leave) {
            return Err(refusal);
        }
        if !permitted && let Some(refusal) = self.missing_prerequisite(student, enter) {
            return Err(refusal);
        }
        self.fits(student, enter, leave)?;
        self.seats_for(student, enter, permitted)
    }

    /// No seat: the waitlist when asked, with room, and no permission number (a
    /// permission gets a seat now or nothing, so it never waits unused in a line);
    /// else the refusal. Nobody jumps the line: every change that frees a seat or makes
    /// a waiter eligible promotes at once, so a seat here means nobody waiting can
    /// take it (the invariant `check_section` asserts).
    fn wait_or_refuse(&mut self, ask: &Ask<'_>, enter: &[String], no_seat: Outcome, permitted: bool) -> Outcome {
        let (stu, sec) = (ask.student, ask.section);
        let section = &self.sections[sec];
        if !ask.waitlist || permitted || section.waitlist.len() as u32 >= section.waitlist_capacity {
            return no_seat;
        }
        let stu_id = self.student_id(stu);
        self.section_mut(sec).waitlist.push(stu_id);
        let student = self.student_mut(stu);
        student.waitlisted.insert(sec.to_owned());
        if let Some(with) = enter.get(1) {
            student.waiting_with.insert(sec.to_owned(), with.clone());
        }
        Outcome::Waitlisted {
            position: self.sections[sec].waitlist.len() as u32,
        }
    }

    /// Leaves a section (a lecture with its linked section) or its waitlist.
    pub(super) fn drop_section(&mut self, stu: &str, sec: &str, fx: &mut Effects) -> Outcome {
        let Some(section) = self.sections.get(sec) else {
            return no_section(sec);
        };
        let Some(student) = self.students.get(stu) else {
            return no_student(stu);
        };
        if student.enrolled.contains(sec) {
            if let Some(lecture) = &section.linked_to {
                return Outcome::NeedsLinked {
                    choices: vec![lecture.to_string()],
                };
            }
            let linked = held_part(student, section);
            self.unseat(stu, sec);
            if let Some(part) = &linked {
                self.unseat(stu, part);
            }
            let promoted = self.promote(sec, fx);
            // Fewer units and free hours may make the dropper promotable elsewhere.
            self.promote_for(stu, fx);
            Outcome::Dropped { promoted, linked }
        } else if student.waitlisted.contains(sec) {
            self.leave_line(stu, sec);
            let student = self.student_mut(stu);
            student.waitlisted.remove(sec);
            student.waiting_with.remove(sec);
            // Waiting for one section of a course no more may make the student
            // promotable in another line of it (rules version 2). Under version 1
            // leaving a line changes nothing a waiter is judged by, so this promotes
            // nobody there and old logs replay as they were.
            self.promote_for(stu, fx);
            Outcome::Dropped {
                promoted: Vec::new(),
                linked: None,
            }
        } else {
            Outcome::NotEnrolled
        }
    }

    /// Atomic: the student leaves `from` (with its linked section) only if seats in
    /// `to` (with `with`) are theirs. Between two linked sections of one lecture, the
    /// lecture is kept.
    pub(super) fn swap(
        &mut self,
        stu: &str,
        from: &str,
        to: &str,
        with: Option<&str>,
        at: OffsetDateTime,
        fx: &mut Effects,
    ) -> Outcome {
        let (Some(from_section), Some(to_section)) = (self.sections.get(from), self.sections.get(to)) else {
            return no_section(if self.sections.contains_key(from) { to } else { from });
        };
        if let Some(with) = with.filter(|w| !self.sections.contains_key(*w)) {
            return no_section(with);
        }
        let Some(student) = self.students.get(stu) else {
            return no_student(stu);
        };
        let (leave, enter) = match self.plan_swap(student, from_section, to_section, with) {
            Ok(plan) => plan,
            Err(refusal) => return refusal,
        };
        if let Err(refusal) = self.may_enter(student, &enter, &leave, false, at) {
            return refusal;
        }
        for id in &leave {
            self.unseat(stu, id);
        }
        for id in &enter {
            self.seat(stu, id, false);
        }
        let promoted = self.promote(from, fx);
        self.promote_for(stu, fx);
        Outcome::Swapped {
            promoted,
            linked: leave.get(1).cloned(),
        }
    }

    /// The sections a swap leaves and enters. A linked section is swapped only for
    /// another of its lecture's; a lecture is left with its linked section and entered
    /// with the one named in `with`.
    fn plan_swap(
        &self,
        student: &Student,
        from: &Section,
        to: &Section,
        with: Option<&str>,
    ) -> Result<(Vec<String>, Vec<String>), Outcome> {
        if let Some(lecture) = &to.linked_to {
            if with.is_some() || from.linked_to.as_ref() != Some(lecture) {
                return Err(Outcome::NeedsLinked {
                    choices: vec![lecture.to_string()],
                });
            }
            return Ok((vec![from.id.clone()], vec![to.id.clone()]));
        }
        if let Some(lecture) = &from.linked_to {
            let siblings = &self.sections[&**lecture].linked;
            let choices = siblings.iter().filter(|s| **s != from.id).cloned().collect();
            return Err(Outcome::NeedsLinked { choices });
        }
        let enter = enter_with(to, with)?;
        let leave = pair(&from.id, held_part(student, from).as_ref());
        Ok((leave, enter))
    }
}

/// The sections an enroll in `section` (with `with`) enters: the section alone, or a
/// lecture with one of its linked sections. A linked section alone is refused with its
/// lecture as the choice; so is a `with` that is not one of the lecture's.
fn enter_with(section: &Section, with: Option<&str>) -> Result<Vec<String>, Outcome> {
    if let Some(lecture) = &section.linked_to {
        return Err(Outcome::NeedsLinked {
            choices: vec![lecture.to_string()],
        });
    }
    match with {
        None if section.linked.is_empty() => Ok(vec![section.id.clone()]),
        Some(w) if section.linked.iter().any(|l| l == w) => Ok(vec![section.id.clone(), w.to_owned()]),
        _ => Err(Outcome::NeedsLinked {
            choices: section.linked.to_vec(),
        }),
    }
}

/// The linked section of `lecture` that `student` holds with it.
fn held_part(student: &Student, lecture: &Section) -> Option<SectionId> {
    lecture.linked.iter().find(|l| student.enrolled.contains(*l)).cloned()
}

/// The appointment (unless a permission number waives it), then a hold.
fn refuse_before_open_or_hold(student: &Student, at: OffsetDateTime, permitted: bool) -> Option<Outcome> {
    if let Some(opens_at) = student.appointment
        && at < opens_at
        && !permitted
    {
        return Some(Outcome::NotOpen { opens_at });
    }
    if student.balance_cents < 0 {
        return Some(Outcome::Hold {
            balance_cents: student.balance_cents,
        });
    }
    None
}

pub(super) fn waitlist_position(section: &Section, stu: &str) -> u32 {
    section
        .waitlist
        .iter()
        .position(|s| &**s == stu)
        .map_or(0, |i| i as u32 + 1)
}
