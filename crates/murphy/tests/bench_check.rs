//! `murphy bench` then `murphy check`, as a user runs them: the real binary serves, a
//! short registration-day run (with retries and sessions) records its history, and the
//! checker finds that history and the server's log clean. Then the same history with
//! one answer tampered with is caught.

use std::io::{BufRead, BufReader};
use std::process::{Command as Process, Stdio};

const ADMIN_TOKEN: &str = "bench-check-admin-token";

fn murphy(args: &[&str]) -> std::process::Output {
    Process::new(env!("CARGO_BIN_EXE_murphy"))
        .args(args)
        .output()
        .expect("murphy runs")
}

/// Kills the server when the test ends, passed or not.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_registration_day_run_checks_clean_and_a_tampered_history_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server(
        Process::new(env!("CARGO_BIN_EXE_murphy"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--admin-token",
                ADMIN_TOKEN,
                "--data-dir",
            ])
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(server.0.stdout.take().unwrap());
    let mut line = String::new();
    let url = loop {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "murphy exited before serving");
        if let Some(rest) = line.strip_prefix("murphy serving ") {
            break rest.split_whitespace().next().unwrap().trim_end_matches('/').to_owned();
        }
    };
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
    assert!(out.contains("errors: none"), "{out}");
    for outcome in ["enrolled", "full", "not_open"] {
        assert!(out.contains(outcome), "a registration day sees {outcome}: {out}");
    }
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(json["writes"]["requests"].as_u64().unwrap() > 100, "{json}");
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
