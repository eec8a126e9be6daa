//! The rules of docs/DESIGN.md §3 and of the registrar, recomputed here from the public
//! accessors (not taken from `check_invariants`), and the checks of a whole state:
//! capacity with reservations, lines, units, time conflicts, a lecture never held
//! without its linked section, no prerequisite bypassed without a used permission
//! number, and nobody jumping the line.

use std::collections::BTreeSet;

use murphy_core::{ReservedSeats, RulesVersion, Section, State, Student};
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;

use super::{fail, has};
use murphy_core::state::OVERDRAFT_CENTS_MAX;

pub fn overlap(a: &Section, b: &Section) -> bool {
    a.meetings.iter().any(|x| b.meetings.iter().any(|y| x.overlaps(y)))
}

/// The sections that list `student` as enrolled, those in `leaving` excepted.
pub fn enrolled_in<'s>(state: &'s State, student: &str, leaving: &[&str]) -> Vec<&'s Section> {
    state
        .sections()
        .filter(|s| !leaving.contains(&s.id.as_str()) && has(&s.enrolled, student))
        .collect()
}

/// Under rules version 2 and later: a section of the course `enter` starts a holding
/// of that `student` already holds or waits for, `enter` and `leaving` aside. A lecture
/// with its linked section is one holding, so linked sections never count, and
/// entering one alone (within its lecture) starts no holding.
pub fn duplicate<'s>(state: &'s State, student: &Student, enter: &[&Section], leaving: &[&str]) -> Option<&'s Section> {
    let main = enter[0];
    if state.rules() < RulesVersion::V2 || main.linked_to.is_some() {
        return None;
    }
    state.sections().find(|s| {
        s.linked_to.is_none()
            && s.course == main.course
            && !enter.iter().any(|e| e.id == s.id)
            && !leaving.contains(&s.id.as_str())
            && (has(&s.enrolled, &student.id) || has(&s.waitlist, &student.id))
    })
}

/// Why `student` cannot enter the sections of `enter` now (with `leaving` dropped
/// first), by the rules of hold, one section per course (version 2), time and units:
/// seats, appointments and prerequisites aside.
pub fn blocker(state: &State, student: &Student, enter: &[&Section], leaving: &[&str]) -> Option<&'static str> {
    let mine = enrolled_in(state, &student.id, leaving);
    let units: u32 = mine.iter().chain(enter).map(|s| s.units).sum();
    let inner = enter.len() == 2 && overlap(enter[0], enter[1]);
    if student.balance_cents < 0 {
        Some("hold")
    } else if duplicate(state, student, enter, leaving).is_some() {
        Some("duplicate course")
    } else if inner || mine.iter().any(|m| enter.iter().any(|e| overlap(m, e))) {
        Some("time conflict")
    } else if units > student.max_units {
        Some("unit limit")
    } else {
        None
    }
}

pub fn member(r: &ReservedSeats, student: &Student) -> bool {
    r.rule
        .population
        .admits(student.major.as_deref(), student.standing.as_deref())
}

/// Why no seat of `section` is there for `student`: `full`, or `reserved` when the only
/// free seats are held for populations the student is not in (a permission number
/// opens those).
pub fn seat_blocker(section: &Section, student: &Student, permitted: bool) -> Option<&'static str> {
    let enrolled = section.enrolled.len() as u32;
    let held: u32 = section.reserved.iter().map(ReservedSeats::held).sum();
    let open_to_them = permitted
        || enrolled + held < section.capacity
        || section.reserved.iter().any(|r| r.held() > 0 && member(r, student));
    if enrolled >= section.capacity {
        Some("full")
    } else if open_to_them {
        None
    } else {
        Some("reserved")
    }
}

/// The sections a waiter of `section`'s line would take: it and the linked one chosen.
pub fn wanted<'s>(state: &'s State, student: &Student, section: &'s Section) -> Vec<&'s Section> {
    let mut enter = vec![section];
    enter.extend(student.waiting_with.get(&section.id).and_then(|w| state.section(w)));
    enter
}

/// Why a waiter cannot be promoted now: the rules, or no seat in one of the sections.
pub fn waiter_blocker(state: &State, student: &Student, section: &Section) -> Option<&'static str> {
    let enter = wanted(state, student, section);
    blocker(state, student, &enter, &[]).or_else(|| enter.iter().find_map(|s| seat_blocker(s, student, false)))
}

/// Capacity (reserved seats still held included), lines, and who sits where.
pub fn check_sections(state: &State) -> TestCaseResult {
    for s in state.sections() {
        let held: u32 = s.reserved.iter().map(ReservedSeats::held).sum();
        prop_assert!(s.enrolled.len() <= s.capacity as usize, "{} overbooked: {:?}", s.id, s);
        prop_assert!(
            s.enrolled.len() as u32 + held <= s.capacity,
            "{} gave away a reserved seat: {:?}",
            s.id,
            s
        );
        prop_assert!(
            s.waitlist.len() <= s.waitlist_capacity as usize,
            "{} line too long: {:?}",
            s.id,
            s
        );
        let mut seen = BTreeSet::new();
        for id in s.enrolled.iter().chain(&s.waitlist) {
            prop_assert!(seen.insert(id), "{id} twice among enrolled and waitlisted of {:?}", s);
            prop_assert!(state.student(id).is_some(), "{} lists unknown student {id}", s.id);
        }
        check_holders(state, s)?;
    }
    Ok(())
}

