//! What the registrar's commands made, recomputed from the state they saw: a section
//! (with its course, prerequisites, linked sections and the reservations in force) or
//! the reason a link was refused, a student, a completion, a permission number.

use murphy_core::command::default_course;
use murphy_core::{Command, LinkProblem, Outcome, Permission};
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;

use super::fail;
use super::step::Step;

impl Step<'_> {
    pub(super) fn check_create_section(&self) -> TestCaseResult {
        let Command::CreateSection {
            section,
            units,
            capacity,
            waitlist_capacity,
            meetings,
            course,
            prerequisites,
            linked,
            reserved,
            ..
        } = self.command
        else {
            unreachable!()
        };
        if self.before.section(section).is_some() {
            prop_assert_eq!(self.outcome(), &Outcome::AlreadyExists);
            return Ok(());
        }
        if linked.iter().any(|l| self.before.section(l).is_none()) {
            return self.expect_missing(&linked.iter().map(String::as_str).collect::<Vec<_>>(), &[]);
        }
        let problem = linked.iter().find_map(|id| {
            let part = self.before.section(id).expect("checked above");
            let reason = if !part.linked.is_empty() {
                LinkProblem::HasLinks
            } else if part.linked_to.is_some() {
                LinkProblem::LinkedElsewhere
            } else if !part.enrolled.is_empty() || !part.waitlist.is_empty() {
                LinkProblem::NotEmpty
            } else if part.meetings.iter().any(|m| meetings.iter().any(|n| m.overlaps(n))) {
                LinkProblem::MeetsAtTheSameTime
            } else {
                return None;
            };
            Some(Outcome::CannotLink {
                section: id.clone(),
                reason,
            })
        });
        prop_assert_eq!(self.outcome(), &problem.unwrap_or(Outcome::Created));
        if *self.outcome() != Outcome::Created {
            return Ok(());
        }
        let made = self.after_section(section)?;
        let fields = (
            made.units,
            made.capacity,
            made.waitlist_capacity,
            &made.meetings,
            &*made.course,
        );
        let expected_course = course.as_deref().unwrap_or_else(|| default_course(section));
        prop_assert_eq!(
            fields,
            (*units, *capacity, *waitlist_capacity, meetings, expected_course)
        );
        prop_assert_eq!((&*made.prerequisites, &*made.linked), (&prerequisites[..], &linked[..]));
        let kept: Vec<_> = reserved.iter().filter(|r| r.until > self.at).collect();
        prop_assert_eq!(
            made.reserved.iter().map(|r| &r.rule).collect::<Vec<_>>(),
            kept,
            "reservations in force"
        );
        prop_assert!(
            made.enrolled.is_empty() && made.waitlist.is_empty() && made.reserved.iter().all(|r| r.holders.is_empty())
        );
        for part in linked {
            prop_assert_eq!(self.after_section(part)?.linked_to.as_deref(), Some(section.as_str()));
        }
        Ok(())
    }

    pub(super) fn check_create_student(&self) -> TestCaseResult {
        let Command::CreateStudent {
            student,
            max_units,
            major,
            standing,
            completed,
            ..
        } = self.command
        else {
            unreachable!()
        };
        let expected = if self.before.student(student).is_some() {
            Outcome::AlreadyExists
        } else {
            Outcome::Created
        };
        prop_assert_eq!(self.outcome(), &expected);
        if expected == Outcome::Created {
            let made = self.after.student(student).expect("created");
            let got = (
                made.max_units,
                made.balance_cents,
                made.appointment,
                made.major.as_deref(),
                made.standing.as_deref(),
            );
            prop_assert_eq!(got, (*max_units, 0, None, major.as_deref(), standing.as_deref()));
            let courses: Vec<&str> = made.completed.iter().map(|c| &**c).collect();
            let mut wanted: Vec<&str> = completed.iter().map(String::as_str).collect();
            wanted.sort_unstable();
            prop_assert_eq!(courses, wanted);
        }
        Ok(())
    }

    pub(super) fn check_completion(&self, stu: &str, course: &str) -> TestCaseResult {
        let Some(student) = self.before.student(stu) else {
            return self.expect_missing(&[], &[stu]);
        };
        let expected = if student.completed.contains(course) {
            Outcome::AlreadyExists
        } else {
            Outcome::CompletionRecorded
        };
        prop_assert_eq!(self.outcome(), &expected);
        prop_assert!(self.after.student(stu).is_some_and(|s| s.completed.contains(course)));
        Ok(())
    }

    /// A new, distinct code for the student and section, unused.
    pub(super) fn check_permission(&self, stu: &str, sec: &str) -> TestCaseResult {
        let (Some(student), Some(_)) = (self.before.student(stu), self.before.section(sec)) else {
            return self.expect_missing(&[sec], &[stu]);
        };
        let Outcome::Permission { code } = self.outcome() else {
            return fail(format!("issue_permission answered {:?}", self.outcome()));
        };
        prop_assert!(
            student.permissions.iter().all(|p| p.code != *code),
            "code {code} issued twice"
        );
        let mut expected = student.permissions.clone();
        expected.push(Permission {
            code: code.clone(),
            section: sec.into(),
            issued: self.after.lsn(),
            used: None,
        });
        prop_assert_eq!(&self.after.student(stu).expect("exists").permissions, &expected);
        Ok(())
    }
}
