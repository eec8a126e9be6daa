//! `murphy bench` against the real binary where it used to go wrong: with a tiny
//! request queue and no retries, writes are shed with `503` and given up, and a session
//! must never be wedged by one (no `409 session_gap` after a give-up: the student goes
//! on in a new session); a second run over the first one's students starts only when
//! asked to (`--reuse`), and then grows the scenario; and a run into a log (no
//! terminal) says what it runs at once and how it goes, in a report that reads well.

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
        // Clients that never throttle: every give-up is the server's 503.
        "--on-503",
        "retry-at-once",
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
    let said = stdout(&run);
    let never = said
        .lines()
        .skip_while(|l| *l != "writes never answered:")
        .nth(1)
        .map(str::to_owned);
    assert!(
        never.is_some_and(|l| l.trim_start().starts_with("not applied (503 overloaded) ")),
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

/// A second run over an earlier run's students and sections (their seats taken) is
/// refused before anything is created, unless asked for with --reuse; then it adds
/// what is missing and says what it reused.
#[test]
fn a_second_run_starts_only_when_asked_to_reuse_and_then_grows_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let server = Murphy::serve(dir.path(), ADMIN_TOKEN);
    let bench = |students: &str, more: &[&str]| {
        let mut args = vec![
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
        ];
        args.extend_from_slice(more);
        murphy(&args)
    };
    let first = bench("100", &[]);
    assert!(first.status.success(), "{}", both(&first));
    assert!(
        stdout(&first).contains("setup: created 10 sections and 100 students\n"),
        "{}",
        both(&first)
    );
    assert!(!stdout(&first).contains("reused"), "{}", both(&first));

    let again = bench("150", &[]);
    assert_eq!(again.status.code(), Some(2), "{}", both(&again));
    assert!(
        both(&again).contains("holds an earlier run's 10 sections and 100 students"),
        "{}",
        both(&again)
    );
    assert!(both(&again).contains("pass --reuse"), "{}", both(&again));

    // Another server's admin token (the demo's, say) is said in a sentence, not as the
    // raw problem JSON.
    let wrong = murphy(&[
        "bench",
        "--url",
        &server.url,
        "--admin-token",
        "not-this-servers",
        "--duration",
        "1",
    ]);
    let said = both(&wrong);
    assert_eq!(wrong.status.code(), Some(3), "{said}");
    assert!(said.contains("the server refused the admin token (401: "), "{said}");
    assert!(!said.contains("{\""), "no raw JSON: {said}");

    let reused = bench("150", &["--reuse"]);
    let text = both(&reused);
    assert!(reused.status.success(), "{text}");
    assert!(
        stdout(&reused).contains("setup: created 0 sections and 50 students\n"),
        "{text}"
    );
    assert!(
        stdout(&reused).contains("setup: reused 10 sections and 100 students of an earlier run (--reuse)"),
        "{text}"
    );
}

/// Not on a terminal (a log, CI): the first line comes before the run, a progress line
/// every few seconds, the outcomes one a line, and no commands/s column that only
/// repeats answered/s when every request is one command.
#[test]
fn a_run_into_a_log_says_what_it_runs_at_once_and_reads_well() {
    use std::io::{BufRead, BufReader, Read};
    let dir = tempfile::tempdir().unwrap();
    let server = Murphy::serve(dir.path(), ADMIN_TOKEN);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(["bench", "--url", &server.url, "--admin-token", ADMIN_TOKEN])
        .args(["--connections", "8", "--students", "100", "--sections", "10"])
        .args(["--duration", "6", "--opens-after-ms", "100"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first line comes while the run runs"
    );
    assert_eq!(
        first,
        format!(
            "murphy bench: registration-day, closed model, 8 connections for 6 s, against {}\n",
            server.url
        )
    );
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}{stderr}");
    assert!(stderr.contains("5 of 6 s: "), "a progress line: {stderr}");
    assert!(!rest.contains("commands/s"), "{rest}");
    let outcomes: Vec<&str> = rest
        .lines()
        .skip_while(|l| *l != "writes answered, by command → outcome:")
        .skip(1)
        .take_while(|l| !l.is_empty() && l.starts_with("  "))
        .collect();
    assert!(
        outcomes
            .iter()
            .any(|l| l.trim_start().starts_with("enroll → enrolled ")),
        "one outcome a line: {rest}"
    );

    let help = murphy(&["bench", "--help"]);
    assert!(!stdout(&help).contains("18446744073709551615"), "{}", stdout(&help));
}
