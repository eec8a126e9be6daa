//! One command and one outcome of every kind, each with every optional field set, so
//! that what serde writes shows every field the document must list. `command_kind` and
//! `outcome_kind` have no wildcard: a new variant does not compile until it is here.

use murphy_core::{Command, LinkProblem, Meeting, Outcome, Population, Reservation};

/// One command of every kind. `command_kind` below makes a new variant a compile error
/// here until it is added to both.
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

pub fn command_kind(command: &Command) -> usize {
    match command {
        Command::CreateSection { .. } => 0,
        Command::SetCapacity { .. } => 1,
        Command::CreateStudent { .. } => 2,
        Command::SetAppointment { .. } => 3,
        Command::Enroll { .. } => 4,
        Command::Drop { .. } => 5,
        Command::Swap { .. } => 6,
        Command::Deposit { .. } => 7,
        Command::Withdraw { .. } => 8,
        Command::Transfer { .. } => 9,
        Command::RecordCompletion { .. } => 10,
        Command::IssuePermission { .. } => 11,
        Command::OpenLine { .. } => 12,
        Command::CloseLine {} => 13,
        Command::AdvanceLine { .. } => 14,
    }
}
pub const COMMAND_KINDS: usize = 15;

/// One outcome of every kind; `outcome_kind` keeps it complete.
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
        Outcome::LineOpened { window: 7 },
        Outcome::LineClosed,
        Outcome::LineMoved {
            tickets: 2048,
            admitted: 300,
        },
        Outcome::NoLine,
    ]
}

pub fn outcome_kind(outcome: &Outcome) -> usize {
    match outcome {
        Outcome::Created => 0,
        Outcome::CapacitySet { .. } => 1,
        Outcome::AppointmentSet => 2,
        Outcome::Enrolled => 3,
        Outcome::Waitlisted { .. } => 4,
        Outcome::Dropped { .. } => 5,
        Outcome::Swapped { .. } => 6,
        Outcome::Balance { .. } => 7,
        Outcome::NoSuchSection { .. } => 8,
        Outcome::NoSuchStudent { .. } => 9,
        Outcome::AlreadyExists => 10,
        Outcome::NotOpen { .. } => 11,
        Outcome::Hold { .. } => 12,
        Outcome::AlreadyEnrolled => 13,
        Outcome::AlreadyWaitlisted { .. } => 14,
        Outcome::TimeConflict { .. } => 15,
        Outcome::UnitLimit { .. } => 16,
        Outcome::Full => 17,
        Outcome::NotEnrolled => 18,
        Outcome::BelowEnrolled { .. } => 19,
        Outcome::InsufficientFunds { .. } => 20,
        Outcome::BalanceLimit => 21,
        Outcome::CompletionRecorded => 22,
        Outcome::Permission { .. } => 23,
        Outcome::NeedsLinked { .. } => 24,
        Outcome::BadPermission => 25,
        Outcome::MissingPrerequisite { .. } => 26,
        Outcome::Reserved { .. } => 27,
        Outcome::BelowReserved { .. } => 28,
        Outcome::CannotLink { .. } => 29,
        Outcome::LineOpened { .. } => 30,
        Outcome::LineClosed => 31,
        Outcome::LineMoved { .. } => 32,
        Outcome::NoLine => 33,
    }
}
pub const OUTCOME_KINDS: usize = 34;
