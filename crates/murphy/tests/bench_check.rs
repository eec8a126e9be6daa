//! `murphy bench` then `murphy check`, as a user runs them: the real binary serves, a
//! short registration-day run (with retries and sessions) records its history, and the
//! checker finds that history and the server's log clean. Then the same history with
//! one answer tampered with is caught.

mod common;

use common::{Murphy, murphy};

const ADMIN_TOKEN: &str = "bench-check-admin-token";

#[test]
fn a_registration_day_run_checks_clean_and_a_tampered_history_does_not() {
    let dir = tempfile::tempdir().unwrap();
    // A debug build answers slower than a write may wait by default: this test is about
    // bench and check, not about shedding.
    let server = Murphy::serve_with(dir.path(), ADMIN_TOKEN, &["--queue-wait-time-max-ms", "10000"]);
    let url = server.url.clone();
    let history = dir.path().join("history.jsonl");
    let report = dir.path().join("report.json");
    let plots = dir.path().join("plots");
    let run = murphy(&[
        "bench",
        "--url",
        &url,
        "--admin-token",
        ADMIN_TOKEN,
        "--scenario",
        "registration-day",
        "--connections",
        "16",
        "--students",
        "400",
        "--sections",
        "20",
        "--duration",
        "3",
        "--opens-after-ms",
        "300",
        "--history",
        history.to_str().unwrap(),
        "--json",
        report.to_str().unwrap(),
        "--plot",
        plots.to_str().unwrap(),
    ]);
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "bench: {out}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(out.contains("unanswered: none"), "{out}");
    for outcome in ["enrolled", "full", "not_open"] {
        assert!(out.contains(outcome), "a registration day sees {outcome}: {out}");
    }
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(json["writes"]["answered"].as_u64().unwrap() > 100, "{json}");
    assert!(plots.join("writes-latency.svg").exists() && plots.join("writes-throughput.svg").exists());

    let check = murphy(&[
        "check",
        "--url",
        &url,
        "--admin-token",
        ADMIN_TOKEN,
        "--history",
        history.to_str().unwrap(),
    ]);
    let verdict = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "check: {verdict}{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // The same history against another server: said to be another server's, once,
    // not thousands of violations.
    let other_dir = tempfile::tempdir().unwrap();
    let other = Murphy::serve(other_dir.path(), ADMIN_TOKEN);
    let wrong = murphy(&[
        "check",
        "--url",
        &other.url,
        "--admin-token",
        ADMIN_TOKEN,
        "--history",
        history.to_str().unwrap(),
    ]);
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(2), "{said}");
    assert!(said.contains("is --url the server the bench drove?"), "{said}");
    assert!(
        wrong.stdout.is_empty(),
        "no violations listed: {}",
        String::from_utf8_lossy(&wrong.stdout)
    );

    // Claim one answered command was told something else: a lost or altered write.
    let text = std::fs::read_to_string(&history).unwrap();
    let tampered: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == text.lines().position(|l| l.contains("\"enrolled\"")).unwrap() {
                l.replacen("\"enrolled\"", "\"full\"", 1)
            } else {
                l.to_owned()
            }
        })
        .collect();
    let bad = dir.path().join("tampered.jsonl");
    std::fs::write(&bad, tampered.join("\n")).unwrap();
    let check = murphy(&[
        "check",
        "--url",
        &url,
        "--admin-token",
        ADMIN_TOKEN,
        "--history",
        bad.to_str().unwrap(),
    ]);
    assert!(
        !check.status.success(),
        "a tampered history must fail: {}",
        String::from_utf8_lossy(&check.stdout)
    );
}
