//! Plain examples that pin the specific rules of docs/DESIGN.md §3: the overdraft fee and
//! its limit, transfers, holds, skips in line, swaps, appointments.

use murphy_core::state::{OVERDRAFT_CENTS_MAX, OVERDRAFT_FEE_CENTS};
use murphy_core::{Command, Meeting, Outcome, Promotion, Skip, State};

use super::{at, sections, students};

fn meeting(days: &str, start: &str, end: &str) -> Meeting {
    Meeting::parse(days, start, end).unwrap()
}

pub fn new_section(id: &str, capacity: u32, waitlist_capacity: u32, meetings: Vec<Meeting>) -> Command {
    Command::create_section(id, &format!("Section {id}"), 4, capacity, waitlist_capacity, meetings)
}

pub fn new_student(id: &str) -> Command {
    Command::create_student(id, &format!("Student {id}"), 20)
}

pub fn enroll(student: &str, section: &str, waitlist: bool) -> Command {
    Command::enroll(student, section, waitlist)
}

pub fn drop_(student: &str, section: &str) -> Command {
    Command::Drop {
        student: student.into(),
        section: section.into(),
    }
}

fn swap(student: &str, from: &str, to: &str) -> Command {
    Command::swap(student, from, to)
}

fn deposit(student: &str, amount_cents: i64) -> Command {
    Command::Deposit {
        student: student.into(),
        amount_cents,
    }
}

fn withdraw(student: &str, amount_cents: i64) -> Command {
    Command::Withdraw {
        student: student.into(),
        amount_cents,
    }
}

fn transfer(from: &str, to: &str, amount_cents: i64) -> Command {
    Command::Transfer {
        from: from.into(),
        to: to.into(),
        amount_cents,
    }
}

pub fn dropped(promoted: Vec<String>) -> Outcome {
    Outcome::Dropped { promoted, linked: None }
}

fn swapped() -> Outcome {
    Outcome::Swapped {
        promoted: vec![],
        linked: None,
    }
}

fn balance(cents: i64, fee_cents: i64) -> Outcome {
    Outcome::Balance { cents, fee_cents }
}

/// Applies at time 0 and returns the outcome.
pub fn run(state: &mut State, command: Command) -> Outcome {
    state.apply(at(0), &command).outcome
}

/// A state built by `commands`, each of which must succeed.
pub fn setup(commands: Vec<Command>) -> State {
    let mut state = State::default();
    for command in commands {
        let outcome = run(&mut state, command.clone());
        assert!(!outcome.is_refusal(), "setup {command:?} refused: {outcome:?}");
    }
    state
}

fn balance_of(state: &State, id: &str) -> i64 {
    state.student(id).expect("student exists").balance_cents
}

pub fn enrolled(state: &State, id: &str) -> Vec<String> {
    state
        .section(id)
        .expect("section exists")
        .enrolled
        .iter()
        .map(|s| s.to_string())
        .collect()
}

