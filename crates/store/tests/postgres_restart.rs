//! PostgreSQL restarted under a writer, on a server of this test's own (restarting the
//! shared one would break the tests beside it): appends fail while it is down, with an
//! error that says so, succeed again once it is back, and nothing acknowledged is lost.

mod conformance;
mod pg;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use conformance::Model;
use murphy_core::{Command as Cmd, LogEntry};
use murphy_store::{Backend, Records, StoreError};
use pg::Leased;

/// The writer gives up on one batch after this long: PostgreSQL is not coming back.
const BATCH_TIME_MAX: Duration = Duration::from_secs(30);

/// A server of its own, stopped when dropped (a failed test included).
struct Server {
    dir: tempfile::TempDir,
    url: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg.sh")
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "scripts/pg.sh start failed: {stderr}");
        let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        Server { dir, url }
    }

    /// `pg_ctl restart -m immediate`: a crash of PostgreSQL, WAL replayed at start.
    fn restart(&self) {
        let status = Command::new("bash")
            .arg(script())
            .args(["restart", self.dir.path().to_str().unwrap(), "immediate"])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// What the writer saw.
#[derive(Default)]
struct Seen {
    acknowledged: Vec<LogEntry>,
    errors: Vec<String>,
    /// Batches acknowledged after the first error.
    acknowledged_after_errors: usize,
}

/// Appends one-deposit batches until `stop`; a batch that fails is sent again until it
/// is acknowledged or the log shows it landed (an append whose commit was in doubt).
fn write_until(backend: &Leased, model: &Model, stop: Instant) -> Seen {
    let mut state = model.state.clone();
    let mut seen = Seen::default();
    while Instant::now() < stop {
        let deposit = Cmd::Deposit {
            student: "p1".into(),
            amount_cents: 1,
        };
        let entries = conformance::model::entries(&mut state, &[deposit], model.at);
        let records = Records {
            entries,
            tokens: Vec::new(),
        };
        let last = records.entries[0].lsn;
        let started = Instant::now();
        loop {
            assert!(started.elapsed() < BATCH_TIME_MAX, "PostgreSQL never came back");
            match backend.append(&records) {
                Ok(()) => {
                    seen.acknowledged.extend(records.entries.iter().cloned());
                    seen.acknowledged_after_errors += usize::from(!seen.errors.is_empty());
                    break;
                }
                Err(e) => {
                    let down = e.is_fault() || matches!(e, StoreError::InDoubt { .. });
                    assert!(down, "not a failure of PostgreSQL being down (lost appends?): {e}");
                    seen.errors.push(e.to_string());
                    std::thread::sleep(Duration::from_millis(20));
                    if backend.0.log_end().is_ok_and(|end| end >= last) {
                        break; // it landed, unacknowledged
                    }
                }
            }
        }
    }
    seen
}

#[test]
fn a_restart_of_postgres_loses_nothing_acknowledged() {
    pg::url(); // the PostgreSQL tests run only where they are set up
    let server = Server::start();
    let backend = Leased(pg::connect(&server.url, "murphy"));
    let model = Model::set_up(&backend);
    let stop = Instant::now() + Duration::from_secs(3);
    let seen = std::thread::scope(|s| {
        let writer = s.spawn(|| write_until(&backend, &model, stop));
        std::thread::sleep(Duration::from_millis(700));
        server.restart();
        writer.join().unwrap()
    });
    eprintln!(
        "{} appends acknowledged ({} after the restart), {} failed: {:?}",
        seen.acknowledged.len(),
        seen.acknowledged_after_errors,
        seen.errors.len(),
        seen.errors.iter().collect::<std::collections::BTreeSet<_>>()
    );
    assert!(!seen.errors.is_empty(), "no append failed: the restart was not seen");
    let unavailable = seen.errors.iter().any(|e| e.contains("PostgreSQL"));
    assert!(unavailable, "no error says PostgreSQL is down: {:?}", seen.errors);
    assert!(
        seen.acknowledged_after_errors > 10,
        "appends did not resume: {:?}",
        seen.errors
    );

    let reopened = pg::connect(&server.url, "murphy");
    let first = seen.acknowledged.first().unwrap().lsn;
    let log = reopened.log(first - 1, u64::MAX).unwrap();
    for entry in &seen.acknowledged {
        let stored = log.iter().find(|e| e.lsn == entry.lsn);
        assert_eq!(stored, Some(entry), "acknowledged lsn {} is lost or changed", entry.lsn);
    }
    murphy_store::verify(&reopened, murphy_core::RulesVersion::LATEST).unwrap();
}
