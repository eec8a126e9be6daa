//! Exactly-once client sessions: a retried request is answered from what was stored and
//! applied once, also after a restart; requests that arrive out of order are held and
//! applied in `seq` order; a gap that never fills is refused with `409`.

mod common;

use std::time::{Duration, Instant};

use common::{TestServer, create_section, enroll};
use murphy_client::Client;
use murphy_core::wire::{CommandsAnswer, CommandsRequest};
use murphy_core::{Command, Outcome};
use murphy_server::Limits;

fn request(client: &str, seq: u64, commands: Vec<Command>) -> CommandsRequest {
    CommandsRequest {
        client: Some(client.into()),
        seq: Some(seq),
        commands,
    }
}

fn deposit(student: &str, cents: i64) -> Command {
    Command::Deposit {
        student: student.into(),
        amount_cents: cents,
    }
}

async fn send(client: &Client, request: &CommandsRequest) -> CommandsAnswer {
    client.send(request).await.expect("an answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_is_answered_again_and_applied_once_even_across_a_restart() {
    let mut server = TestServer::start().await;
    server.setup(vec![create_section("MATH-31A-1", 1, 0)]).await;
    let joe = server.student("s1").await;

    let first = send(&joe, &request("laptop", 1, vec![enroll("s1", "MATH-31A-1")])).await;
    assert_eq!(first.results[0].outcome, Outcome::Enrolled);
    let second = send(&joe, &request("laptop", 2, vec![deposit("s1", 5000)])).await;
    let len = server.log_len().await;

    // The latest request again, and an older one (answered from the log).
    assert_eq!(
        send(&joe, &request("laptop", 2, vec![deposit("s1", 5000)])).await,
        second
    );
    assert_eq!(
        send(&joe, &request("laptop", 1, vec![enroll("s1", "MATH-31A-1")])).await,
        first
    );
    assert_eq!(server.log_len().await, len, "retries apply nothing");
    assert_eq!(joe.student("s1").await.unwrap().balance_cents, 5000);

    server.restart(Limits::default()).await;
    let joe = joe_after_restart(&server, &joe);
    assert_eq!(
        send(&joe, &request("laptop", 2, vec![deposit("s1", 5000)])).await,
        second
    );
    assert_eq!(
        send(&joe, &request("laptop", 1, vec![enroll("s1", "MATH-31A-1")])).await,
        first
    );
    assert_eq!(server.log_len().await, len, "sessions are durable: still applied once");
    let third = send(&joe, &request("laptop", 3, vec![deposit("s1", 1)])).await;
    assert_eq!(
        third.results[0].outcome,
        Outcome::Balance {
            cents: 5001,
            fee_cents: 0
        }
    );
    server.stop().await;
}

/// The same token (tokens are durable) at the restarted server's new address.
fn joe_after_restart(server: &TestServer, before: &Client) -> Client {
    server.client(before.token().expect("the client holds its token"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_arriving_out_of_order_are_applied_in_seq_order() {
    let server = TestServer::start().await;
    let ana = server.student("s2").await;
    send(&ana, &request("phone", 1, vec![deposit("s2", 100)])).await;

    // seq 3 arrives first and is held until seq 2 comes.
    let early = {
        let ana = ana.clone();
        tokio::spawn(async move { send(&ana, &request("phone", 3, vec![deposit("s2", 300)])).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = send(&ana, &request("phone", 2, vec![deposit("s2", 200)])).await;
    let third = early.await.unwrap();
    assert_eq!(
        second.results[0].outcome,
        Outcome::Balance {
            cents: 300,
            fee_cents: 0
        }
    );
    assert_eq!(
        third.results[0].outcome,
        Outcome::Balance {
            cents: 600,
            fee_cents: 0
        }
    );
    assert!(second.results[0].lsn < third.results[0].lsn, "seq order is log order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_that_never_fills_is_held_then_refused_with_409() {
    let server = TestServer::start().await;
    let wei = server.student("s3").await;
    send(&wei, &request("tablet", 1, vec![deposit("s3", 100)])).await;
    let len = server.log_len().await;

    let started = Instant::now();
    let refused = wei
        .send(&request("tablet", 3, vec![deposit("s3", 300)]))
        .await
        .unwrap_err();
    let held = started.elapsed();
    assert_eq!(refused.code(), Some("session_gap"), "{refused}");
    assert!(matches!(refused, murphy_client::Error::Problem { status: 409, .. }));
    assert!(
        held >= Limits::default().session_gap_hold_max,
        "held {held:?} before refusing"
    );
    assert_eq!(server.log_len().await, len, "nothing applied");
    assert_eq!(wei.student("s3").await.unwrap().balance_cents, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_belongs_to_the_student_who_started_it() {
    let server = TestServer::start().await;
    let mei = server.student("s4").await;
    let omar = server.student("s5").await;
    send(&mei, &request("shared-name", 1, vec![deposit("s4", 100)])).await;
    let refused = omar
        .send(&request("shared-name", 1, vec![deposit("s5", 100)]))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, murphy_client::Error::Problem { status: 403, .. }),
        "{refused}"
    );

    // Not even a student whose id is "admin" shares the registrar's sessions.
    server
        .admin
        .send(&request("ops", 1, vec![deposit("s4", 1)]))
        .await
        .unwrap();
    let named_admin = server.student("admin").await;
    let refused = named_admin
        .send(&request("ops", 1, vec![deposit("admin", 1)]))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, murphy_client::Error::Problem { status: 403, .. }),
        "{refused}"
    );
}
