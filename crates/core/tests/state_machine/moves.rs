//! The meaning of each outcome, recomputed from the state the command saw: what an
//! enroll, drop or swap plans (a lecture with its linked section, both or neither),
//! which rule refused it and whether that rule was really broken, and what the
//! registrar's commands made.

use murphy_core::{Command, Outcome, Permission, RulesVersion, Section, Student};
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;

use super::rules::{blocker, duplicate, overlap, seat_blocker};
use super::step::Step;
use super::{fail, has};

/// The sections an enroll in `section` with `with` enters, or the refusal it gets.
fn plan(section: &Section, with: Option<&str>) -> Result<Vec<String>, Outcome> {
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

/// The linked section of `lecture` that `student` holds.
fn held_part(student: &Student, lecture: &Section) -> Option<String> {
    lecture.linked.iter().find(|l| student.enrolled.contains(*l)).cloned()
}

impl Step<'_> {
    /// The answer for a command that names something absent: sections first, as
    /// docs/DESIGN.md §3 orders the rules, then students.
    pub fn expect_missing(&self, section_ids: &[&str], student_ids: &[&str]) -> TestCaseResult {
        let expected = match section_ids.iter().find(|id| self.before.section(id).is_none()) {
            Some(id) => Outcome::NoSuchSection {
                section: id.to_string(),
            },
            None => match student_ids.iter().find(|id| self.before.student(id).is_none()) {
                Some(id) => Outcome::NoSuchStudent {
                    student: id.to_string(),
                },
                None => return fail("expect_missing with nothing missing".into()),
            },
        };
        prop_assert_eq!(self.outcome(), &expected);
        Ok(())
    }

    fn sections_of(&self, ids: &[String]) -> Vec<&Section> {
        ids.iter().filter_map(|id| self.before.section(id)).collect()
    }

    pub fn check_outcome(&self) -> TestCaseResult {
        match self.command {
            Command::Enroll {
                student,
                section,
                waitlist,
                with,
                permission,
            } => self.check_enroll(student, section, with.as_deref(), *waitlist, permission.as_deref()),
            Command::Drop { student, section } => self.check_drop(student, section),
            Command::Swap {
                student,
                from,
                to,
                with,
            } => self.check_swap(student, from, to, with.as_deref()),
            Command::SetCapacity { section, capacity } => self.check_set_capacity(section, *capacity),
            Command::CreateSection { .. } => self.check_create_section(),
            Command::CreateStudent { .. } => self.check_create_student(),
            Command::SetAppointment { student, at } => {
                if self.before.student(student).is_none() {
                    return self.expect_missing(&[], &[student]);
                }
                prop_assert_eq!(self.outcome(), &Outcome::AppointmentSet);
                prop_assert_eq!(self.after.student(student).map(|s| s.appointment), Some(*at));
                Ok(())
            }
            Command::RecordCompletion { student, course } => self.check_completion(student, course),
            Command::IssuePermission { student, section } => self.check_permission(student, section),
            Command::Deposit { .. } | Command::Withdraw { .. } | Command::Transfer { .. } => Ok(()),
            Command::UpgradeRules { rules } => self.check_upgrade(*rules),
            Command::Import { rows } => self.check_import(rows),
            // The waiting room touches no seat; its rules are tested in core's line.rs.
            Command::OpenLine { .. } | Command::CloseLine {} | Command::AdvanceLine { .. } => Ok(()),
        }
    }

    /// An import of completions, recomputed row by row: refused at the first student
    /// who does not exist (and then, as every refusal, it changed nothing), else every
    /// course recorded, those already on record counted.
    fn check_import(&self, rows: &[Command]) -> TestCaseResult {
        let mut added: Vec<(&str, &str)> = Vec::new();
        let mut already_recorded = 0;
        for (i, row) in rows.iter().enumerate() {
            let Command::RecordCompletion { student, course } = row else {
                return fail(format!("the scripts import completions only, not {row:?}"));
            };
            let Some(before) = self.before.student(student) else {
                let expected = Outcome::ImportRefused {
                    row: i as u32 + 1,
                    refusal: Box::new(Outcome::NoSuchStudent {
                        student: student.clone(),
                    }),
                };
                prop_assert_eq!(self.outcome(), &expected);
                return Ok(());
            };
            if before.completed.contains(course.as_str()) || added.contains(&(student.as_str(), course.as_str())) {
                already_recorded += 1;
            } else {
                added.push((student, course));
            }
        }
        let expected = Outcome::Imported {
            rows: rows.len() as u32,
            already_recorded,
        };
        prop_assert_eq!(self.outcome(), &expected);
        for student in self.after.students() {
            let before = self.before.student(&student.id).map(|s| s.completed.len()).unwrap_or(0);
            let new = added.iter().filter(|(s, _)| *s == student.id).count();
            prop_assert_eq!(student.completed.len(), before + new, "{}'s completions", student.id);
        }
        for (student, course) in &added {
            prop_assert!(
                self.after
                    .student(student)
                    .is_some_and(|s| s.completed.contains(*course))
            );
        }
        Ok(())
    }

    /// The rules move forward only, to the version asked, and only `upgrade_rules` moves
    /// them; the command itself is decided under the old ones.
    fn check_upgrade(&self, rules: RulesVersion) -> TestCaseResult {
        let before = self.before.rules();
        prop_assert_eq!(self.applied.rules, before, "decided under the rules it found");
        if rules > before {
            prop_assert_eq!(
                self.outcome(),
                &Outcome::RulesUpgraded {
                    from: before,
                    to: rules
                }
            );
            prop_assert_eq!(self.after.rules(), rules);
        } else {
            prop_assert_eq!(self.outcome(), &Outcome::AlreadyUpgraded { rules: before });
            prop_assert_eq!(self.after.rules(), before);
        }
        Ok(())
    }

    /// What must hold for `student` to take (or queue for) seats in `enter`, leaving
    /// `leaving`: seats aside.
    fn check_may_enter(
        &self,
        student: &Student,
        enter: &[&Section],
        leaving: &[&str],
        permitted: bool,
    ) -> TestCaseResult {
        let opened = permitted || student.appointment.is_none_or(|opens| opens <= self.at);
        prop_assert!(
            opened,
            "{} registered before the appointment: {:?}",
            student.id,
            student
        );
        prop_assert_eq!(
            blocker(self.before, student, enter, leaving),
            None,
            "{} may not enter",
            student.id
        );
        let missing = enter
            .iter()
            .flat_map(|s| s.prerequisites.iter())
            .find(|c| !student.completed.contains(c.as_str()));
        prop_assert!(permitted || missing.is_none(), "{} bypassed {:?}", student.id, missing);
        let listed = has(&enter[0].enrolled, &student.id) || has(&enter[0].waitlist, &student.id);
        prop_assert!(!listed, "{} was already in {}", student.id, enter[0].id);
        Ok(())
    }

    /// Whether no seat is there in one of `enter`: `full` when one has none at all,
    /// else `reserved`; `None` when every seat is there.
    fn no_seat(&self, student: &Student, enter: &[&Section], permitted: bool) -> Option<&'static str> {
        let blocked: Vec<&str> = enter
            .iter()
            .filter_map(|s| seat_blocker(s, student, permitted))
            .collect();
        if blocked.contains(&"full") {
            Some("full")
        } else {
            blocked.first().copied()
        }
    }

    fn check_enroll(
        &self,
        stu: &str,
        sec: &str,
        with: Option<&str>,
        waitlist: bool,
        code: Option<&str>,
    ) -> TestCaseResult {
        let b = self.before;
        let (Some(student), Some(old), true) = (
            b.student(stu),
            b.section(sec),
            with.is_none_or(|w| b.section(w).is_some()),
        ) else {
            return self.expect_missing(&[sec, with.unwrap_or(sec)], &[stu]);
        };
        let enter = match plan(old, with) {
            Ok(ids) => self.sections_of(&ids),
            Err(expected) => {
                prop_assert_eq!(self.outcome(), &expected);
                return Ok(());
            }
        };
        let valid = |p: &Permission| Some(p.code.as_str()) == code && p.section == sec && p.used.is_none();
        let permitted = code.is_some();
        if permitted && !student.permissions.iter().any(valid) {
            prop_assert_eq!(self.outcome(), &Outcome::BadPermission);
            return Ok(());
        }
        let line_full = old.waitlist.len() >= old.waitlist_capacity as usize;
        let no_seat = self.no_seat(student, &enter, permitted);
        let may_wait = waitlist && !line_full && !permitted;
        match self.outcome() {
            Outcome::Enrolled => {
                self.check_may_enter(student, &enter, &[], permitted)?;
                prop_assert_eq!(no_seat, None, "enrolled without a seat");
                for s in &enter {
                    prop_assert_eq!(self.after_section(&s.id)?.enrolled.last().map(|s| &**s), Some(stu));
                }
                self.check_permission_used(stu, code)?;
            }
            Outcome::Waitlisted { position } => {
                self.check_may_enter(student, &enter, &[], permitted)?;
                prop_assert!(
                    no_seat.is_some() && may_wait,
                    "waitlisted with a seat, or no room in line"
                );
                let line = &self.after_section(sec)?.waitlist;
                prop_assert_eq!(line.len(), *position as usize, "position is the end of the line");
                prop_assert_eq!(line.last().map(|s| &**s), Some(stu));
                let chosen = self.after.student(stu).and_then(|s| s.waiting_with.get(sec).cloned());
                prop_assert_eq!(chosen.as_deref(), with, "the linked section waited for");
            }
            Outcome::Full => {
                self.check_may_enter(student, &enter, &[], permitted)?;
                prop_assert!(
                    no_seat == Some("full") && !may_wait,
                    "full, but a seat or place was there"
                );
            }
            Outcome::Reserved { until } => {
                self.check_may_enter(student, &enter, &[], permitted)?;
                prop_assert!(
                    no_seat == Some("reserved") && !may_wait,
                    "reserved, but a seat or place was there"
                );
                self.check_until(student, &enter, *until)?;
            }
            other => self.check_rule_refusal(student, &enter, &[], other, permitted)?,
        }
        Ok(())
    }

    /// A permission number given is used by the enrollment that succeeded with it.
    fn check_permission_used(&self, stu: &str, code: Option<&str>) -> TestCaseResult {
        let before = self
            .before
            .student(stu)
            .map(|s| s.permissions.clone())
            .unwrap_or_default();
        let after = self
            .after
            .student(stu)
            .map(|s| s.permissions.clone())
            .unwrap_or_default();
        for (old, new) in before.iter().zip(&after) {
            let used_now = Some(old.code.as_str()) == code;
            let expected = if used_now { Some(self.after.lsn()) } else { old.used };
            prop_assert_eq!(
                new.used,
                expected,
                "permission {} after enrolling with {:?}",
                old.code,
                code
            );
        }
        Ok(())
    }

    /// `reserved` names the soonest instant at which a held seat it lacked opens.
    fn check_until(&self, student: &Student, enter: &[&Section], until: time::OffsetDateTime) -> TestCaseResult {
        let soonest = enter
            .iter()
            .filter(|s| seat_blocker(s, student, false) == Some("reserved"))
            .flat_map(|s| s.reserved.iter().filter(|r| r.held() > 0).map(|r| r.rule.until))
            .min();
        prop_assert_eq!(soonest, Some(until), "reserved until the wrong instant");
        Ok(())
    }

    fn check_drop(&self, stu: &str, sec: &str) -> TestCaseResult {
        let (Some(student), Some(old)) = (self.before.student(stu), self.before.section(sec)) else {
            return self.expect_missing(&[sec], &[stu]);
        };
        let was_enrolled = has(&old.enrolled, stu);
        let was_waiting = has(&old.waitlist, stu);
        match self.outcome() {
            Outcome::Dropped { promoted, linked } => {
                let new = self.after_section(sec)?;
                prop_assert!(old.linked_to.is_none(), "a linked section dropped alone");
                prop_assert!(was_enrolled || was_waiting, "dropped without being there");
                prop_assert!(!has(&new.enrolled, stu) && !has(&new.waitlist, stu), "still in {}", sec);
                prop_assert!(was_enrolled || promoted.is_empty(), "leaving a line freed a seat");
                let part = if was_enrolled { held_part(student, old) } else { None };
                prop_assert_eq!(linked, &part, "the linked section dropped with {}", sec);
                if let Some(part) = part {
                    prop_assert!(!has(&self.after_section(&part)?.enrolled, stu), "still in {part}");
                }
            }
            Outcome::NeedsLinked { choices } => {
                let lecture = old.linked_to.as_deref().map(str::to_owned);
                prop_assert!(was_enrolled && lecture.is_some(), "needs_linked for a section alone");
                prop_assert_eq!(choices, &lecture.into_iter().collect::<Vec<_>>());
            }
            Outcome::NotEnrolled => prop_assert!(!was_enrolled && !was_waiting),
            other => return fail(format!("drop answered {other:?}")),
        }
        Ok(())
    }

    /// The sections a swap leaves and enters, or the refusal it gets for its shape.
    fn swap_plan(
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
            let siblings = &self.before.section(lecture).expect("a lecture exists").linked;
            let choices = siblings.iter().filter(|s| **s != from.id).cloned().collect();
            return Err(Outcome::NeedsLinked { choices });
        }
        let enter = plan(to, with)?;
        let leave = std::iter::once(from.id.clone())
            .chain(held_part(student, from))
            .collect();
        Ok((leave, enter))
    }

    fn check_swap(&self, stu: &str, from: &str, to: &str, with: Option<&str>) -> TestCaseResult {
        let b = self.before;
        let exists = with.is_none_or(|w| b.section(w).is_some());
        let (Some(student), Some(old_from), Some(old_to), true) =
            (b.student(stu), b.section(from), b.section(to), exists)
        else {
            return self.expect_missing(&[from, to, with.unwrap_or(to)], &[stu]);
        };
        let (leave, enter) = match self.swap_plan(student, old_from, old_to, with) {
            Ok(plan) => plan,
            Err(expected) => {
                prop_assert_eq!(self.outcome(), &expected);
                return Ok(());
            }
        };
        let (leaving, enter): (Vec<&str>, Vec<&Section>) =
            (leave.iter().map(String::as_str).collect(), self.sections_of(&enter));
        let in_from = has(&old_from.enrolled, stu);
        let no_seat = self.no_seat(student, &enter, false);
        match self.outcome() {
            Outcome::Swapped { linked, .. } => {
                prop_assert!(in_from, "swapped out of a section they were not in");
                self.check_may_enter(student, &enter, &leaving, false)?;
                prop_assert_eq!(no_seat, None, "swapped without a seat");
                prop_assert_eq!(linked.as_deref(), leaving.get(1).copied());
                for id in &leaving {
                    prop_assert!(!has(&self.after_section(id)?.enrolled, stu), "still in {id}");
                }
                for s in &enter {
                    prop_assert!(has(&self.after_section(&s.id)?.enrolled, stu), "not in {}", s.id);
                }
            }
            Outcome::Full | Outcome::Reserved { .. } => {
                prop_assert!(in_from, "refused a swap out of a section they were not in");
                self.check_may_enter(student, &enter, &leaving, false)?;
                prop_assert_eq!(
                    no_seat,
                    Some(self.outcome().kind().name()),
                    "swap refused with a seat there"
                );
            }
            Outcome::NotEnrolled => prop_assert!(!in_from),
            other => {
                let leaving: Vec<&Section> = leaving.iter().filter_map(|id| b.section(id)).collect();
                self.check_rule_refusal_leaving(student, &enter, &leaving, other)?
            }
        }
        Ok(())
    }

    fn check_rule_refusal(
        &self,
        student: &Student,
        enter: &[&Section],
        leaving: &[&Section],
        outcome: &Outcome,
        permitted: bool,
    ) -> TestCaseResult {
        if let Outcome::NotOpen { .. } | Outcome::MissingPrerequisite { .. } = outcome {
            prop_assert!(!permitted, "a permission number waives {:?}", outcome);
        }
        self.check_rule_refusal_leaving(student, enter, leaving, outcome)
    }

    /// A refusal by one of the enrollment rules must be true of the state the command saw.
    fn check_rule_refusal_leaving(
        &self,
        student: &Student,
        enter: &[&Section],
        leaving: &[&Section],
        outcome: &Outcome,
    ) -> TestCaseResult {
        let id = &student.id;
        let main = enter[0];
        let left = |s: &str| leaving.iter().any(|l| l.id == s);
        match outcome {
            Outcome::NotOpen { opens_at } => {
                prop_assert!(student.appointment == Some(*opens_at) && self.at < *opens_at)
            }
            Outcome::Hold { balance_cents } => {
                prop_assert!(student.balance_cents == *balance_cents && *balance_cents < 0)
            }
            Outcome::AlreadyEnrolled => prop_assert!(has(&main.enrolled, id)),
            Outcome::AlreadyWaitlisted { position } => {
                let place = main.waitlist.iter().position(|s| &**s == id).map(|p| p as u32 + 1);
                prop_assert_eq!(place, Some(*position));
            }
            Outcome::DuplicateCourse { course, held } => {
                let leaving: Vec<&str> = leaving.iter().map(|l| l.id.as_str()).collect();
                let found = duplicate(self.before, student, enter, &leaving);
                prop_assert!(
                    found.is_some_and(|s| s.id == *held && *s.course == **course),
                    "duplicate_course {course} {held}, but the rules find {:?}",
                    found.map(|s| &s.id)
                );
            }
            Outcome::MissingPrerequisite { course } => {
                let first = enter
                    .iter()
                    .flat_map(|s| s.prerequisites.iter())
                    .find(|c| !student.completed.contains(c.as_str()));
                prop_assert_eq!(first, Some(course), "the first missing prerequisite");
            }
            Outcome::TimeConflict { with } => {
                let other = self.before.section(with);
                let kept =
                    other.is_some_and(|o| has(&o.enrolled, id) && !left(with) && enter.iter().any(|e| overlap(o, e)));
                let inner = enter.len() == 2 && *with == main.id && overlap(main, enter[1]);
                prop_assert!(kept || inner, "no conflict with {with}");
            }
            Outcome::UnitLimit { units, max_units } => {
                let out: u32 = leaving.iter().map(|l| l.units).sum();
                let expected = student.units + enter.iter().map(|e| e.units).sum::<u32>() - out;
                prop_assert!(*units == expected && *units > *max_units && *max_units == student.max_units);
            }
            other => return fail(format!("{:?} answered {other:?}", self.command)),
        }
        Ok(())
    }

    fn check_set_capacity(&self, sec: &str, capacity: u32) -> TestCaseResult {
        let Some(old) = self.before.section(sec) else {
            return self.expect_missing(&[sec], &[]);
        };
        let enrolled = old.enrolled.len() as u32;
        let held = old.held();
        match self.outcome() {
            Outcome::CapacitySet { .. } => {
                prop_assert!(capacity >= enrolled + held);
                prop_assert_eq!(self.after_section(sec)?.capacity, capacity);
            }
            Outcome::BelowEnrolled { enrolled: n } => prop_assert!(*n == enrolled && capacity < enrolled),
            Outcome::BelowReserved { enrolled: n, held: h } => {
                prop_assert!(*n == enrolled && *h == held && capacity >= enrolled && capacity < n + h)
            }
            other => return fail(format!("set_capacity answered {other:?}")),
        }
        Ok(())
    }
}
