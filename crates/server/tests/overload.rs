//! Overload is shed, not queued without bound: with a one-request queue, a burst of
//! concurrent writes gets some `503` answers with `Retry-After`, and exactly the writes
//! that were answered `200` are in the log.

mod common;

use common::TestServer;
use murphy_client::Error;
use murphy_core::Command;
use murphy_server::Limits;

const BURST_REQUESTS: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_answers_503_with_retry_after_and_applies_nothing() {
    let limits = Limits {
        queue_requests_max: 1,
        batch_commands_max: 1,
        // The burst opens a connection per request, all the student's: not about shares.
        connections_per_student_max: BURST_REQUESTS,
        ..Limits::default()
    };
    let server = TestServer::start_with(limits).await;
    let joe = server.student("s1").await;
    let len_before = server.log_len().await;

    let mut burst = Vec::new();
    for _ in 0..BURST_REQUESTS {
        let joe = joe.clone();
        burst.push(tokio::spawn(async move {
            joe.commands(vec![Command::Deposit {
                student: "s1".into(),
                amount_cents: 1,
            }])
            .await
        }));
    }
    let (mut applied, mut shed) = (0, 0);
    for request in burst {
        match request.await.unwrap() {
            Ok(_) => applied += 1,
            Err(Error::Problem {
                status: 503,
                code,
                retry_after_seconds,
                ..
            }) => {
                assert_eq!(code, "overloaded");
                assert!(retry_after_seconds.is_some(), "503 says when to retry");
                shed += 1;
            }
            Err(other) => panic!("unexpected answer: {other}"),
        }
    }
    assert!(
        shed > 0,
        "a burst of {BURST_REQUESTS} into a one-request queue sheds some"
    );
    assert_eq!(applied + shed, BURST_REQUESTS);
    assert_eq!(
        server.log_len().await,
        len_before + applied,
        "exactly the answered writes are logged"
    );
    assert_eq!(joe.student("s1").await.unwrap().balance_cents, applied as i64);
}
