//! Sessions are bounded: one idle past `session_idle_time_max` expires (a retry gets
//! `409 session_expired` and nothing applies), and `session_expired_time_max` later it
//! is forgotten, from memory (`/metrics`) and from the stored sessions table alike.

mod common;

use std::time::Duration;

use common::{TestServer, create_section};
use murphy_core::Command;
use murphy_core::wire::CommandsRequest;
use murphy_server::Limits;
use murphy_store::{Backend, Sqlite};

fn deposit(client: &str, seq: u64) -> CommandsRequest {
    CommandsRequest {
        client: Some(client.into()),
        seq: Some(seq),
        commands: vec![Command::Deposit {
            student: "s1".into(),
            amount_cents: 100,
        }],
    }
}

async fn sessions_gauge(server: &TestServer, state: &str) -> u64 {
    let text = reqwest::get(format!("{}/metrics", server.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("murphy_sessions{{state=\"{state}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .expect("the sessions gauge")
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_expire_then_are_forgotten_in_memory_and_on_disk() {
    let limits = Limits {
        session_idle_time_max: Duration::from_millis(600),
        session_expired_time_max: Duration::from_millis(600),
        materializer_interval: Duration::from_millis(50),
        ..Limits::default()
    };
    let mut server = TestServer::start_with(limits.clone()).await;
    server.setup(vec![create_section("MATH-1-1", 5, 0)]).await;
    let student = server.student("s1").await;
    const SESSIONS: u64 = 40;
    for i in 0..SESSIONS {
        student.send(&deposit(&format!("c{i}"), 1)).await.unwrap();
    }
    assert_eq!(sessions_gauge(&server, "live").await, SESSIONS);
    let balance = student.student("s1").await.unwrap().balance_cents;

    tokio::time::sleep(Duration::from_millis(700)).await;
    // Any request runs a batch, and the batch expires the idle sessions first.
    let refused = student.send(&deposit("c0", 1)).await.unwrap_err();
    assert_eq!(refused.code(), Some("session_expired"), "{refused}");
    let refused = student.send(&deposit("c1", 2)).await.unwrap_err();
    assert_eq!(refused.code(), Some("session_expired"), "{refused}");
    assert_eq!(
        student.student("s1").await.unwrap().balance_cents,
        balance,
        "nothing applied"
    );
    assert_eq!(sessions_gauge(&server, "live").await, 0);
    assert_eq!(sessions_gauge(&server, "expired").await, SESSIONS);

    tokio::time::sleep(Duration::from_millis(700)).await;
    let fresh = student.send(&deposit("fresh", 1)).await.unwrap();
    assert_eq!(sessions_gauge(&server, "expired").await, 0, "forgotten");
    assert_eq!(sessions_gauge(&server, "live").await, 1);
    // A forgotten id is free again: it starts over at seq 1.
    student.send(&deposit("c0", 1)).await.unwrap();

    // The stored table shrank with it: only the two live sessions are left.
    server.stop().await;
    let stored = Sqlite::open(server.dir.path()).unwrap().tables().unwrap().sessions;
    let mut clients: Vec<&str> = stored.iter().map(|s| s.client.as_str()).collect();
    clients.sort();
    assert_eq!(clients, ["c0", "fresh"]);
    server.restart(limits).await;
    let student = server.client(student.token().unwrap());
    let balance = student.student("s1").await.unwrap().balance_cents;
    let again = student.send(&deposit("fresh", 1)).await.unwrap();
    assert_eq!(again, fresh, "a retry after the restart gets the original answer");
    assert_eq!(
        student.student("s1").await.unwrap().balance_cents,
        balance,
        "and applies nothing"
    );
}
