//! The sentences a student reads: every outcome of every command, and money, in plain
//! words ("COMSCI-35L-1 is full; you are 3rd on its waitlist"). One function,
//! `sentence`, covers every `Outcome` variant, with the command that caused it for
//! context (which section, which amount, whether the waitlist was asked for, which
//! linked section went with it).

use murphy_core::wire::{LineAnswer, LineState};
use murphy_core::{Command, LinkProblem, Outcome};

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
        Outcome::Enrolled => enrolled_sentence(command, &section),
        Outcome::Waitlisted { position } => match with_of(command) {
            Some(with) => format!(
                "{section} with {with} has no seats for you; you are {} on {section}'s waitlist, \
                 for both",
                ordinal(*position)
            ),
            None => format!("{section} is full; you are {} on its waitlist", ordinal(*position)),
        },
        Outcome::Dropped { promoted, linked } => {
            let linked = linked
                .as_ref()
                .map(|l| format!(" and its linked {l}"))
                .unwrap_or_default();
            format!(
                "you dropped {section}{linked}{}",
                promoted_clause(promoted, "your seat")
            )
        }
        Outcome::Swapped { promoted, linked } => swapped_sentence(command, promoted, linked.as_deref()),
        Outcome::Balance { cents, fee_cents } => balance_sentence(command, *cents, *fee_cents),
        Outcome::CompletionRecorded => match command {
            Command::RecordCompletion { student, course } => {
                format!("{course} is on {student}'s record as completed")
            }
            _ => "the completion is recorded".into(),
        },
        Outcome::Permission { code } => permission_sentence(command, code),
        Outcome::RulesUpgraded { from, to } => format!(
            "the rules are upgraded from version {from} to version {to}: every command from now on is decided \
             under version {to}"
        ),
        Outcome::NoSuchSection { section } => format!("there is no section {section}"),
        Outcome::NoSuchStudent { student } => format!("there is no student {student}"),
        Outcome::AlreadyExists => match command {
            Command::RecordCompletion { student, course } => {
                format!("{course} is already on {student}'s record as completed")
            }
            _ => format!("{} already exists", subject(command)),
        },
        Outcome::NeedsLinked { choices } => needs_linked_sentence(command, choices),
        Outcome::BadPermission => format!(
            "that permission number does not open {section} for you: it is another student's or \
             section's, or already used; ask the registrar for a new one"
        ),
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
        Outcome::MissingPrerequisite { course } => format!(
            "{section} requires {course}, which is not on your record as completed; \
             the registrar can give you a permission number"
        ),
        Outcome::TimeConflict { with } => format!("{section} meets at the same time as {with}"),
        Outcome::UnitLimit { units, max_units } => {
            format!("{section} would bring you to {units} units, over your limit of {max_units}")
        }
        Outcome::Full => full_sentence(command, &section),
        Outcome::Reserved { until } => format!(
            "the seats left in {section} are reserved until {}; they open to all then \
             (add --waitlist to wait for one)",
            instant(*until)
        ),
        Outcome::NotEnrolled => format!("you are not enrolled in {section}"),
        Outcome::DuplicateCourse { course, held } => format!(
            "you already hold or wait for {held}, a section of {course}, and a student takes one section \
             of a course: drop {held} first, or swap its seat for {section}"
        ),
        Outcome::BelowEnrolled { enrolled } => {
            format!("{section} already has {enrolled} students enrolled; its capacity cannot go below that")
        }
        Outcome::BelowReserved { enrolled, held } => format!(
            "{section} has {enrolled} enrolled and {held} seats still reserved; its capacity cannot \
             go below {}",
            enrolled + held
        ),
        Outcome::CannotLink { section: part, reason } => {
            format!("{part} cannot be linked to {section}: {}", link_problem(*reason))
        }
        Outcome::InsufficientFunds { balance_cents } => format!(
            "not enough money: the balance is {}, and a transfer never overdraws",
            dollars(*balance_cents)
        ),
        Outcome::BalanceLimit => "that would take the balance past the most murphy can hold".into(),
        Outcome::AlreadyUpgraded { rules } => format!("the rules are already at version {rules}; nothing changed"),
        Outcome::Imported { rows, already_recorded } => imported_sentence(command, *rows, *already_recorded),
        Outcome::ImportRefused { row, refusal } => {
            let rows = command.rows();
            let row_command = (*row as usize)
                .checked_sub(1)
                .and_then(|i| rows.get(i))
                .unwrap_or(command);
            format!(
                "row {row} of {} was refused, so nothing was imported: {}",
                rows.len(),
                sentence(row_command, refusal)
            )
        }
        Outcome::LineOpened { window } => line_opened_sentence(command, *window),
        Outcome::LineClosed => "the registration window is closed: writes need no place in line".into(),
        Outcome::LineMoved { tickets, admitted } => {
            format!("the line moved: {tickets} tickets reserved, places up to {admitted} admitted")
        }
        Outcome::NoLine => "no registration window is open".into(),
    }
}

