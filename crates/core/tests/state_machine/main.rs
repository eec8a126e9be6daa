//! Property tests of the pure state machine `State::apply(at, &Command) -> Applied`.
//!
//! A generator (`generate.rs`) makes random but valid command sequences over a small
//! registrar, so the rules collide often. After every step the rules are recomputed
//! from the public accessors (`rules.rs`, `step.rs`, `moves.rs`, `money.rs`), not only
//! taken from `check_invariants`: capacity (reserved seats still held included),
//! waitlist bounds, units, time conflicts, holds, appointments, nobody jumping the line,
//! FIFO promotion with every passed-over student logged as skipped, a lecture seat never
//! held without its linked seat and pairs promoted only together, no prerequisite
//! bypassed without a used permission number, permission numbers used once by the
//! enroll they opened, reservations released (and their lines promoted) by the first
//! command at or after their instant and never before, money conservation and the
//! overdraft fee, refusals that change nothing, versions and the changes the store is
//! told to write, one LSN per command, and the meaning of each outcome. Whole runs must
//! replay identically, and a state rebuilt by `restore` (at the end or midway) must
//! equal the original and go on like it. Scripts upgrade the rules to version 2 at a
//! random point, and the log replayed under the versions its entries record equals the
//! live run. Plain examples pin the specific rules (`examples.rs`, `registrar.rs`,
//! `versions.rs`).

mod admin;
mod examples;
mod generate;
mod money;
mod moves;
mod registrar;
mod rules;
mod step;
mod versions;

use std::collections::BTreeMap;
use std::sync::Arc;

use murphy_core::state::OVERDRAFT_FEE_CENTS;
use murphy_core::{Applied, Command, Effects, LogEntry, Outcome, ReplayError, RulesVersion, Section, State, Student};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use time::OffsetDateTime;

use generate::{Script, script};
use step::Step;

/// 2026-01-01T00:00:00Z: every arrival time is this plus some seconds.
const EPOCH_SECS: i64 = 1_767_225_600;

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(EPOCH_SECS + secs).expect("a representable instant")
}

fn section_id(i: usize) -> String {
    format!("SEC-{i}")
}

fn student_id(i: usize) -> String {
    format!("s{i}")
}

fn fail<T>(message: String) -> Result<T, TestCaseError> {
    Err(TestCaseError::fail(message))
}

/// Whether a section's line holds `id`.
fn has(line: &[Arc<str>], id: &str) -> bool {
    line.iter().any(|s| &**s == id)
}

/// A section's line as plain ids.
fn names(line: &[Arc<str>]) -> Vec<String> {
    line.iter().map(|s| s.to_string()).collect()
}

fn sections(state: &State) -> Vec<Section> {
    state.sections().cloned().collect()
}

fn students(state: &State) -> Vec<Student> {
    state.students().cloned().collect()
}

/// A command that changes nothing (it names nobody): applied to a copy, it shows what
/// the release of due reserved seats alone does at an arrival time.
fn nothing() -> Command {
    Command::Deposit {
        student: "nobody".into(),
        amount_cents: 1,
    }
}

/// `state` as a command arriving at `at` finds it: past the release, at its LSN.
fn released(state: &State, at: OffsetDateTime) -> (State, Effects) {
    let mut seen = state.clone();
    let effects = seen.apply(at, &nothing()).effects;
    seen.take_changes();
    (seen, effects)
}

/// Applies `script` to a fresh state with no checks: the reference for replay.
fn replay(script: &[(OffsetDateTime, Command)]) -> (State, Vec<Applied>) {
    let mut state = State::default();
    let answers = script.iter().map(|(at, command)| state.apply(*at, command)).collect();
    (state, answers)
}

/// Applies `script` to a fresh state, checking every step and the running money total.
fn run_checked(script: &Script) -> Result<(State, Vec<Applied>), TestCaseError> {
    let mut state = State::default();
    let mut total_cents = 0;
    let mut answers = Vec::with_capacity(script.len());
    let mut last_at = at(0);
    for (i, (at, command)) in script.iter().enumerate() {
        prop_assert!(command.validate().is_ok(), "generator made an invalid {command:?}");
        prop_assert!(*at >= last_at, "arrival times go back at step {i}");
        last_at = *at;
        let original = state.clone();
        let (seen, release) = released(&state, *at);
        let applied = state.apply(*at, command);
        let changes = state.take_changes();
        let step = Step {
            original: &original,
            before: &seen,
            release: &release,
            after: &state,
            at: *at,
            command,
            applied: &applied,
            changes: &changes,
        };
        let checked = step.check().and_then(|()| step.check_money(total_cents));
        total_cents =
            checked.map_err(|e| TestCaseError::fail(format!("step {i} at {at}: {command:?} -> {applied:?}\n  {e}")))?;
        answers.push(applied);
    }
    Ok((state, answers))
}