/// Every reserved seat's holder sits in the section, holds one, and belongs to the
/// population or used a permission number there.
fn check_holders(state: &State, s: &Section) -> TestCaseResult {
    let mut holders = BTreeSet::new();
    for r in &s.reserved {
        prop_assert!(
            r.holders.len() as u32 <= r.rule.seats,
            "{}: more holders than seats",
            s.id
        );
        for id in &r.holders {
            let student = state.student(id).expect("holders are students");
            prop_assert!(holders.insert(id) && has(&s.enrolled, id), "{}: bad holder {id}", s.id);
            prop_assert!(
                member(r, student) || used_permission(student, s),
                "{id} holds a seat of {} reserved for {} without belonging or a permission",
                s.id,
                r.rule.population
            );
        }
    }
    Ok(())
}

pub fn used_permission(student: &Student, section: &Section) -> bool {
    let lecture = section.linked_to.as_deref();
    student
        .permissions
        .iter()
        .any(|p| p.used.is_some() && (p.section == section.id || Some(p.section.as_str()) == lecture))
}

pub fn check_students(state: &State) -> TestCaseResult {
    for student in state.students() {
        let mine = enrolled_in(state, &student.id, &[]);
        let enrolled: BTreeSet<&str> = mine.iter().map(|s| s.id.as_str()).collect();
        let waiting: BTreeSet<&str> = state
            .sections()
            .filter(|s| has(&s.waitlist, &student.id))
            .map(|s| s.id.as_str())
            .collect();
        prop_assert_eq!(&enrolled, &student.enrolled.iter().map(String::as_str).collect());
        prop_assert_eq!(&waiting, &student.waitlisted.iter().map(String::as_str).collect());
        let units: u32 = mine.iter().map(|s| s.units).sum();
        prop_assert_eq!(student.units, units, "units of {}", student.id);
        prop_assert!(
            units <= student.max_units,
            "{} over the unit limit: {:?}",
            student.id,
            student
        );
        for (i, a) in mine.iter().enumerate() {
            if let Some(b) = mine[i + 1..].iter().find(|b| overlap(a, b)) {
                return fail(format!(
                    "{} is in {} and {} which meet at the same time",
                    student.id, a.id, b.id
                ));
            }
        }
        prop_assert!(
            student.balance_cents >= -OVERDRAFT_CENTS_MAX,
            "{} overdrawn: {:?}",
            student.id,
            student
        );
        check_pairs(state, student, &mine)?;
        check_prerequisites(student, &mine)?;
    }
    Ok(())
}

/// A lecture seat is never held without exactly one of its linked seats, a linked seat
/// never without its lecture; a lecture's waiter waits for one of its linked sections.
fn check_pairs(state: &State, student: &Student, mine: &[&Section]) -> TestCaseResult {
    for s in mine {
        let parts = s.linked.iter().filter(|p| student.enrolled.contains(*p)).count();
        prop_assert!(
            s.linked.is_empty() || parts == 1,
            "{} holds lecture {} with {parts} linked sections",
            student.id,
            s.id
        );
        if let Some(lecture) = &s.linked_to {
            prop_assert!(
                student.enrolled.contains(&**lecture),
                "{} holds {} without its lecture {lecture}",
                student.id,
                s.id
            );
        }
    }
    for sec in &student.waitlisted {
        let linked = &state.section(sec).expect("waited-for sections exist").linked;
        let chosen = student.waiting_with.get(sec);
        prop_assert_eq!(
            chosen.is_some(),
            !linked.is_empty(),
            "{} waits for {} with {:?}",
            student.id,
            sec,
            chosen
        );
        prop_assert!(
            chosen.is_none_or(|c| linked.contains(c)),
            "{} waits with a section not linked",
            student.id
        );
    }
    Ok(())
}

/// No prerequisite bypassed without a used permission number.
fn check_prerequisites(student: &Student, mine: &[&Section]) -> TestCaseResult {
    for s in mine {
        if let Some(course) = s.prerequisites.iter().find(|c| !student.completed.contains(c.as_str())) {
            prop_assert!(
                used_permission(student, s),
                "{} is in {} without {course} and without a used permission number",
                student.id,
                s.id
            );
        }
    }
    Ok(())
}

/// Nobody jumps the line: a seat (and the chosen linked seat) is never free for someone
/// eligible who waits.
pub fn check_no_line_jumping(state: &State) -> TestCaseResult {
    for section in state.sections() {
        for id in &section.waitlist {
            let student = state.student(id).expect("checked by check_sections");
            prop_assert!(
                waiter_blocker(state, student, section).is_some(),
                "{id} waits eligible while {} has a seat for them: {:?}",
                section.id,
                section
            );
        }
    }
    Ok(())
}