fn line_opened_sentence(command: &Command, window: u64) -> String {
    match command {
        Command::OpenLine {
            opens_at, active_max, ..
        } => format!(
            "registration window {window} is open: students join the line now, drawn into an order at {}, \
             and at most {active_max} are admitted at once",
            instant(*opens_at)
        ),
        _ => format!("registration window {window} is open"),
    }
}

/// An import's rows by kind ("6 sections"), with the completions already on record.
fn imported_sentence(command: &Command, rows: u32, already_recorded: u32) -> String {
    let count = |kind: murphy_core::CommandKind| command.rows().iter().filter(|r| r.kind() == kind).count();
    let parts: Vec<String> = [
        (murphy_core::CommandKind::CreateSection, "section(s)"),
        (murphy_core::CommandKind::CreateStudent, "student(s)"),
        (murphy_core::CommandKind::RecordCompletion, "completion(s)"),
    ]
    .into_iter()
    .filter_map(|(kind, what)| Some(count(kind)).filter(|n| *n > 0).map(|n| format!("{n} {what}")))
    .collect();
    let what = if parts.is_empty() {
        format!("{rows} row(s)")
    } else {
        parts.join(", ")
    };
    match already_recorded {
        0 => format!("imported {what}, all at once"),
        again => format!("imported {what}, all at once; {again} completion(s) were already on record"),
    }
}

fn enrolled_sentence(command: &Command, section: &str) -> String {
    let with = with_of(command).map(|w| format!(" and {w}")).unwrap_or_default();
    let code = match command {
        Command::Enroll {
            permission: Some(code), ..
        } => format!(" (permission number {code} used)"),
        _ => String::new(),
    };
    format!("you are enrolled in {section}{with}{code}")
}

fn swapped_sentence(command: &Command, promoted: &[String], linked: Option<&str>) -> String {
    let Command::Swap { from, to, with, .. } = command else {
        return format!("swapped{}", promoted_clause(promoted, "the freed seat"));
    };
    let from = linked.map_or(from.clone(), |l| format!("{from} and {l}"));
    let to = with.as_ref().map_or(to.clone(), |w| format!("{to} and {w}"));
    format!(
        "you swapped {from} for {to}{}",
        promoted_clause(promoted, "your old seat")
    )
}

fn full_sentence(command: &Command, section: &str) -> String {
    match command {
        Command::Enroll {
            with: Some(with),
            waitlist,
            ..
        } => {
            let line = if *waitlist {
                ", and its waitlist too"
            } else {
                "; add --waitlist to wait for both"
            };
            format!("{section} or {with} is full{line}")
        }
        Command::Enroll { waitlist: true, .. } => format!("{section} is full and its waitlist too"),
        Command::Enroll {
            permission: Some(_), ..
        } => {
            format!("{section} is full; a permission number never adds a seat")
        }
        _ => format!("{section} is full; add --waitlist to join its waitlist"),
    }
}

