//! The checker knows the registrar's rules because its replay runs them: a correct run
//! with linked sections, prerequisites, permission numbers and reserved seats is clean
//! (first come, first served included: a major taking a seat held for majors overtakes
//! nobody), and a hand-made bad log that breaks each rule is caught, by the check it
//! breaks, with a sentence that says how.

mod common;

use common::*;
use murphy_core::{Command, Outcome, Population, Reservation};
use time::OffsetDateTime;

/// Lecture L (2 seats) taken with D1 (1 seat) or D2 (2 seats), requiring C1; section R (2
/// seats, 1 held for COMSCI majors until an hour after the start); students s1 to s6,
/// s1 a COMSCI major, the others not; s1 to s4 have completed C1.
fn registrar() -> Run {
    let mut run = Run::new();
    let until = OffsetDateTime::from_unix_timestamp(1_767_225_600 + 3_600).unwrap();
    let mut lecture = section("L", 2, 2, vec![meeting("MW", "10:00", "11:00")]);
    let mut reserved = section("R", 2, 2, vec![meeting("TR", "10:00", "11:00")]);
    if let Command::CreateSection {
        linked, prerequisites, ..
    } = &mut lecture
    {
        *linked = vec!["D1".into(), "D2".into()];
        prerequisites.push("C1".into());
    }
    if let Command::CreateSection { reserved: r, .. } = &mut reserved {
        r.push(Reservation {
            population: Population::Major("COMSCI".into()),
            seats: 1,
            until,
        });
    }
    run.admin(&[
        section("D1", 1, 0, vec![meeting("F", "10:00", "11:00")]),
        section("D2", 2, 0, vec![meeting("F", "11:00", "12:00")]),
        lecture,
        reserved,
    ]);
    let students: Vec<Command> = (1..=6)
        .map(|i| {
            let mut s = student(&format!("s{i}"));
            if let Command::CreateStudent { major, completed, .. } = &mut s {
                *major = Some(if i == 1 { "COMSCI" } else { "HIST" }.into());
                if i <= 4 {
                    completed.push("C1".into());
                }
            }
            s
        })
        .collect();
    run.admin(&students);
    run
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

fn permitted(student: &str, with: &str, code: &str) -> Command {
    Command::Enroll {
        student: student.into(),
        section: "L".into(),
        waitlist: false,
        with: Some(with.into()),
        permission: Some(code.into()),
    }
}

/// The code the registrar issued to `student` for L.
fn issue(run: &mut Run, student: &str) -> String {
    let issued = run.admin(&[Command::IssuePermission {
        student: student.into(),
        section: "L".into(),
    }]);
    match only(&issued) {
        Outcome::Permission { code } => code.clone(),
        other => panic!("issue_permission answered {other:?}"),
    }
}

/// Every rule used, correctly: the run checks clean.
fn correct_run() -> Run {
    let mut run = registrar();
    assert_eq!(only(&run.send("c1", &[pair("s1", "D1", false)]).1), &Outcome::Enrolled);
    assert_eq!(
        only(&run.send("c2", &[pair("s2", "D1", true)]).1),
        &Outcome::Waitlisted { position: 1 }
    );
    assert_eq!(only(&run.send("c3", &[pair("s3", "D2", false)]).1), &Outcome::Enrolled);
    let missing = Outcome::MissingPrerequisite { course: "C1".into() };
    assert_eq!(
        only(&run.send("c5", &[enroll("s5", "L")]).1),
        &Outcome::NeedsLinked {
            choices: vec!["D1".into(), "D2".into()]
        }
    );
    assert_eq!(only(&run.send("c5", &[pair("s5", "D2", false)]).1), &missing);
    // s1 leaves the pair: s2 (waiting for D1) gets both seats in the same step.
    let dropped = run.send("c1", &[drop("s1", "L")]).1;
    assert!(matches!(only(&dropped), Outcome::Dropped { linked: Some(d), .. } if d == "D1"));
    // s2 swaps discussions: keeps L.
    let swapped = Outcome::Swapped {
        promoted: vec![],
        linked: None,
    };
    assert_eq!(only(&run.send("c2", &[swap("s2", "D1", "D2")]).1), &swapped);
    // Reserved: a non-major takes the unreserved seat, the next is refused, a major is not.
    assert_eq!(only(&run.send("c4", &[enroll("s4", "R")]).1), &Outcome::Enrolled);
    assert!(matches!(
        only(&run.send("c6", &[enroll("s6", "R")]).1),
        Outcome::Reserved { .. }
    ));
    assert_eq!(only(&run.send("c1", &[enroll("s1", "R")]).1), &Outcome::Enrolled);
    run
}

#[test]
fn a_correct_run_with_every_rule_is_clean() {
    let run = correct_run();
    let report = run.check();
    assert!(report.is_clean(), "{report}");
    assert!(report.fcfs.checked >= 5, "{report}");
}

#[test]
fn a_lecture_granted_without_its_linked_section_is_caught() {
    let mut run = registrar();
    let results = run.send("c1", &[enroll("s1", "L")]).1;
    run.rewrite_outcome(results[0].lsn, Outcome::Enrolled);
    let report = run.check();
    assert_counts(&report, [1, 0, 0, 0, 0]);
    let example = &report.invariants.examples[0];
    assert!(
        example.contains("logged enrolled, but replay answers needs_linked"),
        "{example}"
    );
}

/// D1 has one seat; the log seats a second pair in it.
#[test]
fn a_full_linked_section_granted_is_caught_as_an_overbooking() {
    let mut run = registrar();
    run.send("c1", &[pair("s1", "D1", false)]);
    let results = run.send("c2", &[pair("s2", "D1", false)]).1;
    assert_eq!(only(&results), &Outcome::Full);
    run.rewrite_outcome(results[0].lsn, Outcome::Enrolled);
    let report = run.check();
    let example = &report.invariants.examples[0];
    assert!(example.contains("replay answers full"), "{example}");
    assert!(example.contains("D1 now seats 2 students in 1 seat"), "{example}");
    assert_eq!(report.fcfs.violations, 0, "nobody was refused before: {report}");
}

/// A drop of the lecture that the log says left the discussion behind.
#[test]
fn a_lecture_dropped_without_its_linked_section_is_caught() {
    let mut run = registrar();
    run.send("c1", &[pair("s1", "D1", false)]);
    let results = run.send("c1", &[drop("s1", "L")]).1;
    run.rewrite_outcome(
        results[0].lsn,
        Outcome::Dropped {
            promoted: vec![],
            linked: None,
        },
    );
    let report = run.check();
    let example = &report.invariants.examples[0];
    assert!(
        example.contains(r#"logged dropped {"promoted":[]}, but replay answers dropped {"linked":"D1","promoted":[]}"#),
        "{example}"
    );
}

#[test]
fn a_missing_prerequisite_bypassed_is_caught() {
    let mut run = registrar();
    let results = run.send("c5", &[pair("s5", "D1", false)]).1;
    run.rewrite_outcome(results[0].lsn, Outcome::Enrolled);
    let report = run.check();
    assert_counts(&report, [1, 0, 0, 0, 0]);
    assert!(
        report.invariants.examples[0].contains(r#"replay answers missing_prerequisite {"course":"C1"}"#),
        "{report}"
    );
}

/// A permission number used twice: the second use is refused by the rules.
#[test]
fn a_permission_number_used_twice_is_caught() {
    let mut run = registrar();
    let code = issue(&mut run, "s5");
    assert_eq!(
        only(&run.send("c5", &[permitted("s5", "D1", &code)]).1),
        &Outcome::Enrolled
    );
    assert!(run.check().is_clean(), "the first use is fine: {}", run.check());
    run.send("c5", &[drop("s5", "L")]);
    let again = run.send("c5", &[permitted("s5", "D1", &code)]).1;
    assert_eq!(only(&again), &Outcome::BadPermission);
    run.rewrite_outcome(again[0].lsn, Outcome::Enrolled);
    let report = run.check();
    assert!(
        report.invariants.examples[0].contains("replay answers bad_permission"),
        "{report}"
    );
}

/// A non-major seated in the seat held for majors, before the instant.
#[test]
fn a_reserved_seat_given_away_is_caught() {
    let mut run = registrar();
    run.send("c4", &[enroll("s4", "R")]);
    let refused = run.send("c6", &[enroll("s6", "R")]).1;
    assert!(matches!(only(&refused), Outcome::Reserved { .. }));
    run.rewrite_outcome(refused[0].lsn, Outcome::Enrolled);
    let report = run.check();
    assert!(
        report.invariants.examples[0].contains("but replay answers reserved"),
        "{report}"
    );
}

/// The release belongs to the first command at or after the instant: a log that leaves
/// it out (or puts it early) does not replay.
#[test]
fn a_release_left_out_of_the_log_is_caught() {
    let mut run = registrar();
    run.send("c4", &[enroll("s4", "R")]);
    run.send("c6", &[enroll_or_wait("s6", "R")]);
    // The run's clock moves a second per entry: an hour later, the next command
    // releases the seat, and s6 is promoted into it.
    while run.log.len() <= 3_600 {
        run.apply(None, None, &[deposit("s2", 1)]);
    }
    let entry = run
        .log
        .iter()
        .find(|e| !e.effects.released.is_empty())
        .expect("a release")
        .clone();
    assert_eq!(entry.effects.promoted[0].student, "s6");
    assert!(run.check().is_clean(), "{}", run.check());
    run.log_entry(entry.lsn).effects = Default::default();
    let report = run.check();
    assert!(report.invariants.violations >= 1, "{report}");
    let example = &report.invariants.examples[0];
    assert!(example.starts_with(&format!("LSN {} ", entry.lsn)), "{example}");
    assert!(
        example.contains(r#"but replay gives {"released":[{"section":"R","for":"major:COMSCI""#),
        "{example}"
    );
}

/// Pairs are first come, first served too: s3 refused D1 with L, s4 granted the same
/// pair with nothing freed between.
#[test]
fn a_pair_granted_past_an_earlier_refusal_is_an_fcfs_inversion() {
    let mut run = registrar();
    run.send("c1", &[pair("s1", "D1", false)]);
    let refused = run.send("c3", &[pair("s3", "D1", false)]).1;
    assert_eq!(only(&refused), &Outcome::Full);
    let dropped = run.send("c1", &[drop("s1", "L")]).1;
    let granted = run.send("c4", &[pair("s4", "D1", false)]).1;
    assert_eq!(only(&granted), &Outcome::Enrolled);
    assert!(run.check().is_clean(), "a seat was freed between: {}", run.check());
    run.rewrite_outcome(dropped[0].lsn, Outcome::NotEnrolled);
    let report = run.check();
    assert_eq!(report.fcfs.violations, 1, "{report}");
    assert!(
        report.fcfs.examples[0].starts_with("L with D1: s3 was refused a seat (full)"),
        "{report}"
    );
}

/// A swap between two discussions of one lecture into a full one, logged as done: the
/// swap must keep the lecture and respect the discussion's seats like any enrollment.
#[test]
fn a_swap_into_a_full_discussion_is_caught() {
    let mut run = registrar();
    run.send("c1", &[pair("s1", "D1", false)]);
    run.send("c2", &[pair("s2", "D2", false)]);
    let results = run.send("c2", &[swap("s2", "D2", "D1")]).1;
    assert_eq!(only(&results), &Outcome::Full, "D1's one seat is s1's");
    run.rewrite_outcome(
        results[0].lsn,
        Outcome::Swapped {
            promoted: vec![],
            linked: None,
        },
    );
    let report = run.check();
    assert!(report.invariants.violations >= 1, "{report}");
    let example = &report.invariants.examples[0];
    assert!(example.contains("replay answers full"), "{example}");
}
