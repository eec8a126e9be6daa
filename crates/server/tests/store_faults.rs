//! A store fault is not a crash. While appends fail as a full disk does, writes are
//! answered `503 storage_unavailable` and nothing of them is applied, reads go on from
//! the last durable state, `/healthz` says degraded; when the store works again, writes
//! resume by themselves and a session's retry applies once. A failed sync leaves the
//! store in doubt: writes stop until a restart, reads go on.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::faulty::Faulty;
use common::{TestServer, create_section, enroll};
use murphy_client::Client;
use murphy_core::wire::CommandsRequest;
use murphy_core::{Command, Outcome};
use murphy_server::Limits;
use murphy_store::{Sqlite, verify};
use rusqlite::ffi::{SQLITE_FULL, SQLITE_IOERR_FSYNC};

fn deposit(cents: i64) -> Command {
    Command::Deposit {
        student: "s1".into(),
        amount_cents: cents,
    }
}

fn session(seq: u64, commands: Vec<Command>) -> CommandsRequest {
    CommandsRequest {
        client: Some("laptop".into()),
        seq: Some(seq),
        commands,
    }
}

async fn healthz(server: &TestServer) -> String {
    reqwest::get(format!("{}/healthz", server.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn start() -> (TestServer, Arc<Faulty>, Client) {
    let mut store = None;
    let server = TestServer::start_in(tempfile::tempdir().unwrap(), Limits::default(), |dir| {
        let faulty = Arc::new(Faulty::open(dir));
        store = Some(faulty.clone());
        faulty
    })
    .await;
    server.setup(vec![create_section("MATH-1-1", 5, 0)]).await;
    let student = server.student("s1").await;
    (server, store.unwrap(), student)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_keeps_reads_and_resumes_by_itself() {
    let (mut server, store, student) = start().await;
    let first = student.send(&session(1, vec![deposit(100)])).await.unwrap();
    let log = server.log_len().await;

    store.fail_appends(Some(SQLITE_FULL));
    for _attempt in 0..3 {
        let refused = student.send(&session(2, vec![deposit(1)])).await.unwrap_err();
        assert_eq!(refused.code(), Some("storage_unavailable"), "{refused}");
        assert!(
            refused.to_string().contains("nothing of this request was applied"),
            "{refused}"
        );
    }
    let refused = student.commands(vec![enroll("s1", "MATH-1-1")]).await.unwrap_err();
    assert_eq!(refused.code(), Some("storage_unavailable"), "{refused}");
    // Reads go on, from the last durable state; the retry of an answered request too.
    assert_eq!(student.student("s1").await.unwrap().balance_cents, 100);
    assert_eq!(student.send(&session(1, vec![deposit(100)])).await.unwrap(), first);
    assert!(healthz(&server).await.starts_with("degraded: writes refused"));
    assert_eq!(server.log_len().await, log, "nothing reached the log");

    store.fail_appends(None);
    let resumed = Instant::now();
    let second = loop {
        match student.send(&session(2, vec![deposit(1)])).await {
            Ok(answer) => break answer,
            Err(e) => assert_eq!(e.code(), Some("storage_unavailable"), "{e}"),
        }
        assert!(resumed.elapsed() < Duration::from_secs(10), "writes did not resume");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        second.results[0].outcome,
        Outcome::Balance {
            cents: 101,
            fee_cents: 0
        },
        "seq 2 applied once, on the durable state"
    );
    assert_eq!(student.send(&session(2, vec![deposit(1)])).await.unwrap(), second);
    assert_eq!(healthz(&server).await, "ok");
    assert_eq!(server.log_len().await, log + 1);

    server.stop().await;
    let verified = verify(
        &Sqlite::open(server.dir.path()).unwrap(),
        murphy_core::RulesVersion::LATEST,
    )
    .unwrap();
    assert_eq!(verified.log_lsn as usize, log + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sync_stops_writes_until_a_restart() {
    let (mut server, store, student) = start().await;
    student.commands(vec![deposit(100)]).await.unwrap();

    store.fail_appends(Some(SQLITE_IOERR_FSYNC));
    let refused = student.commands(vec![deposit(1)]).await.unwrap_err();
    assert_eq!(refused.code(), Some("storage_failed"), "{refused}");
    store.fail_appends(None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = student.commands(vec![deposit(1)]).await.unwrap_err();
    assert_eq!(
        refused.code(),
        Some("storage_failed"),
        "in doubt: never silently goes on"
    );
    assert_eq!(student.student("s1").await.unwrap().balance_cents, 100, "reads go on");
    assert!(healthz(&server).await.starts_with("degraded: writes stopped"));

    let ended = server.stop_result().await.unwrap_err();
    assert!(ended.contains("1034") || ended.contains("disk I/O"), "{ended}");
    server.restart(Limits::default()).await;
    let student = server.client(student.token().unwrap());
    let answer = student.commands(vec![deposit(1)]).await.unwrap();
    assert_eq!(
        answer.results[0].outcome,
        Outcome::Balance {
            cents: 101,
            fee_cents: 0
        }
    );
}
