//! The materializer's lag is bounded: while it cannot write the tables (held here by
//! a gate around the real SQLite backend), appends go on until the tables trail the log
//! by `materializer_lag_commands_max`; then the answer path waits for it instead of the
//! lag growing. Released, it catches up and the waiting write is answered.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::faulty::Faulty;
use common::{TestServer, create_section, create_student};
use murphy_core::Command;
use murphy_server::Limits;

async fn lag_gauge(url: &str) -> u64 {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("murphy_materializer_lag_commands "))
        .expect("the lag gauge");
    line.parse().unwrap()
}

fn deposit() -> Vec<Command> {
    vec![Command::Deposit {
        student: "s1".into(),
        amount_cents: 1,
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_its_lag_bound_the_answer_path_waits_for_the_materializer() {
    const LAG_MAX: u64 = 20;
    let limits = Limits {
        materializer_lag_commands_max: LAG_MAX,
        materializer_interval: Duration::from_millis(10),
        ..Limits::default()
    };
    let mut store = None;
    let server = TestServer::start_in(tempfile::tempdir().unwrap(), limits, |dir| {
        let faulty = Arc::new(Faulty::open(dir));
        faulty.materializer_open(false);
        store = Some(faulty.clone());
        faulty
    })
    .await;
    let store = store.unwrap();
    let (url, admin) = (server.url(), server.admin.clone());
    admin
        .commands(vec![create_section("MATH-1-1", 5, 0), create_student("s1")])
        .await
        .unwrap();

    // One write at a time, each appended alone: every one is answered until the tables
    // trail by more than LAG_MAX; the next waits.
    let mut answered = 0;
    let waiting = loop {
        let write = tokio::spawn({
            let admin = admin.clone();
            async move { admin.commands(deposit()).await }
        });
        match tokio::time::timeout(Duration::from_millis(500), async {
            while !write.is_finished() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        {
            Ok(()) => {
                write.await.unwrap().unwrap();
                answered += 1;
                assert!(answered < 100, "the lag is not bounded");
            }
            Err(_) => break write,
        }
    };
    let lag = lag_gauge(&url).await;
    assert_eq!(lag, LAG_MAX + 1, "the tables trail by the bound and one append");
    assert_eq!(answered, LAG_MAX - 1, "two setup commands, then one deposit per append");

    store.materializer_open(true);
    let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiting write is answered once the materializer catches up")
        .unwrap()
        .unwrap();
    assert_eq!(answer.results[0].lsn, LAG_MAX + 2);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while lag_gauge(&url).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the materializer did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A batch that changes no row (a logged refusal) still reaches the tables. Before, it
/// was never handed to the materializer: its entry stayed in the lag, aged past
/// `materializer_lag_time_max`, and the next write waited for it forever (and so did
/// shutdown).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_changes_no_row_does_not_hold_up_the_next_write() {
    const LAG_TIME_MAX: Duration = Duration::from_millis(200);
    let limits = Limits {
        materializer_lag_time_max: LAG_TIME_MAX,
        materializer_interval: Duration::from_millis(10),
        ..common::functional_limits()
    };
    let server = common::TestServer::start_with(limits).await;
    let admin = server.admin.clone();
    admin
        .commands(vec![create_section("MATH-1-1", 5, 0), create_student("s1")])
        .await
        .unwrap();
    let not_enrolled = admin
        .commands(vec![Command::Drop {
            student: "s1".into(),
            section: "MATH-1-1".into(),
        }])
        .await
        .unwrap();
    assert!(
        !matches!(not_enrolled.results[0].outcome, murphy_core::Outcome::Dropped { .. }),
        "a refusal, logged: {:?}",
        not_enrolled.results[0].outcome
    );
    tokio::time::sleep(3 * LAG_TIME_MAX).await;
    let next = tokio::time::timeout(Duration::from_secs(10), admin.commands(deposit())).await;
    if next.is_err() {
        // Stopping a wedged server would wait for its committer forever: fail now.
        std::mem::forget(server);
        panic!("the next write was not answered within 10 s");
    }
    next.unwrap().unwrap();
}
