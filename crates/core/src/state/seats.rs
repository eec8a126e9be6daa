//! Seats change hands here and nowhere else: `seat` and `unseat` (which keep a
//! section's lines, its reserved seats' holders and the student's record in step, and
//! assert the capacity), waitlist promotion, and the release of reserved seats when
//! their instant comes.

use std::sync::Arc;

use time::OffsetDateTime;

use super::State;
use super::admit::reserved_slot;
use crate::command::StudentId;
use crate::outcome::{Effects, Promotion, Release, Skip};

impl State {
    /// Gives `stu` a seat in `sec`. The seat is a reserved one when the student belongs
    /// to a population with seats still held (so unreserved seats stay for others), an
    /// unreserved one when there is one, else (with a permission number) a reserved
    /// one. The caller has checked that a seat is there (`admit::seat_for`).
    pub(super) fn seat(&mut self, stu: &str, sec: &str, permitted: bool) {
        let stu_id = self.student_id(stu);
        let section = &self.sections[sec];
        let unreserved = section.enrolled.len() as u32 + section.held() < section.capacity;
        let slot = reserved_slot(section, &self.students[stu]).or_else(|| {
            (!unreserved && permitted)
                .then(|| section.reserved.iter().position(|r| r.held() > 0))
                .flatten()
        });
        let section = self.section_mut(sec);
        let units = section.units;
        section.enrolled.push(stu_id.clone());
        if let Some(slot) = slot {
            section.reserved[slot].holders.push(stu_id);
        }
        assert!(section.enrolled.len() as u32 <= section.capacity, "overbooked {sec}");
        assert!(
            section.enrolled.len() as u32 + section.held() <= section.capacity,
            "{sec}: a seat held for a reservation was given away"
        );
        let student = self.student_mut(stu);
        student.enrolled.insert(sec.to_owned());
        student.units += units;
        assert!(student.units <= student.max_units, "{stu} over the unit limit");
    }

    /// Takes `stu`'s seat in `sec` back (a reserved seat goes back to its reservation).
    pub(super) fn unseat(&mut self, stu: &str, sec: &str) {
        let section = self.section_mut(sec);
        let units = section.units;
        section.enrolled.retain(|s| &**s != stu);
        for reserved in &mut section.reserved {
            reserved.holders.retain(|s| &**s != stu);
        }
        let student = self.student_mut(stu);
        student.enrolled.remove(sec);
        student.units -= units;
    }

    /// Gives the free seats of `sec` to its waitlist, first come first served among the
    /// eligible; the ineligible are skipped (and logged) and keep their place. A linked
    /// section has no line of its own: its lecture's line, whose waiters want pairs, is
    /// the one promoted. Returns who was promoted.
    pub(super) fn promote(&mut self, sec: &str, fx: &mut Effects) -> Vec<StudentId> {
        let owner: Arc<str> = match &self.sections[sec].linked_to {
            Some(lecture) => lecture.clone(),
            None => sec.into(),
        };
        let line = &self.sections[&*owner];
        let mut promoted = Vec::new();
        if line.free() == 0 || line.waitlist.is_empty() {
            return promoted;
        }
        for stu in line.waitlist.clone() {
            if self.sections[&*owner].free() == 0 {
                break;
            }
            if let Some(reason) = self.unpromotable(&stu, &owner) {
                fx.skipped.push(Skip {
                    section: owner.to_string(),
                    student: stu.to_string(),
                    reason,
                });
                continue;
            }
            self.take_from_line(&stu, &owner, fx);
            promoted.push(stu.to_string());
        }
        promoted
    }

    /// Seats a waiter: the section of the line and, for a lecture, the linked section
    /// chosen with it, both in the same step.
    fn take_from_line(&mut self, stu: &str, sec: &str, fx: &mut Effects) {
        self.leave_line(stu, sec);
        let student = self.student_mut(stu);
        student.waitlisted.remove(sec);
        let with = student.waiting_with.remove(sec);
        for id in std::iter::once(sec.to_owned()).chain(with) {
            self.seat(stu, &id, false);
            fx.promoted.push(Promotion {
                section: id,
                student: stu.to_owned(),
            });
        }
    }

    /// Takes `stu` out of `sec`'s line. Everyone behind moves up a place, and a place
    /// is part of its student's record (`waitlist_positions`): each of them is stamped
    /// with this command's version, so their ETags change and the store writes them.
    /// Lines are bounded by `waitlist_capacity`, so this costs at most that many.
    pub(super) fn leave_line(&mut self, stu: &str, sec: &str) {
        let Some(at) = self.sections[sec].waitlist.iter().position(|s| &**s == stu) else {
            return;
        };
        let line = &mut self.section_mut(sec).waitlist;
        line.remove(at);
        let behind: Vec<Arc<str>> = line[at..].to_vec();
        for waiter in behind {
            self.student_mut(&waiter);
        }
    }

    /// After `stu` became more eligible, retries the lines they are waiting in.
    pub(super) fn promote_for(&mut self, stu: &str, fx: &mut Effects) {
        for sec in self.students[stu].waitlisted.clone() {
            self.promote(&sec, fx);
        }
    }

    /// Releases every reservation whose instant is at or before `at`, soonest first
    /// (ties by section id), each followed by the promotion of the line it opened
    /// seats to, exactly as a capacity raise would. Logged in `fx.released`.
    pub(super) fn release_due(&mut self, at: OffsetDateTime, fx: &mut Effects) {
        while let Some((until, sec)) = self.releases.get_min().cloned()
            && until <= at
        {
            self.releases.remove(&(until, sec.clone()));
            let section = self.section_mut(&sec);
            let (due, kept) = std::mem::take(&mut section.reserved)
                .into_iter()
                .partition(|r| r.rule.until == until);
            section.reserved = kept;
            for r in due {
                fx.released.push(Release {
                    section: sec.to_string(),
                    held: r.held(),
                    population: r.rule.population,
                    seats: r.rule.seats,
                    until,
                });
            }
            self.promote(&sec, fx);
        }
    }
}