proptest! {
    // A failing case is printed, shrunk, not written to a regression file.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_step_keeps_the_rules(script in script()) {
        run_checked(&script)?;
    }

    #[test]
    fn replay_and_restore_rebuild_the_same_state(script in script(), split in any::<Index>()) {
        let (state, answers) = replay(&script);
        let (again, answers_again) = replay(&script);
        prop_assert_eq!(&answers, &answers_again, "the same log gave different answers");
        prop_assert!(again == state, "the same log built a different state");
        prop_assert_eq!(restore(&state, false), Ok(state.clone()));
        prop_assert_eq!(restore(&state, true), Ok(state.clone()), "derived fields not rebuilt");
        // A state restored midway goes on exactly as the original did.
        let cut = split.index(script.len() + 1);
        let mut resumed = restore(&replay(&script[..cut]).0, true).map_err(TestCaseError::fail)?;
        let rest: Vec<Applied> = script[cut..].iter().map(|(at, c)| resumed.apply(*at, c)).collect();
        prop_assert_eq!(&rest[..], &answers[cut..], "a restored state answered differently");
        prop_assert!(resumed == state, "a restored state ended elsewhere");
    }

    /// The log replayed under the rules each entry records equals the live run, with
    /// the upgrade to version 2 at a random point: from nothing, and from a state
    /// restored at a random entry. A binary that knows only version 1 replays the log up
    /// to the first entry decided under version 2 and refuses that one, naming both.
    #[test]
    fn replay_under_recorded_versions_equals_the_live_run(
        script in script(),
        switch in any::<Index>(),
        split in any::<Index>(),
    ) {
        let mut script = script;
        let i = switch.index(script.len() + 1);
        let when = script.get(i.saturating_sub(1)).map_or(at(0), |(at, _)| *at);
        script.insert(i, (when, Command::UpgradeRules { rules: RulesVersion::V2 }));
        let mut live = State::default();
        let log: Vec<LogEntry> = script.iter().map(|(at, command)| entry(&mut live, *at, command)).collect();
        prop_assert_eq!(live.rules(), RulesVersion::V2);

        let mut replayed = State::default();
        for e in &log {
            replayed.replay(e, RulesVersion::LATEST).map_err(|err| TestCaseError::fail(err.to_string()))?;
        }
        prop_assert!(replayed == live, "the replay ended elsewhere than the live run");

        let cut = split.index(log.len() + 1);
        let mut prefix = State::default();
        for e in &log[..cut] {
            prefix.replay(e, RulesVersion::LATEST).map_err(|err| TestCaseError::fail(err.to_string()))?;
        }
        let mut resumed = restore(&prefix, true).map_err(TestCaseError::fail)?;
        for e in &log[cut..] {
            resumed.replay(e, RulesVersion::LATEST).map_err(|err| TestCaseError::fail(err.to_string()))?;
        }
        prop_assert!(resumed == live, "a replay resumed from restored tables ended elsewhere");

        let mut old = State::default();
        let first_v2 = log.iter().position(|e| e.rules == RulesVersion::V2).unwrap_or(log.len());
        for (n, e) in log.iter().enumerate() {
            match old.replay(e, RulesVersion::V1) {
                Ok(_) => prop_assert!(n < first_v2, "lsn {} replayed under version 1", e.lsn),
                Err(ReplayError::Newer { log: RulesVersion::V2, known: RulesVersion::V1 }) => {
                    prop_assert_eq!(n, first_v2);
                    break;
                }
                Err(other) => return fail(format!("a version 1 binary at lsn {}: {other}", e.lsn)),
            }
        }
    }
}

/// Applies `command` as the live server does and writes it as the log would.
fn entry(state: &mut State, at: OffsetDateTime, command: &Command) -> LogEntry {
    let applied = state.apply(at, command);
    LogEntry {
        lsn: applied.lsn,
        at,
        rules: applied.rules,
        client: None,
        seq: None,
        owner: None,
        command: command.clone(),
        outcome: applied.outcome,
        effects: applied.effects,
    }
}

