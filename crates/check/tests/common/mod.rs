//! A registrar run built in memory for the checker's tests: commands applied through
//! `murphy_core::State` (so the log is correct), the log entries the server would
//! write, and the history a client would record, on a sequential client clock. Tests
//! then edit the log or the history by hand to make them wrong.

#![allow(dead_code)]

use std::collections::HashMap;

use murphy_check::{Record, Report};
use murphy_core::wire::CommandResult;
use murphy_core::{Command, LogEntry, Meeting, Outcome, State};
use time::OffsetDateTime;

/// 2026-01-01T00:00:00Z.
const EPOCH_SECS: i64 = 1_767_225_600;
/// How far the client clock moves between a send and its answer, and after it.
pub const STEP_NS: u64 = 1_000;

#[derive(Clone, Default)]
pub struct Run {
    pub state: State,
    pub log: Vec<LogEntry>,
    pub history: Vec<Record>,
    pub clock_ns: u64,
    seqs: HashMap<String, u64>,
}

impl Run {
    pub fn new() -> Self {
        Run::default()
    }

    pub fn check(&self) -> Report {
        murphy_check::check(&self.history, &self.log)
    }

    /// Applies commands as one request (back to back), writing only the log.
    pub fn apply(&mut self, client: Option<&str>, seq: Option<u64>, commands: &[Command]) -> Vec<CommandResult> {
        let at = OffsetDateTime::from_unix_timestamp(EPOCH_SECS + self.log.len() as i64).unwrap();
        commands
            .iter()
            .map(|command| {
                let applied = self.state.apply(at, command);
                self.log.push(LogEntry {
                    lsn: applied.lsn,
                    at,
                    rules: applied.rules,
                    client: client.map(str::to_owned),
                    seq,
                    owner: None,
                    command: command.clone(),
                    outcome: applied.outcome.clone(),
                    effects: applied.effects,
                });
                CommandResult {
                    lsn: applied.lsn,
                    outcome: applied.outcome,
                }
            })
            .collect()
    }

    /// Writes one history record, as given.
    pub fn record(
        &mut self,
        client: &str,
        seq: Option<u64>,
        commands: &[Command],
        sent_ns: u64,
        answered_ns: Option<u64>,
        results: Option<Vec<CommandResult>>,
    ) {
        self.history.push(Record {
            client: client.to_owned(),
            seq,
            sent_ns,
            answered_ns,
            commands: commands.to_vec(),
            results,
            status: None,
        });
    }

    /// The next seq of `client`'s session.
    pub fn next_seq(&mut self, client: &str) -> u64 {
        let seq = self.seqs.entry(client.to_owned()).or_default();
        *seq += 1;
        *seq
    }

    /// Sent, applied and answered, on the run's clock; outside any session.
    pub fn admin(&mut self, commands: &[Command]) -> Vec<CommandResult> {
        let sent = self.tick();
        let results = self.apply(None, None, commands);
        let answered = self.tick();
        self.record("admin", None, commands, sent, Some(answered), Some(results.clone()));
        results
    }

    /// Sent as the next request of `client`'s session, applied and answered.
    pub fn send(&mut self, client: &str, commands: &[Command]) -> (u64, Vec<CommandResult>) {
        let seq = self.next_seq(client);
        let sent = self.tick();
        let results = self.apply(Some(client), Some(seq), commands);
        let answered = self.tick();
        self.record(client, Some(seq), commands, sent, Some(answered), Some(results.clone()));
        (seq, results)
    }

    /// Like `send`, but the answer never reaches the client (a timeout).
    pub fn send_unanswered(&mut self, client: &str, commands: &[Command]) -> (u64, Vec<CommandResult>) {
        let seq = self.next_seq(client);
        let sent = self.tick();
        let results = self.apply(Some(client), Some(seq), commands);
        self.tick();
        self.record(client, Some(seq), commands, sent, None, None);
        (seq, results)
    }

    /// A later attempt of an applied session request, answered with its stored results.
    pub fn retry(&mut self, client: &str, seq: u64, commands: &[Command], results: Vec<CommandResult>) {
        let sent = self.tick();
        let answered = self.tick();
        self.record(client, Some(seq), commands, sent, Some(answered), Some(results));
    }

    pub fn tick(&mut self) -> u64 {
        self.clock_ns += STEP_NS;
        self.clock_ns
    }

    /// Rewrites the outcome of the log entry at `lsn` and of every history result for it.
    pub fn rewrite_outcome(&mut self, lsn: u64, outcome: Outcome) {
        self.log_entry(lsn).outcome = outcome.clone();
        for record in &mut self.history {
            for result in record.results.iter_mut().flatten() {
                if result.lsn == lsn {
                    result.outcome = outcome.clone();
                }
            }
        }
    }

    pub fn log_entry(&mut self, lsn: u64) -> &mut LogEntry {
        self.log
            .iter_mut()
            .find(|e| e.lsn == lsn)
            .expect("the LSN is in the log")
    }
}

pub fn meeting(days: &str, start: &str, end: &str) -> Meeting {
    Meeting::parse(days, start, end).unwrap()
}

pub fn section(id: &str, capacity: u32, waitlist_capacity: u32, meetings: Vec<Meeting>) -> Command {
    Command::create_section(id, &format!("Section {id}"), 4, capacity, waitlist_capacity, meetings)
}

pub fn student(id: &str) -> Command {
    Command::create_student(id, &format!("Student {id}"), 12)
}

pub fn enroll(student: &str, section: &str) -> Command {
    Command::enroll(student, section, false)
}

pub fn enroll_or_wait(student: &str, section: &str) -> Command {
    Command::enroll(student, section, true)
}

pub fn drop(student: &str, section: &str) -> Command {
    Command::Drop {
        student: student.into(),
        section: section.into(),
    }
}

pub fn swap(student: &str, from: &str, to: &str) -> Command {
    Command::swap(student, from, to)
}

pub fn deposit(student: &str, amount_cents: i64) -> Command {
    Command::Deposit {
        student: student.into(),
        amount_cents,
    }
}

pub fn withdraw(student: &str, amount_cents: i64) -> Command {
    Command::Withdraw {
        student: student.into(),
        amount_cents,
    }
}

pub fn set_capacity(section: &str, capacity: u32) -> Command {
    Command::SetCapacity {
        section: section.into(),
        capacity,
    }
}

/// The outcome of a single-command request.
pub fn only(results: &[CommandResult]) -> &Outcome {
    assert_eq!(results.len(), 1);
    &results[0].outcome
}

/// Asserts that exactly the named checks found violations, with the counts given.
#[track_caller]
pub fn assert_counts(report: &Report, expected: [u64; 5]) {
    let got: Vec<u64> = report.findings().iter().map(|(_, f)| f.violations).collect();
    assert_eq!(
        got, expected,
        "violations per check (invariants, lost writes, real time, sessions, fcfs):\n{report}"
    );
}
