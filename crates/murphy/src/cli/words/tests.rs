//! One sentence per outcome, checked: every variant has a case.

use std::collections::BTreeSet;

use murphy_core::{OutcomeKind, RulesVersion};

use super::*;

fn enroll(waitlist: bool) -> Command {
    Command::Enroll {
        student: "s1".into(),
        section: "COMSCI-35L-1".into(),
        waitlist,
        with: None,
        permission: None,
    }
}

/// An enroll in lecture COMSCI-32-1 with its discussion COMSCI-32-1A.
fn enroll_pair(waitlist: bool) -> Command {
    enroll_in("COMSCI-32-1", Some("COMSCI-32-1A"), None, waitlist)
}

fn enroll_in(section: &str, with: Option<&str>, permission: Option<&str>, waitlist: bool) -> Command {
    Command::Enroll {
        student: "s1".into(),
        section: section.into(),
        waitlist,
        with: with.map(Into::into),
        permission: permission.map(Into::into),
    }
}

fn drop_(section: &str) -> Command {
    Command::Drop {
        student: "s1".into(),
        section: section.into(),
    }
}

/// One example of every outcome, with the command it answers; the test below checks
/// it against core's catalogue (`OutcomeKind::all`).
fn every_outcome() -> Vec<(Command, Outcome, &'static str)> {
    let swap = Command::Swap {
        student: "s1".into(),
        from: "COMSCI-31-1".into(),
        to: "COMSCI-35L-1".into(),
        with: None,
    };
    let permitted = enroll_in("COMSCI-32-1", Some("COMSCI-32-1A"), Some("7K3M-Q2XD"), false);
    let withdraw = Command::Withdraw {
        student: "s1".into(),
        amount_cents: 1,
    };
    let section = crate::cli::import::tests::create("COMSCI-35L-1");
    let at =
        time::OffsetDateTime::parse("2026-11-30T08:00:00Z", &time::format_description::well_known::Rfc3339).unwrap();
    let cases = vec![
        (section.clone(), Outcome::Created, "created section COMSCI-35L-1"),
        (
            Command::SetCapacity {
                section: "COMSCI-35L-1".into(),
                capacity: 3,
            },
            Outcome::CapacitySet {
                promoted: vec!["s2".into()],
            },
            "COMSCI-35L-1's capacity is set; s2 got the new seats from the waitlist",
        ),
        (
            Command::SetAppointment {
                student: "s1".into(),
                at: Some(at),
            },
            Outcome::AppointmentSet,
            "student s1's registration appointment is set",
        ),
        (enroll(false), Outcome::Enrolled, "you are enrolled in COMSCI-35L-1"),
        (
            enroll(true),
            Outcome::Waitlisted { position: 3 },
            "COMSCI-35L-1 is full; you are 3rd on its waitlist",
        ),
        (
            drop_("COMSCI-35L-1"),
            Outcome::Dropped {
                promoted: vec!["s2".into()],
                linked: None,
            },
            "you dropped COMSCI-35L-1; s2 got your seat from the waitlist",
        ),
        (
            swap.clone(),
            Outcome::Swapped {
                promoted: vec![],
                linked: None,
            },
            "you swapped COMSCI-31-1 for COMSCI-35L-1",
        ),
        (
            Command::RecordCompletion {
                student: "s1".into(),
                course: "COMSCI-31".into(),
            },
            Outcome::CompletionRecorded,
            "COMSCI-31 is on s1's record as completed",
        ),
        (
            Command::IssuePermission {
                student: "s1".into(),
                section: "COMSCI-32-1".into(),
            },
            Outcome::Permission {
                code: "7K3M-Q2XD".into(),
            },
            "permission number 7K3M-Q2XD lets s1 enroll in COMSCI-32-1 once: \
             murphy enroll COMSCI-32-1 --permission 7K3M-Q2XD",
        ),
        (
            withdraw,
            Outcome::Balance {
                cents: -3001,
                fee_cents: 3000,
            },
            "withdrew $0.01; your balance is -$30.01 (after an overdraft fee of $30.00); that is a hold: pay it to enroll",
        ),
        (
            enroll(false),
            Outcome::NoSuchSection {
                section: "COMSCI-35L-1".into(),
            },
            "there is no section COMSCI-35L-1",
        ),
        (
            enroll(false),
            Outcome::NoSuchStudent { student: "s1".into() },
            "there is no student s1",
        ),
        (section, Outcome::AlreadyExists, "section COMSCI-35L-1 already exists"),
        (
            enroll(false),
            Outcome::NeedsLinked {
                choices: vec!["COMSCI-35L-1A".into(), "COMSCI-35L-1B".into()],
            },
            "COMSCI-35L-1 is taken together with one of COMSCI-35L-1A, COMSCI-35L-1B: enroll in the \
             lecture with --with and its discussion or lab",
        ),
        (
            permitted,
            Outcome::BadPermission,
            "that permission number does not open COMSCI-32-1 for you: it is another student's or \
             section's, or already used; ask the registrar for a new one",
        ),
        (
            enroll(false),
            Outcome::NotOpen { opens_at: at },
            "your registration appointment opens at 2026-11-30T08:00:00Z; you cannot enroll before then",
        ),
        (
            enroll(false),
            Outcome::Hold { balance_cents: -3001 },
            "you have a hold: your balance is -$30.01; pay it to enroll",
        ),
        (
            enroll(false),
            Outcome::AlreadyEnrolled,
            "you are already enrolled in COMSCI-35L-1",
        ),
        (
            enroll(true),
            Outcome::AlreadyWaitlisted { position: 1 },
            "you are already 1st on COMSCI-35L-1's waitlist",
        ),
        (
            enroll_pair(false),
            Outcome::MissingPrerequisite {
                course: "COMSCI-31".into(),
            },
            "COMSCI-32-1 requires COMSCI-31, which is not on your record as completed; the registrar \
             can give you a permission number",
        ),
        (
            swap,
            Outcome::TimeConflict {
                with: "COMSCI-31-1".into(),
            },
            "COMSCI-35L-1 meets at the same time as COMSCI-31-1",
        ),
        (
            enroll(false),
            Outcome::UnitLimit {
                units: 24,
                max_units: 20,
            },
            "COMSCI-35L-1 would bring you to 24 units, over your limit of 20",
        ),
        (enroll(true), Outcome::Full, "COMSCI-35L-1 is full and its waitlist too"),
        (
            enroll(false),
            Outcome::Reserved { until: at },
            "the seats left in COMSCI-35L-1 are reserved until 2026-11-30T08:00:00Z; they open to all \
             then (add --waitlist to wait for one)",
        ),
        (
            drop_("COMSCI-35L-1"),
            Outcome::NotEnrolled,
            "you are not enrolled in COMSCI-35L-1",
        ),
        (
            Command::SetCapacity {
                section: "COMSCI-35L-1".into(),
                capacity: 3,
            },
            Outcome::BelowEnrolled { enrolled: 5 },
            "COMSCI-35L-1 already has 5 students enrolled; its capacity cannot go below that",
        ),
        (
            Command::SetCapacity {
                section: "COMSCI-35L-1".into(),
                capacity: 6,
            },
            Outcome::BelowReserved { enrolled: 5, held: 2 },
            "COMSCI-35L-1 has 5 enrolled and 2 seats still reserved; its capacity cannot go below 7",
        ),
        (
            crate::cli::import::tests::create("COMSCI-32-1"),
            Outcome::CannotLink {
                section: "COMSCI-32-1A".into(),
                reason: LinkProblem::LinkedElsewhere,
            },
            "COMSCI-32-1A cannot be linked to COMSCI-32-1: it is already linked to another section",
        ),
        (
            Command::Transfer {
                from: "s1".into(),
                to: "s2".into(),
                amount_cents: 100,
            },
            Outcome::InsufficientFunds { balance_cents: 99 },
            "not enough money: the balance is $0.99, and a transfer never overdraws",
        ),
        (
            Command::Deposit {
                student: "s1".into(),
                amount_cents: 1,
            },
            Outcome::BalanceLimit,
            "that would take the balance past the most murphy can hold",
        ),
        (
            Command::UpgradeRules {
                rules: RulesVersion::V2,
            },
            Outcome::RulesUpgraded {
                from: RulesVersion::V1,
                to: RulesVersion::V2,
            },
            "the rules are upgraded from version 1 to version 2: every command from now on is decided under \
             version 2",
        ),
        (
            Command::UpgradeRules {
                rules: RulesVersion::V2,
            },
            Outcome::AlreadyUpgraded {
                rules: RulesVersion::V2,
            },
            "the rules are already at version 2; nothing changed",
        ),
        (
            enroll(false),
            Outcome::DuplicateCourse {
                course: "COMSCI-35L".into(),
                held: "COMSCI-35L-2".into(),
            },
            "you already hold or wait for COMSCI-35L-2, a section of COMSCI-35L, and a student takes one \
             section of a course: drop COMSCI-35L-2 first, or swap its seat for COMSCI-35L-1",
        ),
        (
            Command::Import {
                rows: vec![
                    crate::cli::import::tests::create("COMSCI-35L-1"),
                    crate::cli::import::tests::create("MATH-31A-1"),
                ],
            },
            Outcome::Imported {
                rows: 2,
                already_recorded: 0,
            },
            "imported 2 section(s), all at once",
        ),
        (
            Command::Import {
                rows: vec![
                    Command::RecordCompletion {
                        student: "s1".into(),
                        course: "COMSCI-31".into(),
                    },
                    Command::RecordCompletion {
                        student: "s2".into(),
                        course: "COMSCI-31".into(),
                    },
                ],
            },
            Outcome::Imported {
                rows: 2,
                already_recorded: 1,
            },
            "imported 2 completion(s), all at once; 1 completion(s) were already on record",
        ),
        (
            Command::Import {
                rows: vec![
                    crate::cli::import::tests::create("MATH-31A-1"),
                    crate::cli::import::tests::create("COMSCI-35L-1"),
                ],
            },
            Outcome::ImportRefused {
                row: 2,
                refusal: Box::new(Outcome::AlreadyExists),
            },
            "row 2 of 2 was refused, so nothing was imported: section COMSCI-35L-1 already exists",
        ),
        (
            Command::OpenLine {
                opens_at: at,
                active_max: 2000,
                automatic: false,
            },
            Outcome::LineOpened { window: 7 },
            "registration window 7 is open: students join the line now, drawn into an order at \
             2026-11-30T08:00:00Z, and at most 2000 are admitted at once",
        ),
        (
            Command::CloseLine {},
            Outcome::LineClosed,
            "the registration window is closed: writes need no place in line",
        ),
        (
            Command::AdvanceLine {
                window: 7,
                tickets: Some(2048),
                seed: None,
                admitted: Some(300),
            },
            Outcome::LineMoved {
                tickets: 2048,
                admitted: 300,
            },
            "the line moved: 2048 tickets reserved, places up to 300 admitted",
        ),
        (Command::CloseLine {}, Outcome::NoLine, "no registration window is open"),
    ];
    cases
}

