//! One command and one outcome of every kind, each with every optional field set, so
//! that what serde writes shows every field the document must list. The test checks
//! them against core's catalogue (`CommandKind::all`, `OutcomeKind::all`): a kind
//! missing here fails it.

use murphy_core::{Command, LinkProblem, Meeting, Outcome, Population, Reservation, RulesVersion};

/// One command of every kind.
pub fn every_command() -> Vec<Command> {
    let meeting = Meeting {
        days: "MW".parse().unwrap(),
        start: "14:00".parse().unwrap(),
        end: "15:50".parse().unwrap(),
    };
    let s = || "s1".to_owned();
    let sec = || "COMSCI-35L-1".to_owned();
    vec![
        Command::CreateSection {
            section: sec(),
            title: "Software Construction".into(),
            units: 4,
            capacity: 160,
            waitlist_capacity: 20,
            meetings: vec![meeting],
            course: Some("COMSCI-35L".into()),
            prerequisites: vec!["COMSCI-31".into()],
            linked: vec!["COMSCI-35L-1A".into()],
            reserved: vec![Reservation {
                population: Population::Major("COMSCI".into()),
                seats: 20,
                until: time::OffsetDateTime::UNIX_EPOCH,
            }],
        },
        Command::SetCapacity {
            section: sec(),
            capacity: 180,
        },
        Command::CreateStudent {
            student: s(),
            name: "Joe Bruin".into(),
            max_units: 20,
            major: Some("COMSCI".into()),
            standing: Some("senior".into()),
            completed: vec!["COMSCI-31".into()],
        },
        Command::SetAppointment {
            student: s(),
            at: Some(time::OffsetDateTime::UNIX_EPOCH),
        },
        Command::RecordCompletion {
            student: s(),
            course: "COMSCI-31".into(),
        },
        Command::IssuePermission {
            student: s(),
            section: sec(),
        },
        Command::Enroll {
            student: s(),
            section: sec(),
            waitlist: true,
            with: Some("COMSCI-35L-1A".into()),
            permission: Some("7K3M-Q2XD".into()),
        },
        Command::Drop {
            student: s(),
            section: sec(),
        },
        Command::Swap {
            student: s(),
            from: sec(),
            to: "COMSCI-35L-2".into(),
            with: Some("COMSCI-35L-2A".into()),
        },
        Command::Deposit {
            student: s(),
            amount_cents: 5000,
        },
        Command::Withdraw {
            student: s(),
            amount_cents: 5000,
        },
        Command::Transfer {
            from: s(),
            to: "s2".into(),
            amount_cents: 5000,
        },
        Command::UpgradeRules {
            rules: RulesVersion::V2,
        },
        Command::Import {
            rows: vec![
                Command::create_section("MATH-31A-1", "Calculus", 4, 200, 0, vec![meeting]),
                Command::create_student("s2", "Josie Bruin", 20),
                Command::RecordCompletion {
                    student: s(),
                    course: "COMSCI-31".into(),
                },
            ],
        },
        Command::OpenLine {
            opens_at: time::OffsetDateTime::UNIX_EPOCH,
            active_max: 2000,
            automatic: true,
        },
        Command::CloseLine {},
        Command::AdvanceLine {
            window: 7,
            tickets: Some(2048),
            seed: Some(42),
            admitted: Some(300),
        },
    ]
}

/// One outcome of every kind.
pub fn every_outcome() -> Vec<Outcome> {
    let promoted = vec!["s2".to_owned()];
    vec![
        Outcome::Created,
        Outcome::CapacitySet {
            promoted: promoted.clone(),
        },
        Outcome::AppointmentSet,
        Outcome::Enrolled,
        Outcome::Waitlisted { position: 1 },
        Outcome::Dropped {
            promoted: promoted.clone(),
            linked: Some("COMSCI-32-1A".into()),
        },
        Outcome::Swapped {
            promoted,
            linked: Some("COMSCI-32-1A".into()),
        },
        Outcome::CompletionRecorded,
        Outcome::Permission {
            code: "7K3M-Q2XD".into(),
        },
        Outcome::NeedsLinked {
            choices: vec!["COMSCI-32-1A".into(), "COMSCI-32-1B".into()],
        },
        Outcome::BadPermission,
        Outcome::MissingPrerequisite {
            course: "COMSCI-31".into(),
        },
        Outcome::Reserved {
            until: time::OffsetDateTime::UNIX_EPOCH,
        },
        Outcome::BelowReserved { enrolled: 3, held: 2 },
        Outcome::CannotLink {
            section: "COMSCI-32-1A".into(),
            reason: LinkProblem::NotEmpty,
        },
        Outcome::Balance {
            cents: -3001,
            fee_cents: 3000,
        },
        Outcome::NoSuchSection { section: "X-1".into() },
        Outcome::NoSuchStudent { student: "s9".into() },
        Outcome::AlreadyExists,
        Outcome::NotOpen {
            opens_at: time::OffsetDateTime::UNIX_EPOCH,
        },
        Outcome::Hold { balance_cents: -1 },
        Outcome::AlreadyEnrolled,
        Outcome::AlreadyWaitlisted { position: 2 },
        Outcome::TimeConflict { with: "X-2".into() },
        Outcome::UnitLimit {
            units: 24,
            max_units: 20,
        },
        Outcome::Full,
        Outcome::NotEnrolled,
        Outcome::BelowEnrolled { enrolled: 3 },
        Outcome::InsufficientFunds { balance_cents: 10 },
        Outcome::BalanceLimit,
        Outcome::RulesUpgraded {
            from: RulesVersion::V1,
            to: RulesVersion::V2,
        },
        Outcome::DuplicateCourse {
            course: "COMSCI-35L".into(),
            held: "COMSCI-35L-2".into(),
        },
        Outcome::AlreadyUpgraded {
            rules: RulesVersion::V2,
        },
        Outcome::Imported {
            rows: 3,
            already_recorded: 1,
        },
        Outcome::ImportRefused {
            row: 2,
            refusal: Box::new(Outcome::CannotLink {
                section: "X-1A".into(),
                reason: LinkProblem::NotEmpty,
            }),
        },
        Outcome::LineOpened { window: 7 },
        Outcome::LineClosed,
        Outcome::LineMoved {
            tickets: 2048,
            admitted: 300,
        },
        Outcome::NoLine,
    ]
}