pub fn waitlist(state: &State, id: &str) -> Vec<String> {
    state
        .section(id)
        .expect("section exists")
        .waitlist
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn overdraft_costs_the_fee_only_below_zero() {
    let mut state = setup(vec![new_student("a"), deposit("a", 1_000)]);
    assert_eq!(
        run(&mut state, withdraw("a", 1_000)),
        balance(0, 0),
        "down to zero is free"
    );
    assert_eq!(
        run(&mut state, withdraw("a", 1)),
        balance(-1 - OVERDRAFT_FEE_CENTS, OVERDRAFT_FEE_CENTS)
    );
    assert_eq!(OVERDRAFT_FEE_CENTS, 3_000, "the lecture's 30 bucks");
    assert_eq!(balance_of(&state, "a"), -3_001);
}

#[test]
fn overdraft_stops_at_the_limit_fee_included() {
    let mut state = setup(vec![new_student("a")]);
    let most = OVERDRAFT_CENTS_MAX - OVERDRAFT_FEE_CENTS;
    assert_eq!(
        run(&mut state, withdraw("a", most + 1)),
        Outcome::InsufficientFunds { balance_cents: 0 }
    );
    assert_eq!(balance_of(&state, "a"), 0, "a refused withdrawal takes nothing");
    assert_eq!(
        run(&mut state, withdraw("a", most)),
        balance(-OVERDRAFT_CENTS_MAX, OVERDRAFT_FEE_CENTS)
    );
    let refused = Outcome::InsufficientFunds {
        balance_cents: -OVERDRAFT_CENTS_MAX,
    };
    assert_eq!(run(&mut state, withdraw("a", 1)), refused);
    assert_eq!(balance_of(&state, "a"), -OVERDRAFT_CENTS_MAX);
}

#[test]
fn transfer_never_overdraws_and_conserves_money() {
    let mut state = setup(vec![new_student("a"), new_student("b"), deposit("a", 500)]);
    assert_eq!(
        run(&mut state, transfer("a", "b", 501)),
        Outcome::InsufficientFunds { balance_cents: 500 }
    );
    assert_eq!((balance_of(&state, "a"), balance_of(&state, "b")), (500, 0));
    assert_eq!(run(&mut state, transfer("a", "b", 500)), balance(0, 0));
    assert_eq!((balance_of(&state, "a"), balance_of(&state, "b")), (0, 500));
    assert_eq!(
        run(&mut state, transfer("a", "b", 1)),
        Outcome::InsufficientFunds { balance_cents: 0 }
    );
}

#[test]
fn a_hold_blocks_enrolling_but_not_dropping() {
    let mut state = setup(vec![
        new_section("X", 2, 0, vec![]),
        new_section("Y", 2, 0, vec![]),
        new_student("a"),
        enroll("a", "X", false),
        withdraw("a", 1),
    ]);
    let hold = Outcome::Hold { balance_cents: -3_001 };
    assert_eq!(run(&mut state, enroll("a", "Y", false)), hold);
    assert_eq!(run(&mut state, swap("a", "X", "Y")), hold);
    assert_eq!(run(&mut state, drop_("a", "X")), dropped(vec![]));
    assert!(enrolled(&state, "X").is_empty());
    assert_eq!(run(&mut state, deposit("a", 3_001)), balance(0, 0));
    assert_eq!(
        run(&mut state, enroll("a", "Y", false)),
        Outcome::Enrolled,
        "paying lifts the hold"
    );
}

#[test]
fn a_drop_promotes_the_first_eligible_and_skips_a_held_one() {
    let mut state = setup(vec![
        new_section("X", 1, 3, vec![]),
        new_student("a"),
        new_student("b"),
        new_student("c"),
        enroll("a", "X", false),
        enroll("b", "X", true),
        enroll("c", "X", true),
        withdraw("b", 1),
    ]);
    let applied = state.apply(at(0), &drop_("a", "X"));
    assert_eq!(applied.outcome, dropped(vec!["c".into()]));
    assert_eq!(
        applied.effects.promoted,
        vec![Promotion {
            section: "X".into(),
            student: "c".into()
        }]
    );
    let reason = Outcome::Hold { balance_cents: -3_001 };
    assert_eq!(
        applied.effects.skipped,
        vec![Skip {
            section: "X".into(),
            student: "b".into(),
            reason
        }]
    );
    assert_eq!(
        (enrolled(&state, "X"), waitlist(&state, "X")),
        (vec!["c".into()], vec!["b".into()])
    );
    // b keeps their place: paying with no free seat changes nothing, the next seat is b's.
    assert_eq!(state.apply(at(0), &deposit("b", 3_001)).effects, Default::default());
    assert_eq!(run(&mut state, drop_("c", "X")), dropped(vec!["b".into()]));
}

#[test]
fn a_refused_swap_leaves_the_student_where_they_were() {
    let mut state = setup(vec![
        new_section("X", 1, 0, vec![meeting("MW", "09:00", "10:00")]),
        new_section("Y", 1, 0, vec![meeting("TR", "09:00", "10:00")]),
        new_section("Z", 1, 0, vec![meeting("R", "09:30", "11:00")]),
        new_student("a"),
        new_student("b"),
        enroll("a", "X", false),
        enroll("b", "Y", false),
    ]);
    let before = state.clone();
    assert_eq!(run(&mut state, swap("a", "X", "Y")), Outcome::Full);
    assert_eq!(
        (sections(&state), students(&state)),
        (sections(&before), students(&before))
    );
    assert_eq!(run(&mut state, drop_("b", "Y")), dropped(vec![]));
    assert_eq!(run(&mut state, enroll("a", "Z", false)), Outcome::Enrolled);
    assert_eq!(
        run(&mut state, swap("a", "X", "Y")),
        Outcome::TimeConflict { with: "Z".into() }
    );
    assert_eq!(
        enrolled(&state, "X"),
        vec!["a".to_string()],
        "a refused swap drops nothing"
    );
    assert_eq!(run(&mut state, drop_("a", "Z")), dropped(vec![]));
    assert_eq!(run(&mut state, swap("a", "X", "Y")), swapped());
    assert_eq!(
        (enrolled(&state, "X"), enrolled(&state, "Y")),
        (vec![], vec!["a".to_string()])
    );
}

#[test]
fn swapping_between_overlapping_sections_is_no_conflict() {
    let mut state = setup(vec![
        new_section("X", 1, 0, vec![meeting("MW", "09:00", "10:00")]),
        new_section("Y", 1, 0, vec![meeting("W", "09:30", "10:30")]),
        new_student("a"),
        enroll("a", "X", false),
    ]);
    assert_eq!(
        run(&mut state, enroll("a", "Y", false)),
        Outcome::TimeConflict { with: "X".into() }
    );
    assert_eq!(run(&mut state, swap("a", "X", "Y")), swapped());
}

#[test]
fn enrolling_before_the_appointment_is_not_open() {
    let opens_at = at(3_600);
    let appointment = Command::SetAppointment {
        student: "a".into(),
        at: Some(opens_at),
    };
    let mut state = setup(vec![new_section("X", 1, 0, vec![]), new_student("a"), appointment]);
    let early = state.apply(at(3_599), &enroll("a", "X", false));
    assert_eq!(early.outcome, Outcome::NotOpen { opens_at });
    assert!(enrolled(&state, "X").is_empty());
    assert_eq!(
        state.apply(opens_at, &enroll("a", "X", false)).outcome,
        Outcome::Enrolled,
        "open at the instant"
    );
}
