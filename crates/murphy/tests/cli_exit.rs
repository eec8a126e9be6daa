//! How the real `murphy` binary ends: each kind of ending has its own exit status (as
//! `--help` documents), an error is one `error: ...` line and its causes even with
//! `RUST_BACKTRACE=1`, and the server's log has no colour codes when stderr is not a
//! terminal.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{CSV_HEADER, CliServer as Server, both, stderr, stdout};

/// A port nothing listens on: bound, then closed.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn murphy_with(env: &[(&str, &str)], args: &[&str]) -> Output {
    let cache = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_murphy"));
    command.args(args).env("MURPHY_CACHE_DIR", cache.path());
    for var in [
        "MURPHY_URL",
        "MURPHY_TOKEN",
        "MURPHY_STUDENT",
        "RUST_BACKTRACE",
        "RUST_LIB_BACKTRACE",
    ] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied()).output().expect("murphy runs")
}

#[test]
fn an_error_with_rust_backtrace_set_is_a_sentence_and_its_causes() {
    let url = closed_url();
    let out = murphy_with(
        &[("RUST_BACKTRACE", "1"), ("MURPHY_URL", &url), ("MURPHY_TOKEN", "t")],
        &["section", "COMSCI-35L-1"],
    );
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("error: cannot reach murphy at {url}")),
        "{text}"
    );
    assert!(
        text.lines().skip(1).all(|l| l.starts_with("  caused by: ")),
        "only causes follow: {text}"
    );
    assert!(text.contains("Connection refused"), "the cause at the root: {text}");
    for trace in ["backtrace", "Backtrace", "   0: ", "at ./"] {
        assert!(!text.contains(trace), "no backtrace ({trace:?}): {text}");
    }
}

#[test]
fn each_kind_of_ending_has_its_exit_status() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let csv = format!("{CSV_HEADER}MATH-31A-1,Differential Calculus,4,1,0,MWF,09:00,09:50\n");
    assert!(server.import(dir.path(), &csv).status.success());
    let [ada, sam] = &server.students(&["s0001", "s0002"])[..] else {
        panic!("two tokens")
    };

    let done = server.murphy_as(ada, &["enroll", "MATH-31A-1"]);
    assert_eq!(done.status.code(), Some(0), "done: {}", both(&done));

    // Refused: an outcome (the section is full), and a 4xx problem (no such section).
    let full = server.murphy_as(sam, &["enroll", "MATH-31A-1"]);
    assert_eq!(full.status.code(), Some(1), "a refusal: {}", both(&full));
    let unknown = server.murphy_as(sam, &["section", "NOPE-1"]);
    assert_eq!(unknown.status.code(), Some(1), "a 404: {}", both(&unknown));
    assert_eq!(
        stderr(&unknown).lines().next(),
        Some("error: there is no section NOPE-1; `murphy sections` lists them")
    );
    let bad_token = server.murphy_as("mst_not-a-token", &["sections"]);
    assert_eq!(bad_token.status.code(), Some(1), "a 401: {}", both(&bad_token));

    // Usage: clap's own errors, and what murphy cannot do without.
    let unknown_flag = server.murphy_as(ada, &["enroll", "MATH-31A-1", "--wait"]);
    assert_eq!(unknown_flag.status.code(), Some(2), "{}", both(&unknown_flag));
    let no_token = murphy_with(&[("MURPHY_URL", &server.url)], &["schedule"]);
    assert_eq!(no_token.status.code(), Some(2), "{}", both(&no_token));
    assert!(
        stderr(&no_token).starts_with("error: murphy needs your token"),
        "{}",
        both(&no_token)
    );
    let no_file = server.murphy(&["admin", "import", "/nonexistent/catalog.csv"]);
    assert_eq!(no_file.status.code(), Some(2), "{}", both(&no_file));

    // Failed: murphy cannot be reached.
    let down = murphy_with(&[("MURPHY_URL", &closed_url()), ("MURPHY_TOKEN", ada)], &["schedule"]);
    assert_eq!(down.status.code(), Some(3), "{}", both(&down));
}

#[test]
fn the_exit_statuses_are_said_in_full_once_and_pointed_to_from_every_help() {
    for args in [&["--help"][..], &["help", "exit-status"]] {
        let help = murphy_with(&[], args);
        assert!(help.status.success(), "{args:?}: {}", both(&help));
        let text = stdout(&help);
        for line in ["Exit status:", "1  refused", "2  usage", "3  failed"] {
            assert!(text.contains(line), "{args:?} lacks {line:?}: {text}");
        }
    }
    for args in [
        &["enroll", "--help"][..],
        &["admin", "import", "--help"],
        &["bench", "--help"],
    ] {
        let help = murphy_with(&[], args);
        assert!(help.status.success(), "{args:?}: {}", both(&help));
        let text = stdout(&help);
        assert!(!text.contains("Exit status:\n"), "{args:?} repeats the block: {text}");
        assert!(
            text.contains("Exit status: 0 done, 1 refused, 2 usage, 3 failed (`murphy help exit-status`"),
            "{args:?}: {text}"
        );
    }
}

/// A usage error shows the command's usage as its help does, not the flags that were
/// given (by the environment, too) as if they were required.
#[test]
fn a_missing_argument_shows_the_usage_not_the_flags_given() {
    let out = murphy_with(
        &[("MURPHY_URL", "http://127.0.0.1:1"), ("MURPHY_TOKEN", "t")],
        &["enroll", "--waitlist"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(
        both(&out).contains("Usage: murphy enroll [OPTIONS] <ID>\n"),
        "{}",
        both(&out)
    );
}

#[test]
fn the_server_log_has_no_colour_codes_when_stderr_is_not_a_terminal() {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-token", "t", "--data-dir"])
        .arg(data.path())
        .env("RUST_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("murphy starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("murphy serving") {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "murphy exited before serving");
    }
    // It serves; a moment for its signal handler, then ask it to stop: it logs that
    // it is draining.
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: kill(2) on the pid of a child this test spawned and has not reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "murphy did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("shutting down"), "an info line was logged: {log:?}");
    assert!(!log.contains('\u{1b}'), "no escape codes: {log:?}");
}
