//! The conformance suite every `Backend` must pass, written against the trait alone.
//! A backend's test file implements `Harness` (how to open, and open again, one store)
//! and instantiates the suite with `conformance_suite!`.
//!
//! What it holds a backend to: what is appended is what is read back; recovery from
//! the tables plus the replayed log tail rebuilds exactly the state and sessions the
//! batches built, after any prefix of batches and whatever the tables lag; a crash
//! between an append and the materializing of it loses nothing; the tables caught up
//! in one coalesced step equal the tables brought up step by step; a gap in the LSNs is
//! refused.

#![allow(dead_code)] // each backend's test file uses what it needs

pub mod model;

use murphy_core::{Command, RulesVersion, SessionLimits};
use murphy_store::{Backend, Materialization, Records, recover, verify};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

pub use model::Model;

/// One store, opened as often as a test likes (each open is a restart).
pub trait Harness {
    type Backend: Backend;
    fn open(&self) -> Self::Backend;
}

/// Instantiates every test of the suite for a harness built by `$make`.
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        #[test]
        fn roundtrip_of_random_batches_with_random_materializing() {
            conformance::roundtrip(&|| $make);
        }
        #[test]
        fn recovery_from_any_prefix_of_a_batch_sequence() {
            conformance::recovery_from_any_prefix(&|| $make);
        }
        #[test]
        fn a_lagging_materializer_catches_up_in_one_coalesced_step() {
            conformance::lag_and_catch_up(&|| $make);
        }
        #[test]
        fn a_crash_between_append_and_materialize_loses_nothing() {
            conformance::crash_between_append_and_materialize(&|| $make);
        }
        #[test]
        fn tokens_and_sessions_come_back() {
            conformance::tokens_and_sessions(&|| $make);
        }
        #[test]
        fn an_append_with_a_gap_in_its_lsns_is_refused() {
            conformance::gaps_are_refused(&|| $make);
        }
    };
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

type Script = Vec<(u8, u8, u8, u8, i64)>;

fn script() -> impl Strategy<Value = (Script, Vec<usize>, Vec<bool>)> {
    (
        prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), 1i64..6000), 1..100),
        prop::collection::vec(1usize..12, 1..30),
        prop::collection::vec(any::<bool>(), 1..30),
    )
}

/// Cuts `commands` into batches of the given sizes (cycled).
fn cut(commands: &[Command], cuts: &[usize]) -> Vec<Vec<Command>> {
    let mut batches = Vec::new();
    let mut rest = commands;
    for size in cuts.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (batch, tail) = rest.split_at((*size).min(rest.len()));
        batches.push(batch.to_vec());
        rest = tail;
    }
    batches
}

/// Asserts that recovering `backend` gives the model's state, sessions and tokens.
fn assert_recovers(backend: &dyn Backend, model: &Model) -> Result<u64, TestCaseError> {
    let recovered =
        recover(backend, model::limits(), RulesVersion::LATEST).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&recovered.state, &model.state);
    prop_assert_eq!(recovered.sessions.rows(), model.sessions.rows());
    let mut tokens: Vec<_> = recovered
        .tokens
        .iter()
        .map(|t| (t.hash.clone(), t.student.clone()))
        .collect();
    tokens.sort();
    prop_assert_eq!(tokens, model.tokens());
    Ok(recovered.replayed)
}

/// Random command sequences in random batches, materialized at random points: after
/// every batch, a restart recovers exactly what the batches built, and the tables equal
/// a replay of the log at their position.
pub fn roundtrip<H: Harness>(make: &dyn Fn() -> H) {
    runner(32)
        .run(&script(), |(script, cuts, materialize)| {
            let harness = make();
            let backend = harness.open();
            let mut model = Model::set_up(&backend);
            let commands: Vec<Command> = script.into_iter().map(model::command).collect();
            for (i, batch) in cut(&commands, &cuts).into_iter().enumerate() {
                model.append(&backend, &batch);
                if materialize[i % materialize.len()] {
                    model.materialize(&backend);
                }
                let reopened = harness.open();
                let replayed = assert_recovers(&reopened, &model)?;
                prop_assert_eq!(replayed, model.state.lsn() - model.materialized.lsn());
            }
            verify(&backend, RulesVersion::LATEST).map_err(|e| TestCaseError::fail(e.to_string()))?;
            Ok(())
        })
        .unwrap();
}

/// For every prefix of one batch sequence, a fresh store given only that prefix
/// recovers the state after it.
pub fn recovery_from_any_prefix<H: Harness>(make: &dyn Fn() -> H) {
    runner(8)
        .run(&script(), |(script, cuts, materialize)| {
            let commands: Vec<Command> = script.into_iter().map(model::command).collect();
            let batches = cut(&commands, &cuts);
            for prefix in 0..=batches.len() {
                let harness = make();
                let backend = harness.open();
                let mut model = Model::set_up(&backend);
                for (i, batch) in batches[..prefix].iter().enumerate() {
                    model.append(&backend, batch);
                    if materialize[i % materialize.len()] {
                        model.materialize(&backend);
                    }
                }
                drop(backend);
                assert_recovers(&harness.open(), &model)?;
            }
            Ok(())
        })
        .unwrap();
}

