//! A data directory written by murphy's first release, of rules version 1, before rules
//! versions were recorded (`fixtures/release-1`, made by its `make.sh` with that
//! release's binary: a short registration day whose sections are all one course, and
//! students f1 in two sections of MATH-1, f3 holding one and waiting for another). This
//! build starts on it, `murphy verify` and `murphy check` pass, and what version 2 would
//! refuse stays as version 1 decided it, before and after the upgrade is finalized. A
//! build that knows only version 1 runs on it until then, and refuses to start after.

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{Murphy, murphy};
use murphy_client::Client;
use murphy_core::wire::{ClusterView, StudentView};
use murphy_core::{Command as Cmd, Outcome, RulesVersion};

/// The fixture's admin token (given at its making; none is stored).
const ADMIN: &str = "fixture-admin";
/// As the first release would: this build, knowing rules up to version 1.
const OLD: &[&str] = &["--rules-version-max", "1"];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/release-1")
}

/// A copy of the fixture's data directory, to be written to.
fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["log.sqlite3", "tables.sqlite3"] {
        std::fs::copy(fixture().join(file), dir.path().join(file)).unwrap();
    }
    dir
}

fn verify(dir: &Path, flags: &[&str]) -> Output {
    let mut args = vec!["verify", "--data-dir", dir.to_str().unwrap()];
    args.extend(flags);
    murphy(&args)
}

fn enroll(student: &str, section: &str) -> Cmd {
    Cmd::enroll(student, section, false)
}

async fn outcome(admin: &Client, command: Cmd) -> Outcome {
    admin.commands(vec![command]).await.unwrap().results.remove(0).outcome
}

async fn enrolled(server: &Murphy, student: &str) -> Vec<String> {
    let view: StudentView = reqwest::Client::new()
        .get(format!("{}/api/v1/students/{student}", server.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    view.enrolled
}

async fn rules(server: &Murphy) -> RulesVersion {
    let view: ClusterView = reqwest::get(format!("{}/api/v1/cluster", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    view.rules
}

fn stop(mut server: Murphy) {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert!(server.child.wait().unwrap().success(), "a clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn this_build_serves_the_first_release_log_and_upgrades_it() {
    let dir = data_dir();
    let verified = verify(dir.path(), &[]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );

    let server = Murphy::serve(dir.path(), ADMIN);
    assert_eq!(
        rules(&server).await,
        RulesVersion::V1,
        "the log's version: nothing recorded is 1"
    );
    let history = fixture().join("history.jsonl");
    let check = murphy(&[
        "check",
        "--url",
        &server.url,
        "--admin-token",
        ADMIN,
        "--history",
        history.to_str().unwrap(),
    ]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    assert_eq!(enrolled(&server, "f1").await, ["MATH-1-1", "MATH-1-2"]);

    // Not finalized: this build decides under version 1, as the log is.
    let admin = Client::new(server.url.clone(), Some(ADMIN.into()));
    assert_eq!(outcome(&admin, enroll("f2", "MATH-1-3")).await, Outcome::Enrolled);
    // To version 2, the one whose rule this data directory shows (`--to`; the newest by
    // default).
    let upgraded = murphy(&["admin", "upgrade", "--to", "2", "--url", &server.url, "--token", ADMIN]);
    assert!(
        upgraded.status.success(),
        "{}",
        String::from_utf8_lossy(&upgraded.stderr)
    );
    assert_eq!(rules(&server).await, RulesVersion::V2);

    // Version 2 refuses a third section of MATH-1; the two version 1 gave stay.
    assert_eq!(
        outcome(&admin, enroll("f1", "MATH-1-3")).await,
        Outcome::DuplicateCourse {
            course: "MATH-1".into(),
            held: "MATH-1-1".into()
        }
    );
    assert_eq!(enrolled(&server, "f1").await, ["MATH-1-1", "MATH-1-2"]);
    // f3 holds MATH-1-2 and waits for MATH-1-1: a seat there skips f3 now.
    let dropped = admin
        .commands(vec![Cmd::Drop {
            student: "f2".into(),
            section: "MATH-1-1".into(),
        }])
        .await
        .unwrap();
    let lsn = dropped.results[0].lsn;
    let log = admin.log(lsn - 1, 1).await.unwrap();
    let skipped = &log[0].effects.skipped;
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(
        (skipped[0].student.as_str(), &skipped[0].reason),
        (
            "f3",
            &Outcome::DuplicateCourse {
                course: "MATH-1".into(),
                held: "MATH-1-2".into()
            }
        )
    );
    stop(server);

    let verified = verify(dir.path(), &[]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    // After the upgrade, a build that knows only version 1 refuses the log, in a line.
    let refused = verify(dir.path(), OLD);
    assert_eq!(refused.status.code(), Some(3));
    let old = Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-token", ADMIN, "--data-dir"])
        .arg(dir.path())
        .args(OLD)
        .output()
        .unwrap();
    assert_eq!(old.status.code(), Some(3), "refused to start");
    let stderr = String::from_utf8_lossy(&old.stderr);
    let said: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let upgraded = RulesVersion::V2;
    assert_eq!(
        said,
        [format!(
            "error: the log is at rules version {upgraded}, but this murphy knows rules up to version 1: run a \
             murphy that knows version {upgraded} (an upgrade, once finalized, cannot be rolled back)"
        )]
    );
}

/// Before the upgrade is finalized, the log may go back and forth between this build
/// and one that knows only version 1: each replays what the other wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_finalizing_a_build_that_knows_only_version_1_runs_on_it() {
    let dir = data_dir();
    let new = Murphy::serve(dir.path(), ADMIN);
    let admin = Client::new(new.url.clone(), Some(ADMIN.into()));
    assert_eq!(outcome(&admin, enroll("f2", "MATH-1-3")).await, Outcome::Enrolled);
    stop(new);

    let old = Murphy::serve_with(dir.path(), ADMIN, OLD);
    assert_eq!(rules(&old).await, RulesVersion::V1);
    let admin = Client::new(old.url.clone(), Some(ADMIN.into()));
    assert_eq!(enrolled(&old, "f2").await, ["MATH-1-1", "MATH-1-3"]);
    // It cannot be upgraded by a node that does not know the version.
    let refused = admin
        .commands(vec![Cmd::UpgradeRules {
            rules: RulesVersion::V2,
        }])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Some("upgrade_refused"), "{refused}");
    assert_eq!(outcome(&admin, enroll("f1", "MATH-1-3")).await, Outcome::Enrolled);
    stop(old);

    for flags in [OLD, &[]] {
        let verified = verify(dir.path(), flags);
        assert!(
            verified.status.success(),
            "{}",
            String::from_utf8_lossy(&verified.stderr)
        );
    }
}
