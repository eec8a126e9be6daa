//! The sentences a student reads: every outcome of every command, and money, in plain
//! words ("COMSCI-35L-1 is full; you are 3rd on its waitlist"). One function,
//! `sentence`, covers every `Outcome` variant, with the command that caused it for
//! context (which section, which amount, whether the waitlist was asked for).

use murphy_core::{Command, Outcome};

/// What `command` got, as a sentence.
pub fn sentence(command: &Command, outcome: &Outcome) -> String {
    let section = subject_section(command);
    match outcome {
        Outcome::Created => format!("created {}", subject(command)),
        Outcome::CapacitySet { promoted } => {
            format!(
                "{section}'s capacity is set{}",
                promoted_clause(promoted, "the new seats")
            )
        }
        Outcome::AppointmentSet => format!("{}'s registration appointment is set", subject(command)),
        Outcome::Enrolled => format!("you are enrolled in {section}"),
        Outcome::Waitlisted { position } => {
            format!("{section} is full; you are {} on its waitlist", ordinal(*position))
        }
        Outcome::Dropped { promoted } => {
            format!("you dropped {section}{}", promoted_clause(promoted, "your seat"))
        }
        Outcome::Swapped { promoted } => match command {
            Command::Swap { from, to, .. } => {
                format!(
                    "you swapped {from} for {to}{}",
                    promoted_clause(promoted, "your old seat")
                )
            }
            _ => format!("swapped{}", promoted_clause(promoted, "the freed seat")),
        },
        Outcome::Balance { cents, fee_cents } => balance_sentence(command, *cents, *fee_cents),
        Outcome::NoSuchSection { section } => format!("there is no section {section}"),
        Outcome::NoSuchStudent { student } => format!("there is no student {student}"),
        Outcome::AlreadyExists => format!("{} already exists", subject(command)),
        Outcome::NotOpen { opens_at } => format!(
            "your registration appointment opens at {}; you cannot enroll before then",
            instant(*opens_at)
        ),
        Outcome::Hold { balance_cents } => format!(
            "you have a hold: your balance is {}; pay it to enroll",
            dollars(*balance_cents)
        ),
        Outcome::AlreadyEnrolled => format!("you are already enrolled in {section}"),
        Outcome::AlreadyWaitlisted { position } => {
            format!("you are already {} on {section}'s waitlist", ordinal(*position))
        }
        Outcome::TimeConflict { with } => format!("{section} meets at the same time as {with}"),
        Outcome::UnitLimit { units, max_units } => {
            format!("{section} would bring you to {units} units, over your limit of {max_units}")
        }
        Outcome::Full => full_sentence(command, &section),
        Outcome::NotEnrolled => format!("you are not enrolled in {section}"),
        Outcome::BelowEnrolled { enrolled } => {
            format!("{section} already has {enrolled} students enrolled; its capacity cannot go below that")
        }
        Outcome::InsufficientFunds { balance_cents } => format!(
            "not enough money: the balance is {}, and a transfer never overdraws",
            dollars(*balance_cents)
        ),
        Outcome::BalanceLimit => "that would take the balance past the most murphy can hold".into(),
    }
}

fn full_sentence(command: &Command, section: &str) -> String {
    match command {
        Command::Enroll { waitlist: true, .. } => format!("{section} is full and its waitlist too"),
        _ => format!("{section} is full; add --waitlist to join its waitlist"),
    }
}

fn balance_sentence(command: &Command, cents: i64, fee_cents: i64) -> String {
    let what = match command {
        Command::Deposit { amount_cents, .. } => format!("deposited {}", dollars(*amount_cents)),
        Command::Withdraw { amount_cents, .. } => format!("withdrew {}", dollars(*amount_cents)),
        Command::Transfer { to, amount_cents, .. } => format!("transferred {} to {to}", dollars(*amount_cents)),
        _ => "done".into(),
    };
    let fee = if fee_cents > 0 {
        format!(" (after an overdraft fee of {})", dollars(fee_cents))
    } else {
        String::new()
    };
    let hold = if cents < 0 {
        "; that is a hold: pay it to enroll"
    } else {
        ""
    };
    format!("{what}; your balance is {}{fee}{hold}", dollars(cents))
}

/// "; s2 got your seat from the waitlist", or nothing when nobody was promoted.
fn promoted_clause(promoted: &[String], what: &str) -> String {
    match promoted {
        [] => String::new(),
        [one] => format!("; {one} got {what} from the waitlist"),
        many => format!("; {} got {what} from the waitlist", many.join(", ")),
    }
}

/// The section a command is about (for a swap, the one being joined: every refusal of
/// a swap is about joining `to`, except `not_enrolled`, which is about `from`).
fn subject_section(command: &Command) -> String {
    match command {
        Command::CreateSection { section, .. }
        | Command::SetCapacity { section, .. }
        | Command::Enroll { section, .. }
        | Command::Drop { section, .. } => section.clone(),
        Command::Swap { to, .. } => to.clone(),
        _ => "the section".into(),
    }
}

/// What a command created or changed, for the admin outcomes.
fn subject(command: &Command) -> String {
    match command {
        Command::CreateSection { section, .. } | Command::SetCapacity { section, .. } => format!("section {section}"),
        Command::CreateStudent { student, .. } | Command::SetAppointment { student, .. } => {
            format!("student {student}")
        }
        _ => subject_section(command),
    }
}

/// Cents as dollars: `-3001` is `-$30.01`.
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}${}.{:02}", abs / 100, abs % 100)
}

/// 1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, ... 21st.
pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn instant(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enroll(waitlist: bool) -> Command {
        Command::Enroll {
            student: "s1".into(),
            section: "COMSCI-35L-1".into(),
            waitlist,
        }
    }

    /// One example of every outcome, with the command it answers. The match below has
    /// no wildcard, so a new `Outcome` variant does not compile until it is added here.
    fn every_outcome() -> Vec<(Command, Outcome, &'static str)> {
        let swap = Command::Swap {
            student: "s1".into(),
            from: "COMSCI-31-1".into(),
            to: "COMSCI-35L-1".into(),
        };
        let withdraw = Command::Withdraw {
            student: "s1".into(),
            amount_cents: 1,
        };
        let section = crate::cli::import::tests::create("COMSCI-35L-1");
        let at = time::OffsetDateTime::parse("2026-11-30T08:00:00Z", &time::format_description::well_known::Rfc3339)
            .unwrap();
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
                Command::Drop {
                    student: "s1".into(),
                    section: "COMSCI-35L-1".into(),
                },
                Outcome::Dropped {
                    promoted: vec!["s2".into()],
                },
                "you dropped COMSCI-35L-1; s2 got your seat from the waitlist",
            ),
            (
                swap.clone(),
                Outcome::Swapped { promoted: vec![] },
                "you swapped COMSCI-31-1 for COMSCI-35L-1",
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
                Command::Drop {
                    student: "s1".into(),
                    section: "COMSCI-35L-1".into(),
                },
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
        ];
        cases
    }

    /// Fails to compile when an `Outcome` variant is added: add it to `every_outcome`.
    fn variant_index(outcome: &Outcome) -> usize {
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
        }
    }

    #[test]
    fn every_outcome_reads_as_a_sentence() {
        let cases = every_outcome();
        let mut covered = [false; 22];
        for (command, outcome, expected) in &cases {
            covered[variant_index(outcome)] = true;
            assert_eq!(sentence(command, outcome), *expected, "{outcome:?}");
        }
        assert!(covered.iter().all(|&c| c), "every variant has a case: {covered:?}");
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
}