/// Rebuilds `state` as a store does, from its sections and students; with `wipe`, the
/// fields that `restore` derives are emptied first (students' seats and lines, linked
/// sections' lectures).
fn restore(state: &State, wipe: bool) -> Result<State, String> {
    let students = students(state).into_iter().map(|mut s| {
        if wipe {
            s.enrolled.clear();
            s.waitlisted.clear();
            s.units = 0;
        }
        s
    });
    let sections = sections(state).into_iter().map(|mut s| {
        if wipe {
            s.linked_to = None;
        }
        s
    });
    State::restore(
        state.lsn(),
        state.catalog_version(),
        state.rules(),
        sections.collect(),
        students.collect(),
    )
}

/// The name of a command that may promote someone (its JSON `type`).
fn promoter(command: &Command) -> &'static str {
    match command {
        Command::Drop { .. } => "drop",
        Command::Swap { .. } => "swap",
        Command::SetCapacity { .. } => "set_capacity",
        Command::Deposit { .. } => "deposit",
        Command::Transfer { .. } => "transfer",
        _ => "other",
    }
}

/// What happened in one applied command, as names to count: the outcome, the shapes of
/// the registrar's rules it took, each skip's reason, each promotion and what caused
/// it (the release first, then the command), an overdraft fee.
fn events(command: &Command, applied: &Applied, release: &Effects) -> Vec<String> {
    let mut names = vec![applied.outcome.kind().to_string()];
    let shape = match (command, &applied.outcome) {
        (
            Command::Enroll {
                permission: Some(_), ..
            },
            Outcome::Enrolled,
        ) => Some("enrolled by permission"),
        (Command::Enroll { with: Some(_), .. }, Outcome::Enrolled) => Some("enrolled in a pair"),
        (Command::Enroll { with: Some(_), .. }, Outcome::Waitlisted { .. }) => Some("waitlisted for a pair"),
        (_, Outcome::Dropped { linked: Some(_), .. }) => Some("dropped a pair"),
        (Command::Swap { to, .. }, Outcome::Swapped { .. }) if to.starts_with(generate::LECTURE) => {
            Some("swapped into a pair")
        }
        _ => None,
    };
    names.extend(shape.map(String::from));
    let fx = &applied.effects;
    names.extend(fx.released.iter().map(|_| "released".to_string()));
    names.extend(fx.skipped.iter().map(|s| format!("skip:{}", s.reason.kind())));
    for (i, p) in fx.promoted.iter().enumerate() {
        let by = if i < release.promoted.len() {
            "release"
        } else {
            promoter(command)
        };
        names.push(format!("promoted by {by}"));
        if generate::PARTS.contains(&p.section.as_str()) {
            names.push("promoted a pair".into());
        }
    }
    if matches!(
        applied.outcome,
        Outcome::Balance {
            fee_cents: OVERDRAFT_FEE_CENTS,
            ..
        }
    ) {
        names.push("overdraft fee".into());
    }
    names
}

/// The properties are only as good as the scripts: across a fixed sample, every
/// answer and every kind of skip must occur, or the generator has gone blind.
#[test]
fn generated_scripts_reach_every_rule() {
    let mut runner = TestRunner::deterministic();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..64 {
        let script = script().new_tree(&mut runner).expect("a script").current();
        let mut state = State::default();
        for (at, command) in &script {
            let (_, release) = released(&state, *at);
            let applied = state.apply(*at, command);
            for name in events(command, &applied, &release) {
                *counts.entry(name).or_default() += 1;
            }
        }
    }
    let wanted = [
        "created",
        "already_exists",
        "no_such_section",
        "no_such_student",
        "capacity_set",
        "below_enrolled",
        "below_reserved",
        "appointment_set",
        "not_open",
        "enrolled",
        "waitlisted",
        "full",
        "reserved",
        "already_enrolled",
        "already_waitlisted",
        "time_conflict",
        "unit_limit",
        "hold",
        "dropped",
        "not_enrolled",
        "swapped",
        "balance",
        "insufficient_funds",
        "overdraft fee",
        "needs_linked",
        "cannot_link",
        "missing_prerequisite",
        "completion_recorded",
        "permission",
        "bad_permission",
        "enrolled by permission",
        "enrolled in a pair",
        "waitlisted for a pair",
        "dropped a pair",
        "swapped into a pair",
        "released",
        "promoted by drop",
        "promoted by swap",
        "promoted by set_capacity",
        "promoted by deposit",
        "promoted by transfer",
        "promoted by release",
        "promoted a pair",
        "skip:hold",
        "skip:time_conflict",
        "skip:unit_limit",
        "skip:full",
        "skip:reserved",
        "rules_upgraded",
        "already_upgraded",
        "duplicate_course",
    ];
    let missing: Vec<&str> = wanted.into_iter().filter(|w| !counts.contains_key(*w)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?} in {counts:?}");
}