/// Every kind of core's catalogue has a case, and each reads as its sentence.
#[test]
fn every_outcome_reads_as_a_sentence() {
    let cases = every_outcome();
    for (command, outcome, expected) in &cases {
        assert_eq!(sentence(command, outcome), *expected, "{outcome:?}");
    }
    let covered: BTreeSet<OutcomeKind> = cases.iter().map(|(_, outcome, _)| outcome.kind()).collect();
    let missing: Vec<OutcomeKind> = OutcomeKind::all().filter(|k| !covered.contains(k)).collect();
    assert!(missing.is_empty(), "outcome kinds without a sentence case: {missing:?}");
}

/// The same outcome reads differently for a pair, a permission, a drop or a swap.
#[test]
fn linked_sections_and_permissions_change_the_sentence() {
    let cases = [
        (
            enroll_pair(false),
            Outcome::Enrolled,
            "you are enrolled in COMSCI-32-1 and COMSCI-32-1A",
        ),
        (
            enroll_in("COMSCI-32-1", Some("COMSCI-32-1A"), Some("7K3M-Q2XD"), false),
            Outcome::Enrolled,
            "you are enrolled in COMSCI-32-1 and COMSCI-32-1A (permission number 7K3M-Q2XD used)",
        ),
        (
            enroll_pair(true),
            Outcome::Waitlisted { position: 1 },
            "COMSCI-32-1 with COMSCI-32-1A has no seats for you; you are 1st on COMSCI-32-1's waitlist, for both",
        ),
        (
            enroll_pair(false),
            Outcome::Full,
            "COMSCI-32-1 or COMSCI-32-1A is full; add --waitlist to wait for both",
        ),
        (
            drop_("COMSCI-32-1"),
            Outcome::Dropped {
                promoted: vec![],
                linked: Some("COMSCI-32-1A".into()),
            },
            "you dropped COMSCI-32-1 and its linked COMSCI-32-1A",
        ),
        (
            drop_("COMSCI-32-1A"),
            Outcome::NeedsLinked {
                choices: vec!["COMSCI-32-1".into()],
            },
            "COMSCI-32-1A is dropped only together with COMSCI-32-1: drop that to leave both, or swap \
             COMSCI-32-1A for another of its sections",
        ),
        (
            enroll_in("COMSCI-35L-1", Some("MATH-1"), None, false),
            Outcome::NeedsLinked { choices: vec![] },
            "COMSCI-35L-1 has no linked sections, so MATH-1 cannot go with it",
        ),
        (
            Command::Swap {
                student: "s1".into(),
                from: "COMSCI-32-1".into(),
                to: "COMSCI-32-2".into(),
                with: Some("COMSCI-32-2A".into()),
            },
            Outcome::Swapped {
                promoted: vec![],
                linked: Some("COMSCI-32-1A".into()),
            },
            "you swapped COMSCI-32-1 and COMSCI-32-1A for COMSCI-32-2 and COMSCI-32-2A",
        ),
    ];
    for (command, outcome, expected) in cases {
        assert_eq!(sentence(&command, &outcome), expected, "{outcome:?}");
    }
}