/// Many batches appended while the tables stay behind: recovery replays the whole
/// lag; one coalesced step then brings the tables level, equal to the state; after it
/// nothing is replayed.
pub fn lag_and_catch_up<H: Harness>(make: &dyn Fn() -> H) {
    let harness = make();
    let backend = harness.open();
    let mut model = Model::set_up(&backend);
    let script: Script = (0..200u8).map(|i| (i, i.wrapping_mul(7), i / 3, i % 5, 100)).collect();
    let commands: Vec<Command> = script.into_iter().map(model::command).collect();
    for batch in commands.chunks(7) {
        model.append(&backend, batch);
    }
    let lag = model.state.lsn() - model.materialized.lsn();
    assert_eq!(assert_recovers(&harness.open(), &model).unwrap(), lag);
    model.materialize(&backend);
    let tables = backend.tables().unwrap();
    assert_eq!(tables.state, model.state, "one coalesced step equals the state");
    assert_eq!(assert_recovers(&harness.open(), &model).unwrap(), 0);
}

/// A crash after an append, before its materializing: a restart replays it, and the
/// materializer goes on from what the tables hold (line diffs land on the right rows).
pub fn crash_between_append_and_materialize<H: Harness>(make: &dyn Fn() -> H) {
    let harness = make();
    let backend = harness.open();
    let mut model = Model::set_up(&backend);
    model.materialize(&backend);
    model.append(&backend, &[model::enroll("p0", "S0")]);
    drop(backend); // the crash: appended, never materialized

    let backend = harness.open();
    let recovered = recover(&backend, model::limits(), RulesVersion::LATEST).unwrap();
    assert_eq!(recovered.replayed, 1);
    assert_eq!(recovered.state, model.state);
    // What the pipeline does at start-up: the replayed tail is the first step.
    let mut recovered = recovered;
    let sessions = recovered.sessions.take_changes();
    backend
        .materialize(&Materialization {
            before: &recovered.tables,
            after: &recovered.state,
            changes: &recovered.changes,
            sessions: &sessions,
        })
        .unwrap();
    model.materialized = recovered.state.clone();
    model.append(&backend, &[model::enroll("p1", "S0")]);
    model.materialize(&backend);
    let tables = harness.open().tables().unwrap();
    assert_eq!(tables.state, model.state);
    let line: Vec<&str> = tables
        .state
        .section("S0")
        .unwrap()
        .enrolled
        .iter()
        .map(|s| &**s)
        .collect();
    assert_eq!(line, ["p0", "p1"]);
}

/// Tokens and sessions are log records too: they survive restarts, with or without
/// the tables, and expired sessions come back expired.
pub fn tokens_and_sessions<H: Harness>(make: &dyn Fn() -> H) {
    let harness = make();
    let backend = harness.open();
    let mut model = Model::set_up(&backend);
    model.mint(&backend, "p1", "hash-one");
    model.request(&backend, "laptop", "p1", &[model::enroll("p1", "S1")]);
    model.request(
        &backend,
        "laptop",
        "p1",
        &[model::enroll("p1", "S2"), model::enroll("p1", "S3")],
    );
    model.materialize(&backend);
    model.request(&backend, "phone", "p2", &[model::enroll("p2", "S1")]);
    model.mint(&backend, "p2", "hash-two");
    assert_eq!(assert_recovers(&harness.open(), &model).unwrap(), 1);
    // Much later: the laptop's and the phone's sessions have expired by the next batch.
    model.later(SessionLimits::default().idle_time_max);
    model.request(&backend, "tablet", "p2", &[model::enroll("p2", "S2")]);
    model.materialize(&backend);
    assert_eq!(assert_recovers(&harness.open(), &model).unwrap(), 0);
    let rows = harness.open().tables().unwrap().sessions;
    let laptop = rows.iter().find(|r| r.client == "laptop").unwrap();
    assert!(laptop.expired_at.is_some(), "{laptop:?}");
}

/// LSNs are the serial order: an append that skips one is refused and writes nothing.
pub fn gaps_are_refused<H: Harness>(make: &dyn Fn() -> H) {
    let harness = make();
    let backend = harness.open();
    let model = Model::set_up(&backend);
    let mut state = model.state.clone();
    let mut entries = model::entries(
        &mut state,
        &[model::enroll("p0", "S0"), model::enroll("p1", "S0")],
        model.at,
    );
    entries.remove(0);
    let refused = backend.append(&Records {
        entries,
        tokens: Vec::new(),
    });
    assert!(refused.is_err(), "a gap was appended");
    assert_eq!(backend.log(0, u64::MAX).unwrap().len() as u64, model.state.lsn());
}
