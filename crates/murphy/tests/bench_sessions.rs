//! `murphy bench` against the real binary where it used to go wrong: with a tiny
//! request queue and no retries, writes are shed with `503` and given up, and a session
//! must never be wedged by one (no `409 session_gap` after a give-up: the student goes
//! on in a new session); and a run with more students than the last one grows the
//! scenario instead of failing on a student that does not exist.

mod common;

use std::collections::{HashMap, HashSet};

use common::{Murphy, both, murphy, stdout};
use serde_json::Value;

const ADMIN_TOKEN: &str = "bench-sessions-admin-token";

fn records(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_write_given_up_ends_its_session_instead_of_wedging_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Murphy::serve_with(dir.path(), ADMIN_TOKEN, &["--queue-requests-max", "4"]);
    let out = dir.path().join("run");
    let run = murphy(&[
        "bench",
        "--url",
        &server.url,
        "--admin-token",
        ADMIN_TOKEN,
        "--connections",
        "64",
        "--students",
        "640",
        "--sections",
        "20",
        "--retries",
        "0",
        "--duration",
        "3",
        "--opens-after-ms",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = both(&run);
    let history = records(&out.join("history.jsonl"));
    let status = |r: &Value| r["status"].as_u64();

    let shed = history.iter().filter(|r| status(r) == Some(503)).count();
    assert!(shed > 0, "a queue of 4 under 64 connections sheds writes: {text}");
    assert_eq!(run.status.code(), Some(3), "shed writes were never answered: {text}");
    let never = stdout(&run)
        .lines()
        .find(|l| l.starts_with("writes never answered: "))
        .map(str::to_owned);
    assert!(
        never.is_some_and(|l| l.contains("not applied (503 overloaded) ")),
        "the report names the give-ups: {text}"
    );

    let gaps: Vec<&Value> = history.iter().filter(|r| status(r) == Some(409)).collect();
    assert!(gaps.is_empty(), "{} session gaps, the first: {}", gaps.len(), gaps[0]);
    // And no session sent anything after a request it gave up on.
    let answered: HashSet<(&str, u64)> = history
        .iter()
        .filter(|r| r["results"].is_array())
        .map(|r| (r["client"].as_str().unwrap(), r["seq"].as_u64().unwrap()))
        .collect();
    let mut given_up: HashMap<&str, u64> = HashMap::new();
    for r in &history {
        let (client, seq) = (r["client"].as_str().unwrap(), r["seq"].as_u64().unwrap());
        if let Some(abandoned) = given_up.get(client) {
            panic!("{client} sent seq {seq} after giving up seq {abandoned}");
        }
        if !answered.contains(&(client, seq)) {
            given_up.insert(client, seq);
        }
    }
    assert!(given_up.len() > 1, "several sessions ended: {given_up:?}");

    let check = murphy(&[
        "check",
        "--url",
        &server.url,
        "--admin-token",
        ADMIN_TOKEN,
        "--history",
        out.join("history.jsonl").to_str().unwrap(),
    ]);
    assert!(check.status.success(), "check: {}", both(&check));
}

#[test]
fn a_run_with_more_students_than_the_last_grows_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let server = Murphy::serve(dir.path(), ADMIN_TOKEN);
    let bench = |students: &str| {
        murphy(&[
            "bench",
            "--url",
            &server.url,
            "--admin-token",
            ADMIN_TOKEN,
            "--connections",
            "8",
            "--students",
            students,
            "--sections",
            "10",
            "--duration",
            "1",
            "--opens-after-ms",
            "100",
        ])
    };
    let first = bench("100");
    assert!(first.status.success(), "{}", both(&first));
    assert!(!stdout(&first).contains("already on the server"), "{}", both(&first));
    let second = bench("150");
    let text = both(&second);
    assert!(second.status.success(), "{text}");
    assert!(
        stdout(&second).contains(
            "setup: 10 sections and 100 students were already on the server (an earlier run's); \
             created 0 sections and 50 students."
        ),
        "{text}"
    );
}
