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
    let health = healthz(&server).await;
    assert!(health.starts_with("degraded: writes refused"), "{health}");
    let dir = server.dir.path().to_string_lossy().into_owned();
    assert!(!health.contains(&dir), "no paths for anyone: {health}");
    let for_admin = reqwest::Client::new()
        .get(format!("{}/healthz", server.url()))
        .bearer_auth(common::ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(for_admin.contains(&dir), "the store's words for the admin: {for_admin}");
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

/// Tables that cannot be written (a full disk under the tables, the log still
/// writable): past the lag bound a write is refused at once `storage_unavailable`, not
/// held until it times out; reads go on; stopping finishes within its limit whatever
/// the disk does; the next start replays the log past the tables, and nothing answered
/// is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_that_cannot_be_written_refuse_writes_at_once_and_stopping_is_bounded() {
    const LAG_TIME: Duration = Duration::from_millis(300);
    const SHUTDOWN: Duration = Duration::from_secs(1);
    let limits = Limits {
        materializer_interval: Duration::from_millis(10),
        materializer_lag_time_max: LAG_TIME,
        materializer_shutdown_time_max: SHUTDOWN,
        ..common::functional_limits()
    };
    let mut store = None;
    let mut server = TestServer::start_in(tempfile::tempdir().unwrap(), limits, |dir| {
        let faulty = Arc::new(Faulty::open(dir));
        store = Some(faulty.clone());
        faulty
    })
    .await;
    let store = store.unwrap();
    server.setup(vec![create_section("MATH-1-1", 5, 0)]).await;
    let student = server.student("s1").await;

    store.fail_materialize(Some(SQLITE_FULL));
    let mut answered = 0;
    let started = Instant::now();
    let refused = loop {
        let sent = Instant::now();
        let answer = student.commands(vec![deposit(1)]).await;
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "held {:?}: {answer:?}",
            sent.elapsed()
        );
        match answer {
            Ok(_) => answered += 1,
            Err(e) => break e,
        }
        assert!(started.elapsed() < LAG_TIME * 20, "never refused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(refused.code(), Some("storage_unavailable"), "{refused}");
    assert!(refused.to_string().contains("tables"), "says why: {refused}");
    assert_eq!(
        student.student("s1").await.unwrap().balance_cents,
        answered,
        "reads go on"
    );
    assert!(healthz(&server).await.contains("tables are not being written"));

    let stopping = Instant::now();
    server.stop().await;
    assert!(
        stopping.elapsed() < SHUTDOWN + Duration::from_secs(2),
        "stopping took {:?}",
        stopping.elapsed()
    );
    server.restart(Limits::default()).await;
    let student = server.client(student.token().unwrap());
    assert_eq!(
        student.student("s1").await.unwrap().balance_cents,
        answered,
        "nothing answered lost"
    );
    student.commands(vec![deposit(1)]).await.unwrap();
}
