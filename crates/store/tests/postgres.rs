//! The PostgreSQL backend: the conformance suite, each test in a schema of its own on
//! the throwaway server, and what only PostgreSQL has (the log in plain SQL, the schema
//! version, followers woken by LISTEN/NOTIFY).

mod conformance;
mod pg;

use std::time::{Duration, Instant};

use conformance::{Harness, Model};
use murphy_store::{Backend, Postgres};
use pg::Leased;

struct TempSchema {
    url: String,
    schema: String,
}

impl Harness for TempSchema {
    type Backend = Leased;

    fn open(&self) -> Leased {
        Leased(pg::connect(&self.url, &self.schema))
    }
}

fn temp() -> TempSchema {
    TempSchema {
        url: pg::url(),
        schema: pg::fresh_schema(),
    }
}

conformance_suite!(temp());

/// The log is plain SQL: a plain connection reads every entry, and the JSON columns
/// query as JSON.
#[test]
fn the_log_is_readable_as_plain_sql() {
    let harness = temp();
    let backend = harness.open();
    let model = Model::set_up(&backend);
    let mut raw = pg::raw(&harness.url);
    let sql = format!(
        "SELECT count(*), (SELECT command::jsonb ->> 'type' FROM {0}.log WHERE lsn = 1) FROM {0}.log",
        harness.schema
    );
    let row = raw.query_one(&sql, &[]).unwrap();
    let (count, first): (i64, String) = (row.get(0), row.get(1));
    assert_eq!((count as u64, first.as_str()), (model.state.lsn(), "create_section"));
}

/// A schema written by another version of murphy is refused with a clear message, and
/// left as it is.
#[test]
fn a_schema_of_another_version_is_refused() {
    let harness = temp();
    drop(harness.open());
    let mut raw = pg::raw(&harness.url);
    let sql = format!(
        "UPDATE {}.meta SET value = 99 WHERE key = 'schema_version'",
        harness.schema
    );
    assert_eq!(raw.execute(&sql, &[]).unwrap(), 1);
    let refused = Postgres::connect(&harness.url, pg::options(&harness.schema))
        .err()
        .unwrap();
    let message = refused.to_string();
    assert!(
        message.contains("schema version 99") && message.contains("reads version 3"),
        "{message}"
    );
}

/// A schema of version 2 differs only in its append function: connecting replaces the
/// function and records version 3, adds what came after (the log's `rules`, the
/// register of nodes, the append that writes `rules`), and appends work again, each
/// entry with its rules version.
#[test]
fn a_schema_of_version_2_is_brought_up_to_date() {
    let harness = temp();
    let backend = harness.open();
    let mut model = Model::set_up(&backend);
    drop(backend);
    let mut raw = pg::raw(&harness.url);
    // Version 2 had neither the log's `rules` nor the appends that know it.
    let sql = format!(
        "UPDATE {0}.meta SET value = 2 WHERE key = 'schema_version'; \
         DROP FUNCTION {0}.append(bigint, bigint[], bigint[], text[], bigint[], text[], text[], text[], text[], \
             text[], text[], text); \
         DROP FUNCTION {0}.append(bigint, bigint[], bigint[], integer[], text[], bigint[], text[], text[], text[], \
             text[], text[], text[], text); \
         ALTER TABLE {0}.log DROP COLUMN rules; DROP TABLE {0}.nodes",
        harness.schema
    );
    raw.batch_execute(&sql).unwrap();

    let backend = harness.open();
    model.append(&backend, &[conformance::model::enroll("p0", "S0")]);
    let sql = format!("SELECT value FROM {}.meta WHERE key = 'schema_version'", harness.schema);
    assert_eq!(raw.query_one(&sql, &[]).unwrap().get::<_, i64>(0), 3);
    let log = backend.log(0, u64::MAX).unwrap();
    assert_eq!(log.len() as u64, model.state.lsn());
    let last = log.last().unwrap();
    let sql = format!("SELECT rules FROM {}.log WHERE lsn = $1", harness.schema);
    let stored: Option<i32> = raw.query_one(&sql, &[&(last.lsn as i64)]).unwrap().get(0);
    assert_eq!(
        stored,
        Some(last.rules.number() as i32),
        "the new entry records its rules"
    );
}

/// A follower hears of every append with the time it committed, by the database's
/// clock (this machine's here), and hands each commit out once, only when asked
/// through its end.
#[test]
fn a_follower_learns_when_each_append_committed() {
    // The database's clock and this process's are one machine's; a commit is timed
    // within the append's call, give or take this.
    const CLOCK_SLACK: time::Duration = time::Duration::milliseconds(50);
    let harness = temp();
    let primary = harness.open();
    let mut model = Model::set_up(&primary);
    let secondary = harness.open();
    let mut follower = secondary.0.follower().unwrap();
    let mut appends = Vec::new();
    for student in ["p0", "p1", "p2"] {
        let before = time::OffsetDateTime::now_utc();
        model.append(&primary, &[conformance::model::enroll(student, "S0")]);
        appends.push((model.state.lsn(), before, time::OffsetDateTime::now_utc()));
    }
    let end = model.state.lsn();
    assert_eq!(follower.wait_for_log(end - 1, Duration::from_secs(10)).unwrap(), end);

    assert!(follower.take_commits(appends[0].0 - 1).unwrap().is_empty());
    let first = follower.take_commits(appends[0].0).unwrap();
    let rest = follower.take_commits(end).unwrap();
    assert_eq!((first.len(), rest.len()), (1, 2), "one commit per append, each once");
    for (commit, (lsn, before, after)) in first.iter().chain(&rest).zip(&appends) {
        assert_eq!(commit.end, *lsn);
        assert!(
            commit.at >= *before - CLOCK_SLACK && commit.at <= *after + CLOCK_SLACK,
            "commit of lsn {lsn} timed at {}, outside its append's call ({before} to {after})",
            commit.at
        );
    }
    assert!(follower.take_commits(end).unwrap().is_empty());
}

/// A follower on another store sleeps until an append commits, and wakes within
/// milliseconds of it, with the new end of the log; with nothing appended it wakes at
/// its timeout with the end it knew.
#[test]
fn a_follower_wakes_within_milliseconds_of_an_append() {
    const WAKE_TIME_MAX: Duration = Duration::from_millis(100);
    let harness = temp();
    let primary = harness.open();
    let mut model = Model::set_up(&primary);
    let end = model.state.lsn();
    let secondary = harness.open();
    let mut follower = secondary.0.follower().unwrap();

    let started = Instant::now();
    assert_eq!(follower.wait_for_log(end, Duration::from_millis(200)).unwrap(), end);
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "woke before its timeout"
    );

    let waiter = std::thread::spawn(move || {
        let seen = follower.wait_for_log(end, Duration::from_secs(10)).unwrap();
        (seen, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(300)); // the follower is asleep by now
    model.append(&primary, &[conformance::model::enroll("p0", "S0")]);
    let appended = Instant::now();
    let (seen, woke) = waiter.join().unwrap();
    assert_eq!(seen, end + 1);
    let late = woke.saturating_duration_since(appended);
    assert!(late < WAKE_TIME_MAX, "the follower woke {late:?} after the append");
    let entries = secondary.log(end, 10).unwrap();
    assert_eq!(entries.len(), 1, "what the follower was told of is readable");
}