#[test]
fn full_without_the_waitlist_says_how_to_join_it() {
    assert_eq!(
        sentence(&enroll(false), &Outcome::Full),
        "COMSCI-35L-1 is full; add --waitlist to join its waitlist"
    );
}

#[test]
fn ordinals_and_dollars() {
    let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(ordinal).into();
    assert_eq!(
        got,
        [
            "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"
        ]
    );
    assert_eq!(dollars(-3001), "-$30.01");
    assert_eq!(dollars(5), "$0.05");
    assert_eq!(dollars(0), "$0.00");
}

#[test]
fn a_place_in_line_reads_as_a_sentence() {
    let waiting = LineAnswer {
        state: LineState::Waiting,
        place: Some(4213),
        ahead: Some(4104),
        eta: Some(murphy_core::wire::EtaRange { min_s: 180, max_s: 300 }),
        ..LineAnswer::closed()
    };
    assert_eq!(
        line_sentence(&waiting),
        "you are 4,213th in line (4,104 still ahead of you); about 3 to 5 minutes"
    );
    let next = LineAnswer {
        place: Some(1_000_001),
        ahead: Some(0),
        eta: Some(murphy_core::wire::EtaRange { min_s: 1, max_s: 2 }),
        ..waiting.clone()
    };
    assert_eq!(
        line_sentence(&next),
        "you are 1,000,001st in line (next); any moment now"
    );
    let admitted = LineAnswer {
        state: LineState::Admitted,
        ..waiting
    };
    assert_eq!(line_sentence(&admitted), "you are admitted: your writes go through now");
    assert_eq!(eta_words(40, 60), "about 40 to 60 seconds");
    assert_eq!(eta_words(20, 100), "up to 2 minutes");
}
