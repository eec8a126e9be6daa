//! Plain examples that pin the registrar's rules: linked sections taken, dropped,
//! swapped and waited for as pairs; prerequisites against completed courses;
//! single-use permission numbers and what they never override; reserved seats, and
//! the clock that releases them to all and to the waitlist.

use murphy_core::{Command, LinkProblem, Meeting, Outcome, Population, Promotion, Release, Reservation, State};

use super::at;
use super::examples::{drop_, dropped, enroll, enrolled, new_section, new_student, run, setup, waitlist};

fn meeting(days: &str, start: &str, end: &str) -> Meeting {
    Meeting::parse(days, start, end).unwrap()
}

/// Lecture L (capacity `seats`, a line of 5) with discussions D1 and D2 of one seat.
fn lecture_with_discussions(seats: u32) -> Vec<Command> {
    let part = |id: &str, days: &str| {
        Command::create_section(id, "Discussion", 0, 1, 0, vec![meeting(days, "13:00", "14:00")])
    };
    let mut lecture = Command::create_section("L", "Lecture", 4, seats, 5, vec![meeting("MW", "10:00", "11:00")]);
    if let Command::CreateSection { linked, .. } = &mut lecture {
        *linked = vec!["D1".into(), "D2".into()];
    }
    vec![part("D1", "T"), part("D2", "R"), lecture]
}

fn pair(student: &str, with: &str, waitlist: bool) -> Command {
    Command::Enroll {
        student: student.into(),
        section: "L".into(),
        waitlist,
        with: Some(with.into()),
        permission: None,
    }
}

fn with_students(mut commands: Vec<Command>, ids: &[&str]) -> Vec<Command> {
    commands.extend(ids.iter().map(|id| new_student(id)));
    commands
}

#[test]
fn a_lecture_is_taken_dropped_and_swapped_with_its_discussion() {
    let mut state = setup(with_students(lecture_with_discussions(3), &["a", "b"]));
    let choices = vec!["D1".to_string(), "D2".to_string()];
    assert_eq!(
        run(&mut state, enroll("a", "L", false)),
        Outcome::NeedsLinked {
            choices: choices.clone()
        }
    );
    assert_eq!(
        run(&mut state, pair("a", "X", false)),
        Outcome::NoSuchSection { section: "X".into() }
    );
    assert_eq!(
        run(&mut state, enroll("a", "D1", false)),
        Outcome::NeedsLinked {
            choices: vec!["L".into()]
        }
    );
    assert_eq!(run(&mut state, pair("a", "D1", false)), Outcome::Enrolled);
    assert_eq!(
        (enrolled(&state, "L"), enrolled(&state, "D1")),
        (vec!["a".into()], vec!["a".into()])
    );
    // D1 is full: b gets neither seat, though L has two.
    assert_eq!(run(&mut state, pair("b", "D1", false)), Outcome::Full);
    assert!(enrolled(&state, "L") == ["a"], "all or nothing");
    // A swap between discussions keeps the lecture; a discussion is never dropped alone.
    assert_eq!(
        run(&mut state, Command::swap("a", "D1", "D2")),
        Outcome::Swapped {
            promoted: vec![],
            linked: None
        }
    );
    assert_eq!(
        (enrolled(&state, "L"), enrolled(&state, "D2")),
        (vec!["a".into()], vec!["a".into()])
    );
    assert_eq!(
        run(&mut state, drop_("a", "D2")),
        Outcome::NeedsLinked {
            choices: vec!["L".into()]
        }
    );
    assert_eq!(
        run(&mut state, drop_("a", "L")),
        Outcome::Dropped {
            promoted: vec![],
            linked: Some("D2".into())
        }
    );
    assert!(enrolled(&state, "L").is_empty() && enrolled(&state, "D2").is_empty());
}

#[test]
fn a_pair_is_promoted_only_when_both_seats_are_free() {
    let mut state = setup(with_students(lecture_with_discussions(2), &["a", "b", "c"]));
    assert_eq!(run(&mut state, pair("a", "D1", false)), Outcome::Enrolled);
    assert_eq!(
        run(&mut state, pair("b", "D1", true)),
        Outcome::Waitlisted { position: 1 }
    );
    assert_eq!(run(&mut state, pair("c", "D2", false)), Outcome::Enrolled);
    // L is now full; c dropping frees a lecture seat, but b waits for D1, still taken.
    let applied = state.apply(at(0), &drop_("c", "L"));
    assert_eq!(
        applied.outcome,
        Outcome::Dropped {
            promoted: vec![],
            linked: Some("D2".into())
        }
    );
    assert_eq!(
        applied.effects.skipped[0].reason,
        Outcome::Full,
        "skipped: D1 has no seat"
    );
    assert_eq!(waitlist(&state, "L"), ["b"]);
    // a leaves both: b takes both, in the same step.
    let applied = state.apply(at(0), &drop_("a", "L"));
    let promotion = |section: &str| Promotion {
        section: section.into(),
        student: "b".into(),
    };
    assert_eq!(applied.effects.promoted, vec![promotion("L"), promotion("D1")]);
    assert_eq!(
        (enrolled(&state, "L"), enrolled(&state, "D1")),
        (vec!["b".into()], vec!["b".into()])
    );
}

