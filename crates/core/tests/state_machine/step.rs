//! One step: the state before a command, the state its release of due reserved seats
//! left (what the command itself saw), the state after, and everything that must hold
//! between them: one LSN, the invariants, the release, refusals that change nothing,
//! versions and the changes the store is told to write, the meaning of the outcome
//! (`moves.rs`), the effects, FIFO promotion and money.

use murphy_core::wire::StudentView;
use murphy_core::{Applied, Changes, Command, Effects, Outcome, Section, State};
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;
use time::OffsetDateTime;

use super::rules::{check_no_line_jumping, check_sections, check_students, waiter_blocker};
use super::{fail, has, names, sections, students};

pub struct Step<'a> {
    /// Before the command arrived.
    pub original: &'a State,
    /// After the reserved seats due at its arrival were released: what it saw.
    pub before: &'a State,
    /// What the release did (the first effects of the step).
    pub release: &'a Effects,
    pub after: &'a State,
    pub at: OffsetDateTime,
    pub command: &'a Command,
    pub applied: &'a Applied,
    /// What `take_changes` reported right after the step: what the store would write.
    pub changes: &'a Changes,
}

impl Step<'_> {
    pub fn check(&self) -> TestCaseResult {
        prop_assert_eq!(self.after.lsn(), self.original.lsn() + 1, "one LSN per apply");
        prop_assert_eq!(self.applied.lsn, self.after.lsn());
        let invariants = self.after.check_invariants();
        prop_assert!(invariants.is_ok(), "check_invariants: {:?}", invariants);
        check_sections(self.after)?;
        check_students(self.after)?;
        check_no_line_jumping(self.after)?;
        self.check_release()?;
        self.check_refusal()?;
        self.check_versions()?;
        self.check_places()?;
        self.check_changes()?;
        self.check_outcome()?;
        self.check_effects()?;
        let fx = self.command_effects();
        for section in self.after.sections() {
            let old = self.before.section(&section.id).map_or(&[][..], |s| &s.waitlist[..]);
            self.check_line(self.after, section, &names(old), &fx, Some(self.command))?;
        }
        Ok(())
    }

    pub fn outcome(&self) -> &Outcome {
        &self.applied.outcome
    }

    pub fn after_section(&self, id: &str) -> Result<&Section, TestCaseError> {
        self.after
            .section(id)
            .ok_or_else(|| TestCaseError::fail(format!("section {id} vanished")))
    }

    /// The effects of the command itself, after those of the release.
    fn command_effects(&self) -> Effects {
        let fx = &self.applied.effects;
        Effects {
            released: vec![],
            promoted: fx.promoted[self.release.promoted.len().min(fx.promoted.len())..].to_vec(),
            skipped: fx.skipped[self.release.skipped.len().min(fx.skipped.len())..].to_vec(),
        }
    }

    /// The release comes first: every reservation due at the arrival, and only those,
    /// is gone, the step's effects begin with it, and the lines it opened were promoted
    /// first come first served.
    fn check_release(&self) -> TestCaseResult {
        let fx = &self.applied.effects;
        prop_assert_eq!(&fx.released, &self.release.released, "the release is logged first");
        prop_assert!(fx.promoted.starts_with(&self.release.promoted) && fx.skipped.starts_with(&self.release.skipped));
        for r in &self.release.released {
            let was = self.original.section(&r.section).map_or(&[][..], |s| &s.reserved[..]);
            let due = was
                .iter()
                .any(|w| w.rule.until == r.until && w.rule.population == r.population);
            prop_assert!(due && r.until <= self.at, "released {r:?} was not due");
        }
        for s in self.before.sections() {
            prop_assert!(
                s.reserved.iter().all(|r| r.rule.until > self.at),
                "{} kept a due reservation",
                s.id
            );
            let old = self.original.section(&s.id).map_or(&[][..], |o| &o.waitlist[..]);
            self.check_line(self.before, s, &names(old), self.release, None)?;
        }
        Ok(())
    }

    /// A refused command leaves everything but the LSN as the release left it.
    fn check_refusal(&self) -> TestCaseResult {
        if self.outcome().is_refusal() {
            prop_assert_eq!(
                sections(self.before),
                sections(self.after),
                "a refusal changed sections"
            );
            prop_assert_eq!(
                students(self.before),
                students(self.after),
                "a refusal changed students"
            );
            prop_assert_eq!(self.before.catalog_version(), self.after.catalog_version());
            prop_assert!(self.command_effects().is_empty(), "a refusal had effects");
        }
        Ok(())
    }

    /// Whatever changed carries the new LSN as its version; nothing else does.
    fn check_versions(&self) -> TestCaseResult {
        let lsn = self.after.lsn();
        for s in self.after.sections() {
            if self.original.section(&s.id) != Some(s) {
                prop_assert_eq!(s.version, lsn, "{} changed, version not stamped", s.id);
            }
        }
        for s in self.after.students() {
            if self.original.student(&s.id) != Some(s) {
                prop_assert_eq!(s.version, lsn, "{} changed, version not stamped", s.id);
            }
        }
        let catalog_changed = self.after.sections().any(|s| s.version == lsn);
        let expected = if catalog_changed {
            lsn
        } else {
            self.original.catalog_version()
        };
        prop_assert_eq!(self.after.catalog_version(), expected);
        // A success changes something (perhaps only what the release also stamped, as a
        // capacity set to what it was); a refusal nothing (`check_refusal`).
        let changed = sections(self.original) != sections(self.after)
            || students(self.original) != students(self.after)
            || self.original.rules() != self.after.rules();
        prop_assert!(changed || self.outcome().is_refusal(), "a success changes something");
        let created = usize::from(*self.outcome() == Outcome::Created);
        let (new_sections, new_students) = match self.command {
            Command::CreateSection { .. } => (created, 0),
            Command::CreateStudent { .. } => (0, created),
            _ => (0, 0),
        };
        prop_assert_eq!(
            self.after.sections().count(),
            self.before.sections().count() + new_sections
        );
        prop_assert_eq!(
            self.after.students().count(),
            self.before.students().count() + new_students
        );
        Ok(())
    }

    /// The place a student's view shows in each line is the state's (its index in the
    /// section's line, 1-based), and a student whose place moved carries this version:
    /// a client revalidating with the old ETag learns of the move.
    fn check_places(&self) -> TestCaseResult {
        let lsn = self.after.lsn();
        for student in self.after.students() {
            let view = StudentView::new(student, self.after);
            let shown: Vec<&String> = view.waitlist_positions.keys().collect();
            prop_assert_eq!(
                shown,
                student.waitlisted.iter().collect::<Vec<_>>(),
                "{}: a place per line",
                &student.id
            );
            for (sec, place) in &view.waitlist_positions {
                let line = &self.after.section(sec).expect("a line's section exists").waitlist;
                let index = line.iter().position(|s| **s == *student.id);
                prop_assert_eq!(
                    index.map(|i| i as u32 + 1),
                    Some(*place),
                    "{} in {}'s line",
                    &student.id,
                    sec
                );
            }
            let was = self
                .original
                .student(&student.id)
                .map(|s| self.original.waitlist_positions(s))
                .unwrap_or_default();
            if was != view.waitlist_positions {
                prop_assert_eq!(
                    student.version,
                    lsn,
                    "{}'s place moved, version not stamped",
                    &student.id
                );
            }
        }
        Ok(())
    }

    /// What `take_changes` reports is exactly what the step stamped: what the store writes.
    fn check_changes(&self) -> TestCaseResult {
        let lsn = self.after.lsn();
        let stamped = |versions: Vec<(&String, u64)>| -> std::collections::BTreeSet<String> {
            versions
                .into_iter()
                .filter(|(_, v)| *v == lsn)
                .map(|(id, _)| id.clone())
                .collect()
        };
        let sections = stamped(self.after.sections().map(|s| (&s.id, s.version)).collect());
        let students = stamped(self.after.students().map(|s| (&s.id, s.version)).collect());
        prop_assert_eq!(
            &self.changes.sections,
            &sections,
            "changes to write != sections changed"
        );
        prop_assert_eq!(
            &self.changes.students,
            &students,
            "changes to write != students changed"
        );
        Ok(())
    }

    /// Promotions listed in the outcome are those of the command's own section; commands
    /// that free no seat and make nobody eligible have no effects at all.
    fn check_effects(&self) -> TestCaseResult {
        let fx = self.command_effects();
        let (section, listed) = match (self.command, self.outcome()) {
            (Command::Drop { section, .. }, Outcome::Dropped { promoted, .. })
            | (Command::Swap { from: section, .. }, Outcome::Swapped { promoted, .. })
            | (Command::SetCapacity { section, .. }, Outcome::CapacitySet { promoted }) => (section, promoted),
            (Command::Deposit { .. } | Command::Transfer { .. }, _) => return Ok(()),
            _ => {
                prop_assert!(fx.is_empty(), "{:?} cannot promote or skip anyone", self.command);
                return Ok(());
            }
        };
        let in_fx: Vec<&String> = fx
            .promoted
            .iter()
            .filter(|p| &p.section == section)
            .map(|p| &p.student)
            .collect();
        prop_assert_eq!(listed.iter().collect::<Vec<_>>(), in_fx);
        Ok(())
    }

    /// FIFO among the eligible: promotions in line order, everyone passed over who is
    /// still waiting was skipped (and is ineligible), the line keeps its order. A
    /// linked section has no line: its promotions come with its lecture's, in pairs.
    fn check_line(
        &self,
        state: &State,
        section: &Section,
        old: &[String],
        fx: &Effects,
        command: Option<&Command>,
    ) -> TestCaseResult {
        let mine = |s: &String| *s == section.id;
        let promoted: Vec<&String> = fx
            .promoted
            .iter()
            .filter(|p| mine(&p.section))
            .map(|p| &p.student)
            .collect();
        if let Some(lecture) = &section.linked_to {
            for (i, p) in fx.promoted.iter().enumerate().filter(|(_, p)| mine(&p.section)) {
                let before = i.checked_sub(1).map(|j| &fx.promoted[j]);
                let paired = before.is_some_and(|b| *b.section == **lecture && b.student == p.student);
                prop_assert!(paired, "{} promoted into {} without its lecture", p.student, section.id);
            }
            return Ok(());
        }
        let skipped: Vec<&String> = fx
            .skipped
            .iter()
            .filter(|s| mine(&s.section))
            .map(|s| &s.student)
            .collect();
        let Some(places) = promoted
            .iter()
            .map(|p| old.iter().position(|s| s == *p))
            .collect::<Option<Vec<_>>>()
        else {
            return fail(format!(
                "{}: promoted {promoted:?}, not all in line {old:?}",
                section.id
            ));
        };
        prop_assert!(
            places.windows(2).all(|w| w[0] < w[1]),
            "{}: {promoted:?} out of line order {old:?}",
            section.id
        );
        let passed_over = &old[..places.last().copied().unwrap_or(0)];
        for id in passed_over.iter().filter(|id| has(&section.waitlist, id)) {
            prop_assert!(
                skipped.contains(&id),
                "{}: {id} passed over but not logged as skipped",
                section.id
            );
        }
        for id in &promoted {
            prop_assert!(
                has(&section.enrolled, id) && !has(&section.waitlist, id),
                "{id} not seated"
            );
            prop_assert!(
                state.student(id).is_some_and(|s| s.balance_cents >= 0),
                "{id} promoted despite a hold"
            );
        }
        for id in &skipped {
            let student = state.student(id).expect("skipped students exist");
            prop_assert!(
                has(&section.waitlist, id),
                "{id} skipped in {} lost their place",
                section.id
            );
            prop_assert!(
                waiter_blocker(state, student, section).is_some(),
                "{id} skipped but eligible"
            );
        }
        check_line_order(section, old, &promoted, command, self.outcome())
    }
}

/// Only the promoted and a dropper leave a line; only an enroll joins it, at the end.
fn check_line_order(
    section: &Section,
    old: &[String],
    promoted: &[&String],
    command: Option<&Command>,
    outcome: &Outcome,
) -> TestCaseResult {
    let dropper = match command {
        Some(Command::Drop { student, section: s }) if *s == section.id => Some(student),
        _ => None,
    };
    for id in old.iter().filter(|id| !has(&section.waitlist, id)) {
        prop_assert!(
            promoted.contains(&id) || dropper == Some(id),
            "{id} left {} unexplained",
            section.id
        );
    }
    let kept: Vec<String> = old.iter().filter(|id| has(&section.waitlist, id)).cloned().collect();
    let head: Vec<String> = names(&section.waitlist[..kept.len().min(section.waitlist.len())]);
    prop_assert_eq!(&head, &kept, "{}: the line changed order", section.id);
    let joined = matches!((command, outcome), (Some(Command::Enroll { section: s, .. }), Outcome::Waitlisted { .. }) if *s == section.id);
    prop_assert_eq!(
        section.waitlist.len(),
        kept.len() + usize::from(joined),
        "{}: unexplained newcomer",
        section.id
    );
    Ok(())
}
