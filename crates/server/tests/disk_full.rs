//! A full disk, for real: the data directory on a small tmpfs mounted by the test (it
//! needs root; elsewhere it says so and skips, and `store_faults.rs` covers the same
//! ground with injected faults). Writes fill it until they are refused with
//! `storage_unavailable`; reads keep answering and the process stays up; the tmpfs is
//! grown and writes resume without a restart; every answered write is in the log and
//! the log replays to the tables.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{TestServer, create_section};
use murphy_core::Command;
use murphy_server::Limits;
use murphy_store::{Backend, Sqlite, verify};

/// A tmpfs mounted over a directory, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        let ok = Process::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_owned()))
    }

    fn grow(&self, size: &str) {
        let status = Process::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "remount failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Process::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn deposits(n: usize) -> Vec<Command> {
    (0..n)
        .map(|_| Command::Deposit {
            student: "s1".into(),
            amount_cents: 1,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_then_resumes_when_it_grows() {
    let dir = tempfile::tempdir().unwrap();
    let Some(tmpfs) = Tmpfs::mount(dir.path(), "2M") else {
        eprintln!("skipped: mounting a tmpfs needs root (store_faults.rs injects the same faults)");
        return;
    };
    let mut server = TestServer::start_in(dir, Limits::default(), |dir| Arc::new(Sqlite::open(dir).unwrap())).await;
    server.setup(vec![create_section("MATH-1-1", 5, 0)]).await;
    let student = server.student("s1").await;

    let mut answered = Vec::new();
    let started = Instant::now();
    let refused = loop {
        match student.commands(deposits(100)).await {
            Ok(answer) => answered.extend(answer.results.into_iter().map(|r| (r.lsn, r.outcome))),
            Err(e) => break e,
        }
        assert!(started.elapsed() < Duration::from_secs(60), "2 MiB never filled");
    };
    assert_eq!(refused.code(), Some("storage_unavailable"), "{refused}");
    assert!(refused.to_string().contains("full"), "says the disk is full: {refused}");
    let balance = student.student("s1").await.unwrap().balance_cents;
    assert_eq!(balance, answered.len() as i64, "reads answer, from what was stored");

    tmpfs.grow("64M");
    let grown = Instant::now();
    loop {
        match student.commands(deposits(1)).await {
            Ok(answer) => {
                answered.extend(answer.results.into_iter().map(|r| (r.lsn, r.outcome)));
                break;
            }
            Err(e) => assert_eq!(e.code(), Some("storage_unavailable"), "{e}"),
        }
        assert!(grown.elapsed() < Duration::from_secs(10), "writes did not resume");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(student.student("s1").await.unwrap().balance_cents, balance + 1);

    server.stop().await;
    let store = Sqlite::open(server.dir.path()).unwrap();
    let log = store.log(0, u64::MAX).unwrap();
    for (lsn, outcome) in &answered {
        let entry = log
            .iter()
            .find(|e| e.lsn == *lsn)
            .expect("an answered write is in the log");
        assert_eq!(&entry.outcome, outcome);
    }
    verify(&store, murphy_core::RulesVersion::LATEST).unwrap();
    let mount_point = server.dir.path().to_owned();
    drop(store);
    drop(server);
    drop(tmpfs);
    let _ = std::fs::remove_dir(mount_point);
}

/// A full disk that stays full: every write is answered at once (applied while the log
/// still finds room, else `storage_unavailable`), never held until it times out; and
/// stopping finishes within its limit although the tables can never be written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_stays_full_answers_at_once_and_stopping_finishes() {
    const SHUTDOWN: Duration = Duration::from_secs(2);
    let dir = tempfile::tempdir().unwrap();
    let Some(tmpfs) = Tmpfs::mount(dir.path(), "2M") else {
        eprintln!("skipped: mounting a tmpfs needs root (store_faults.rs injects the same faults)");
        return;
    };
    let limits = Limits {
        materializer_interval: Duration::from_millis(10),
        materializer_lag_time_max: Duration::from_millis(300),
        materializer_shutdown_time_max: SHUTDOWN,
        ..Limits::default()
    };
    let mut server = TestServer::start_in(dir, limits, |dir| Arc::new(Sqlite::open(dir).unwrap())).await;
    server.setup(vec![create_section("MATH-1-1", 5, 0)]).await;
    let student = server.student("s1").await;
    let started = Instant::now();
    let mut refusals = 0;
    while started.elapsed() < Duration::from_secs(8) {
        let sent = Instant::now();
        let answer = student.commands(deposits(20)).await;
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "held {:?}: {answer:?}",
            sent.elapsed()
        );
        if let Err(e) = answer {
            assert_eq!(e.code(), Some("storage_unavailable"), "{e}");
            refusals += 1;
        }
    }
    assert!(refusals > 0, "the disk never filled");
    let stopping = Instant::now();
    let _ = server.stop_result().await;
    assert!(
        stopping.elapsed() < SHUTDOWN + Duration::from_secs(3),
        "stopping took {:?}",
        stopping.elapsed()
    );
    let mount_point = server.dir.path().to_owned();
    drop(server);
    drop(tmpfs);
    let _ = std::fs::remove_dir(mount_point);
}