#[test]
fn links_must_be_to_empty_unlinked_plain_sections() {
    let mut state = setup(with_students(lecture_with_discussions(2), &["a"]));
    let relink = |links: &[&str], meets: Vec<Meeting>| {
        let mut command = Command::create_section("M", "Another", 4, 2, 0, meets);
        if let Command::CreateSection { linked, .. } = &mut command {
            *linked = links.iter().map(|l| l.to_string()).collect();
        }
        command
    };
    let refused = |section: &str, reason| Outcome::CannotLink {
        section: section.into(),
        reason,
    };
    assert_eq!(
        run(&mut state, relink(&["D1"], vec![])),
        refused("D1", LinkProblem::LinkedElsewhere)
    );
    assert_eq!(
        run(&mut state, relink(&["L"], vec![])),
        refused("L", LinkProblem::HasLinks)
    );
    run(&mut state, new_section("P", 2, 0, vec![meeting("F", "09:00", "10:00")]));
    assert_eq!(
        run(&mut state, relink(&["P"], vec![meeting("F", "09:30", "10:30")])),
        refused("P", LinkProblem::MeetsAtTheSameTime)
    );
    run(&mut state, enroll("a", "P", false));
    assert_eq!(
        run(&mut state, relink(&["P"], vec![])),
        refused("P", LinkProblem::NotEmpty)
    );
    assert!(state.section("M").is_none(), "nothing created");
}

/// Section S needs C1; student a has not completed it.
fn with_prerequisite() -> State {
    let mut section = new_section("S", 1, 0, vec![]);
    if let Command::CreateSection { prerequisites, .. } = &mut section {
        prerequisites.push("C1".into());
    }
    setup(vec![section, new_student("a"), new_student("b")])
}

fn permission(state: &mut State, student: &str, section: &str) -> String {
    match run(
        state,
        Command::IssuePermission {
            student: student.into(),
            section: section.into(),
        },
    ) {
        Outcome::Permission { code } => code,
        other => panic!("issue_permission answered {other:?}"),
    }
}

fn permitted(student: &str, section: &str, code: &str) -> Command {
    Command::Enroll {
        student: student.into(),
        section: section.into(),
        waitlist: false,
        with: None,
        permission: Some(code.into()),
    }
}

#[test]
fn a_missing_prerequisite_is_named_until_it_is_completed() {
    let mut state = with_prerequisite();
    assert_eq!(
        run(&mut state, enroll("a", "S", false)),
        Outcome::MissingPrerequisite { course: "C1".into() }
    );
    let complete = Command::RecordCompletion {
        student: "a".into(),
        course: "C1".into(),
    };
    assert_eq!(run(&mut state, complete.clone()), Outcome::CompletionRecorded);
    assert_eq!(run(&mut state, complete), Outcome::AlreadyExists);
    assert_eq!(run(&mut state, enroll("a", "S", false)), Outcome::Enrolled);
}

#[test]
fn a_permission_number_waives_the_prerequisite_once_and_for_its_owner_only() {
    let mut state = with_prerequisite();
    let code = permission(&mut state, "a", "S");
    assert_eq!(
        run(&mut state, permitted("b", "S", &code)),
        Outcome::BadPermission,
        "not b's"
    );
    assert_eq!(
        run(&mut state, permitted("a", "S", "WRONG-CODE")),
        Outcome::BadPermission
    );
    assert_eq!(run(&mut state, permitted("a", "S", &code)), Outcome::Enrolled);
    let used = &state.student("a").unwrap().permissions[0];
    assert_eq!(used.used, Some(state.lsn()), "used by that enroll");
    run(&mut state, drop_("a", "S"));
    assert_eq!(
        run(&mut state, permitted("a", "S", &code)),
        Outcome::BadPermission,
        "single use"
    );
}

#[test]
fn a_permission_number_never_overrides_capacity_units_or_time() {
    let mut state = setup(vec![
        new_section("S", 1, 3, vec![meeting("MW", "09:00", "10:00")]),
        new_section("T", 5, 0, vec![meeting("M", "09:30", "10:30")]),
        new_student("a"),
        new_student("b"),
        enroll("b", "S", false),
    ]);
    let code = permission(&mut state, "a", "S");
    assert_eq!(run(&mut state, permitted("a", "S", &code)), Outcome::Full, "capacity");
    let waiting = Command::Enroll {
        student: "a".into(),
        section: "S".into(),
        waitlist: true,
        with: None,
        permission: Some(code.clone()),
    };
    assert_eq!(
        run(&mut state, waiting),
        Outcome::Full,
        "a permission never waits in line"
    );
    run(&mut state, drop_("b", "S"));
    run(&mut state, enroll("a", "T", false));
    assert_eq!(
        run(&mut state, permitted("a", "S", &code)),
        Outcome::TimeConflict { with: "T".into() }
    );
    assert!(
        state.student("a").unwrap().permissions[0].used.is_none(),
        "not used by a refusal"
    );
}

