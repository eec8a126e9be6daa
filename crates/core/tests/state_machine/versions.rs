//! Plain examples that pin rules version 2, "no two sections of one course", and how
//! a version takes over: a log decided under version 1 keeps its outcomes, the upgrade
//! is an entry of its own, and from it on an enroll, a waitlist join or a swap that
//! would leave a student holding or waiting for two sections of a course is refused
//! (`duplicate_course`), a lecture with its linked section counting once, a swap within
//! a course allowed, and a waiter it would break skipped.

use murphy_core::{Command, Meeting, Outcome, RulesVersion, Skip, State};

use super::at;
use super::examples::{drop_, dropped, enroll, enrolled, new_section, new_student, run, setup, waitlist};

fn meeting(days: &str, start: &str) -> Meeting {
    Meeting::parse(days, start, &format!("{}:50", &start[..2])).unwrap()
}

fn upgrade() -> Command {
    Command::UpgradeRules {
        rules: RulesVersion::V2,
    }
}

/// Course MATH-1 in three sections at different hours (MATH-1-1 with one seat and a
/// line), HIST-5-1, and students a, b, c.
fn catalog() -> Vec<Command> {
    vec![
        new_section("MATH-1-1", 1, 5, vec![meeting("M", "08:00")]),
        new_section("MATH-1-2", 5, 5, vec![meeting("T", "08:00")]),
        new_section("MATH-1-3", 5, 5, vec![meeting("W", "08:00")]),
        new_section("HIST-5-1", 5, 5, vec![meeting("R", "08:00")]),
        new_student("a"),
        new_student("b"),
        new_student("c"),
    ]
}

fn duplicate(course: &str, held: &str) -> Outcome {
    Outcome::DuplicateCourse {
        course: course.into(),
        held: held.into(),
    }
}

#[test]
fn version_1_allows_two_sections_of_a_course_and_version_2_does_not() {
    let mut state = setup(catalog());
    assert_eq!(state.rules(), RulesVersion::V1, "a log starts at version 1 unless told");
    assert_eq!(run(&mut state, enroll("a", "MATH-1-2", false)), Outcome::Enrolled);
    assert_eq!(run(&mut state, enroll("a", "MATH-1-3", false)), Outcome::Enrolled);

    let applied = state.apply(at(0), &upgrade());
    assert_eq!(
        applied.rules,
        RulesVersion::V1,
        "the upgrade is decided under the old rules"
    );
    assert_eq!(
        applied.outcome,
        Outcome::RulesUpgraded {
            from: RulesVersion::V1,
            to: RulesVersion::V2
        }
    );
    assert_eq!(state.rules(), RulesVersion::V2);
    assert_eq!(
        run(&mut state, upgrade()),
        Outcome::AlreadyUpgraded {
            rules: RulesVersion::V2
        }
    );

    // What version 1 allowed stays: a keeps both sections.
    assert_eq!(enrolled(&state, "MATH-1-2"), ["a"]);
    assert_eq!(enrolled(&state, "MATH-1-3"), ["a"]);
    // b holds one section of MATH-1: another is refused, naming it; another course is not.
    assert_eq!(run(&mut state, enroll("b", "MATH-1-2", false)), Outcome::Enrolled);
    let refused = state.apply(at(0), &enroll("b", "MATH-1-3", false));
    assert_eq!(refused.rules, RulesVersion::V2);
    assert_eq!(refused.outcome, duplicate("MATH-1", "MATH-1-2"));
    assert_eq!(run(&mut state, enroll("b", "HIST-5-1", false)), Outcome::Enrolled);
    // The same section still answers already_enrolled, checked before.
    assert_eq!(
        run(&mut state, enroll("b", "MATH-1-2", false)),
        Outcome::AlreadyEnrolled
    );
}

#[test]
fn waiting_for_a_section_counts_as_holding_its_course() {
    let mut state = setup(catalog());
    run(&mut state, upgrade());
    assert_eq!(run(&mut state, enroll("a", "MATH-1-1", false)), Outcome::Enrolled);
    assert_eq!(
        run(&mut state, enroll("b", "MATH-1-1", true)),
        Outcome::Waitlisted { position: 1 }
    );
    // Waiting for MATH-1-1, b may neither enroll in nor wait for another section of it.
    assert_eq!(
        run(&mut state, enroll("b", "MATH-1-2", false)),
        duplicate("MATH-1", "MATH-1-1")
    );
    // Holding MATH-1-2, c may not join MATH-1-1's line.
    assert_eq!(run(&mut state, enroll("c", "MATH-1-2", false)), Outcome::Enrolled);
    assert_eq!(
        run(&mut state, enroll("c", "MATH-1-1", true)),
        duplicate("MATH-1", "MATH-1-2")
    );
    assert_eq!(waitlist(&state, "MATH-1-1"), ["b"]);
}

#[test]
fn a_swap_within_a_course_is_allowed_and_into_a_held_course_is_not() {
    let mut state = setup(catalog());
    run(&mut state, upgrade());
    run(&mut state, enroll("a", "MATH-1-2", false));
    run(&mut state, enroll("a", "HIST-5-1", false));
    assert_eq!(
        run(&mut state, Command::swap("a", "MATH-1-2", "MATH-1-3")),
        Outcome::Swapped {
            promoted: vec![],
            linked: None
        }
    );
    // Leaving HIST-5-1 for a section of MATH-1, which a still holds, would make two.
    assert_eq!(
        run(&mut state, Command::swap("a", "HIST-5-1", "MATH-1-2")),
        duplicate("MATH-1", "MATH-1-3")
    );
    assert_eq!(enrolled(&state, "HIST-5-1"), ["a"], "a refused swap leaves nothing");
}