fn permission_sentence(command: &Command, code: &str) -> String {
    match command {
        Command::IssuePermission { student, section } => format!(
            "permission number {code} lets {student} enroll in {section} once: \
             murphy enroll {section} --permission {code}"
        ),
        _ => format!("permission number {code}"),
    }
}

/// What the student can do about a move that needs a linked section.
fn needs_linked_sentence(command: &Command, choices: &[String]) -> String {
    let list = choices.join(", ");
    match command {
        Command::Enroll {
            section, with: None, ..
        } => format!(
            "{section} is taken together with one of {list}: enroll in the lecture with \
             --with and its discussion or lab"
        ),
        Command::Enroll {
            section, with: Some(w), ..
        } if choices.is_empty() => format!("{section} has no linked sections, so {w} cannot go with it"),
        Command::Enroll {
            section, with: Some(w), ..
        } => format!("{w} is not linked with {section}: choose one of {list}"),
        Command::Drop { section, .. } => format!(
            "{section} is dropped only together with {list}: drop that to leave both, or swap \
             {section} for another of its sections"
        ),
        _ if choices.is_empty() => "that swap names a linked section where none goes: leave out --with".into(),
        _ => format!("that swap would split a lecture from its linked section; it can be made with {list}"),
    }
}

fn link_problem(reason: LinkProblem) -> &'static str {
    match reason {
        LinkProblem::HasLinks => "it has linked sections of its own",
        LinkProblem::LinkedElsewhere => "it is already linked to another section",
        LinkProblem::NotEmpty => "students are enrolled or waiting in it",
        LinkProblem::MeetsAtTheSameTime => "it meets at the same time",
    }
}

/// The linked section a command asks to take with its section.
fn with_of(command: &Command) -> Option<&str> {
    match command {
        Command::Enroll { with, .. } | Command::Swap { with, .. } => with.as_deref(),
        _ => None,
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
        | Command::IssuePermission { section, .. }
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
        Command::CreateStudent { student, .. }
        | Command::SetAppointment { student, .. }
        | Command::RecordCompletion { student, .. } => format!("student {student}"),
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

/// Where a student stands in the waiting room, as a sentence: "you are 4,213th in line
/// (4,104 still ahead of you); about 3 to 5 minutes".
pub fn line_sentence(line: &LineAnswer) -> String {
    match line.state {
        LineState::Closed => "no registration window is open: writes go through without waiting in line".into(),
        LineState::Out => "a registration window is open and you hold no place in line: `murphy line` joins it".into(),
        LineState::Admitted => "you are admitted: your writes go through now".into(),
        LineState::PreQueue => format!(
            "you are in line; registration opens at {}, when the order of everyone who came before is drawn",
            line.opens_at.map(instant).unwrap_or_else(|| "its opening".into())
        ),
        LineState::Waiting => {
            let place = line
                .place
                .map_or_else(|| "in line".into(), |p| format!("{} in line", ordinal_grouped(p)));
            let ahead = match line.ahead {
                Some(0) => " (next)".into(),
                Some(n) => format!(" ({} still ahead of you)", grouped(n)),
                None => String::new(),
            };
            let eta = line
                .eta
                .map(|e| format!("; {}", eta_words(e.min_s, e.max_s)))
                .unwrap_or_default();
            format!("you are {place}{ahead}{eta}")
        }
    }
}

/// "about 3 to 5 minutes", "about 40 to 60 seconds", "less than a minute".
fn eta_words(min_s: u64, max_s: u64) -> String {
    match (min_s, max_s) {
        (_, 0..=30) => "any moment now".into(),
        (_, 31..=90) => format!("about {min_s} to {max_s} seconds"),
        _ => {
            let (low, high) = (min_s / 60, max_s.div_ceil(60));
            if low == 0 {
                format!("up to {high} minutes")
            } else if low == high {
                format!("about {low} minutes")
            } else {
                format!("about {low} to {high} minutes")
            }
        }
    }
}

/// 4213 as "4,213".
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 4213 as "4,213th".
fn ordinal_grouped(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{}{suffix}", grouped(n))
}

fn instant(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests;