#[test]
fn a_permission_number_waives_the_appointment() {
    let mut state = with_prerequisite();
    run(
        &mut state,
        Command::RecordCompletion {
            student: "a".into(),
            course: "C1".into(),
        },
    );
    run(
        &mut state,
        Command::SetAppointment {
            student: "a".into(),
            at: Some(at(3_600)),
        },
    );
    assert!(matches!(
        run(&mut state, enroll("a", "S", false)),
        Outcome::NotOpen { .. }
    ));
    let code = permission(&mut state, "a", "S");
    assert_eq!(run(&mut state, permitted("a", "S", &code)), Outcome::Enrolled);
}

/// Section R: 3 seats, 2 held for COMSCI majors until `until`; major m, others o1 to o3.
fn reserved_section(until: i64) -> State {
    let mut section = new_section("R", 3, 5, vec![]);
    if let Command::CreateSection { reserved, .. } = &mut section {
        reserved.push(Reservation {
            population: Population::Major("COMSCI".into()),
            seats: 2,
            until: at(until),
        });
    }
    let mut commands = vec![section];
    let mut major = Command::create_student("m", "Major", 20);
    if let Command::CreateStudent { major: m, .. } = &mut major {
        *m = Some("COMSCI".into());
    }
    commands.push(major);
    commands.extend(["o1", "o2", "o3"].map(new_student));
    setup(commands)
}

/// The reservation clock: before the instant, non-majors find only the unreserved seat
/// and then `reserved`; at it, the first command applied releases the seats to all and
/// promotes the waitlist in the same step, before its own work, and says so.
#[test]
fn reserved_seats_open_to_all_and_to_the_waitlist_at_their_instant() {
    let until = 3_600;
    let mut state = reserved_section(until);
    assert_eq!(
        run(&mut state, enroll("o1", "R", false)),
        Outcome::Enrolled,
        "the unreserved seat"
    );
    assert_eq!(
        run(&mut state, enroll("o2", "R", false)),
        Outcome::Reserved { until: at(until) }
    );
    assert_eq!(
        run(&mut state, enroll("o3", "R", true)),
        Outcome::Waitlisted { position: 1 }
    );
    assert_eq!(
        run(&mut state, enroll("m", "R", false)),
        Outcome::Enrolled,
        "a major takes a held seat"
    );
    assert_eq!(state.section("R").unwrap().held(), 1);
    assert_eq!(
        state.apply(at(until - 1), &enroll("o2", "R", false)).outcome,
        Outcome::Reserved { until: at(until) }
    );
    // The instant: the next command, whatever it is, releases first.
    let applied = state.apply(at(until), &enroll("o2", "R", false));
    let release = Release {
        section: "R".into(),
        population: Population::Major("COMSCI".into()),
        seats: 2,
        held: 1,
        until: at(until),
    };
    assert_eq!(applied.effects.released, vec![release]);
    assert_eq!(
        applied.effects.promoted,
        vec![Promotion {
            section: "R".into(),
            student: "o3".into()
        }]
    );
    assert_eq!(applied.outcome, Outcome::Full, "the waitlist came first");
    assert!(state.section("R").unwrap().reserved.is_empty());
    assert_eq!(enrolled(&state, "R"), ["o1", "m", "o3"]);
    assert_eq!(run(&mut state, drop_("m", "R")), dropped(vec![]));
    assert_eq!(
        state.apply(at(until + 1), &enroll("o2", "R", false)).outcome,
        Outcome::Enrolled,
        "after: open to all"
    );
}

#[test]
fn capacity_never_goes_below_the_seats_still_held() {
    let mut state = reserved_section(3_600);
    run(&mut state, enroll("o1", "R", false));
    let lower = |capacity| Command::SetCapacity {
        section: "R".into(),
        capacity,
    };
    assert_eq!(
        run(&mut state, lower(2)),
        Outcome::BelowReserved { enrolled: 1, held: 2 }
    );
    assert_eq!(run(&mut state, lower(3)), Outcome::CapacitySet { promoted: vec![] });
    let code = permission(&mut state, "o2", "R");
    assert_eq!(
        run(&mut state, permitted("o2", "R", &code)),
        Outcome::Enrolled,
        "a permission opens a held seat"
    );
    assert_eq!(
        state.section("R").unwrap().held(),
        1,
        "and takes it from the reservation"
    );
}