#[test]
fn a_lecture_and_its_linked_section_are_one_holding() {
    let part = |id: &str, days: &str| Command::create_section(id, "Lab", 0, 2, 0, vec![meeting(days, "13:00")]);
    let mut lecture = Command::create_section("CHEM-20-1", "Lecture", 4, 2, 2, vec![meeting("M", "10:00")]);
    if let Command::CreateSection { linked, .. } = &mut lecture {
        *linked = vec!["CHEM-20-1A".into(), "CHEM-20-1B".into()];
    }
    let other = new_section("CHEM-20-2", 2, 2, vec![meeting("F", "10:00")]);
    let mut state = setup(vec![
        part("CHEM-20-1A", "T"),
        part("CHEM-20-1B", "R"),
        lecture,
        other,
        new_student("a"),
    ]);
    run(&mut state, upgrade());
    let pair = |with: &str| Command::Enroll {
        student: "a".into(),
        section: "CHEM-20-1".into(),
        waitlist: false,
        with: Some(with.into()),
        permission: None,
    };
    assert_eq!(
        run(&mut state, pair("CHEM-20-1A")),
        Outcome::Enrolled,
        "one holding, not two"
    );
    // Between the lecture's labs, the holding is kept.
    assert_eq!(
        run(&mut state, Command::swap("a", "CHEM-20-1A", "CHEM-20-1B")),
        Outcome::Swapped {
            promoted: vec![],
            linked: None
        }
    );
    assert_eq!(
        run(&mut state, enroll("a", "CHEM-20-2", false)),
        duplicate("CHEM-20", "CHEM-20-1")
    );
}

#[test]
fn promotion_skips_a_waiter_the_rule_would_break_and_keeps_their_place() {
    let mut state = setup(catalog());
    // Under version 1: b holds MATH-1-2 and waits for MATH-1-1; c waits behind b.
    run(&mut state, enroll("a", "MATH-1-1", false));
    run(&mut state, enroll("b", "MATH-1-2", false));
    assert_eq!(
        run(&mut state, enroll("b", "MATH-1-1", true)),
        Outcome::Waitlisted { position: 1 }
    );
    run(&mut state, enroll("c", "MATH-1-1", true));
    run(&mut state, upgrade());
    // a's seat frees: b would hold two sections of MATH-1, so c gets it.
    let applied = state.apply(at(0), &drop_("a", "MATH-1-1"));
    assert_eq!(applied.outcome, dropped(vec!["c".into()]));
    assert_eq!(
        applied.effects.skipped,
        [Skip {
            section: "MATH-1-1".into(),
            student: "b".into(),
            reason: duplicate("MATH-1", "MATH-1-2"),
        }]
    );
    assert_eq!(waitlist(&state, "MATH-1-1"), ["b"], "b keeps the place");
    // Once b drops MATH-1-2, b is promotable again: the next free seat is b's.
    run(&mut state, drop_("b", "MATH-1-2"));
    run(&mut state, drop_("c", "MATH-1-1"));
    assert_eq!(enrolled(&state, "MATH-1-1"), ["b"]);
}

#[test]
fn a_new_log_starts_at_the_rules_it_is_given() {
    let mut state = State::starting_at(RulesVersion::V2);
    for command in catalog() {
        run(&mut state, command);
    }
    run(&mut state, enroll("a", "MATH-1-2", false));
    assert_eq!(
        run(&mut state, enroll("a", "MATH-1-3", false)),
        duplicate("MATH-1", "MATH-1-2")
    );
}

#[test]
fn leaving_one_line_of_a_course_makes_the_other_promotable_at_once() {
    let mut state = setup(catalog());
    // Under version 1: MATH-1-2 has one seat; a takes MATH-1-1's, b MATH-1-2's, and c
    // waits in both lines of MATH-1.
    run(
        &mut state,
        Command::SetCapacity {
            section: "MATH-1-2".into(),
            capacity: 1,
        },
    );
    run(&mut state, enroll("a", "MATH-1-1", false));
    run(&mut state, enroll("b", "MATH-1-2", false));
    assert_eq!(
        run(&mut state, enroll("c", "MATH-1-1", true)),
        Outcome::Waitlisted { position: 1 }
    );
    assert_eq!(
        run(&mut state, enroll("c", "MATH-1-2", true)),
        Outcome::Waitlisted { position: 1 }
    );
    run(&mut state, upgrade());
    // b's seat frees: c waits for MATH-1-1 too, so c is skipped and the seat stays free.
    let freed = state.apply(at(0), &drop_("b", "MATH-1-2"));
    assert_eq!(freed.outcome, dropped(vec![]));
    assert_eq!(freed.effects.skipped.len(), 1, "{:?}", freed.effects);
    // c leaves MATH-1-1's line: nothing holds c back from the free seat any more.
    let left = state.apply(at(0), &drop_("c", "MATH-1-1"));
    assert_eq!(left.outcome, dropped(vec![]));
    assert_eq!(enrolled(&state, "MATH-1-2"), ["c"], "promoted in the same step");
    assert_eq!(left.effects.promoted.len(), 1, "{:?}", left.effects);
}
