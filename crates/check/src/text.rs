//! Sentences: how commands, outcomes, results, requests and client times are named in
//! counter-examples, short enough to read in a terminal and exact enough to look up.

use murphy_core::wire::CommandResult;
use murphy_core::{Command, Effects, Outcome};

/// A command in a few words: "enroll s1 in COMSCI-35L-1".
pub(crate) fn command(command: &Command) -> String {
    match command {
        Command::CreateSection { section, capacity, .. } => format!("create_section {section} ({capacity} seats)"),
        Command::SetCapacity { section, capacity } => format!("set_capacity of {section} to {capacity}"),
        Command::CreateStudent { student, .. } => format!("create_student {student}"),
        Command::SetAppointment { student, .. } => format!("set_appointment of {student}"),
        Command::RecordCompletion { student, course } => format!("record_completion of {course} for {student}"),
        Command::IssuePermission { student, section } => format!("issue_permission for {student} in {section}"),
        Command::Enroll {
            student,
            section,
            waitlist,
            with,
            permission,
        } => {
            let with = with.as_ref().map(|w| format!(" with {w}")).unwrap_or_default();
            let code = permission
                .as_ref()
                .map(|p| format!(" by permission {p}"))
                .unwrap_or_default();
            let line = if *waitlist { " (or its waitlist)" } else { "" };
            format!("enroll {student} in {section}{with}{code}{line}")
        }
        Command::Drop { student, section } => format!("drop {student} from {section}"),
        Command::Swap {
            student,
            from,
            to,
            with,
        } => {
            let with = with.as_ref().map(|w| format!(" with {w}")).unwrap_or_default();
            format!("swap {student} from {from} to {to}{with}")
        }
        Command::Deposit { student, amount_cents } => format!("deposit {amount_cents} cents for {student}"),
        Command::Withdraw { student, amount_cents } => format!("withdraw {amount_cents} cents from {student}"),
        Command::Transfer { from, to, amount_cents } => format!("transfer {amount_cents} cents from {from} to {to}"),
        Command::UpgradeRules { rules } => format!("upgrade_rules to version {rules}"),
        Command::Import { rows } => match rows.first() {
            Some(first) => format!("import of {} row(s), from {}", rows.len(), self::command(first)),
            None => "import of no rows".into(),
        },
        Command::OpenLine { active_max, .. } => format!("open_line for {active_max} active students"),
        Command::CloseLine {} => "close_line".into(),
        Command::AdvanceLine { window, .. } => format!("advance_line of window {window}"),
    }
}

/// An outcome by its kind, with its fields when it has any: `full`,
/// `dropped {"promoted":["s2"]}`.
pub(crate) fn outcome(outcome: &Outcome) -> String {
    let mut value = serde_json::to_value(outcome).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        fields.remove("type");
        if !fields.is_empty() {
            return format!("{} {value}", outcome.kind());
        }
    }
    outcome.kind().name().to_owned()
}

pub(crate) fn effects(effects: &Effects) -> String {
    if effects.is_empty() {
        return "none".to_owned();
    }
    serde_json::to_string(effects).unwrap_or_default()
}

/// A request's results: "LSN 7 enrolled, LSN 8 full".
pub(crate) fn results(results: &[CommandResult]) -> String {
    if results.is_empty() {
        return "no results".to_owned();
    }
    let parts: Vec<String> = results
        .iter()
        .map(|r| format!("LSN {} {}", r.lsn, outcome(&r.outcome)))
        .collect();
    parts.join(", ")
}

/// Who sent a request: "client c1 seq 4", or "c1's request (no session)".
pub(crate) fn request(client: &str, seq: Option<u64>) -> String {
    match seq {
        Some(seq) => format!("client {client} seq {seq}"),
        None => format!("{client}'s request (no session)"),
    }
}

/// A client-side time (nanoseconds since the run began), exactly, in seconds.
pub(crate) fn time(ns: u64) -> String {
    format!("{}.{:09} s", ns / 1_000_000_000, ns % 1_000_000_000)
}

/// "1 entry", "3 entries".
pub(crate) fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
