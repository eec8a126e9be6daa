//! A cluster of real `murphy serve` processes over a real PostgreSQL: writes through any
//! node and reads of one's own writes on a secondary; failover under load (kill -9 of
//! the primary, several rounds) with nothing answered lost and `murphy check` clean; the
//! race for the last seat across a failover; a paused primary fenced out; PostgreSQL
//! restarted under writes (`pg_restart.rs`); the database restored to an older point
//! (`restored.rs`); a rolling upgrade of the rules under load (`upgrade.rs`).

#[path = "../common/mod.rs"]
mod common;
mod harness;
mod operator;
mod pg_restart;
mod restored;
mod upgrade;

use std::time::{Duration, Instant};

use harness::{ADMIN_TOKEN, Cluster, LEASE_TIME_MS, view};
use murphy_client::Client;
use murphy_core::wire::SectionsAnswer;
use murphy_core::{Command, Outcome};
use reqwest::StatusCode;

fn deposit(student: &str, cents: i64) -> Command {
    Command::Deposit {
        student: student.into(),
        amount_cents: cents,
    }
}

fn create_student(id: &str) -> Command {
    Command::create_student(id, &format!("Student {id}"), 20)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_node_takes_writes_and_a_secondary_reads_your_writes() {
    let cluster = Cluster::start(3).await;
    let primary = cluster.primary(Duration::from_secs(5)).await;
    let (a, b) = {
        let others: Vec<usize> = (0..3).filter(|&i| i != primary).collect();
        (others[0], others[1])
    };
    // Through a secondary, passed on to the primary.
    let admin = cluster.admin(a);
    admin.commands(vec![create_student("s1")]).await.unwrap();
    let token = admin.create_token("s1").await.unwrap().token;
    let joe = Client::new(cluster.nodes[a].url.clone(), Some(token.clone()));
    let written = joe.commands(vec![deposit("s1", 500)]).await.unwrap();
    assert_eq!(
        written.results[0].outcome,
        Outcome::Balance {
            cents: 500,
            fee_cents: 0
        }
    );
    let lsn = written.results[0].lsn;

    // The other secondary, asked for that version, answers with the write in it.
    let http = reqwest::Client::new();
    let read = http
        .get(format!("{}/api/v1/students/s1", cluster.nodes[b].url))
        .bearer_auth(&token)
        .header("Murphy-Min-Version", lsn.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let etag = read.headers()["etag"].to_str().unwrap().to_owned();
    let student: serde_json::Value = read.json().await.unwrap();
    assert_eq!(student["balance_cents"], 500, "read-your-writes on a secondary");
    let on_primary = http
        .get(format!("{}/api/v1/students/s1", cluster.nodes[primary].url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        on_primary.headers()["etag"],
        etag.as_str(),
        "the same ETag on every node"
    );

    // A version no node has reached: 503, said so.
    let behind = http
        .get(format!("{}/api/v1/students/s1", cluster.nodes[b].url))
        .bearer_auth(&token)
        .header("Murphy-Min-Version", (lsn + 1000).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(behind.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(behind.headers().contains_key("retry-after"));

    let views = futures_views(&cluster).await;
    let roles: Vec<&str> = views.iter().map(|v| v.role.as_str()).collect();
    assert_eq!(roles.iter().filter(|r| **r == "primary").count(), 1, "{roles:?}");
    assert_eq!(roles.iter().filter(|r| **r == "secondary").count(), 2, "{roles:?}");
    assert!(views.iter().all(|v| v.epoch == views[0].epoch), "one epoch: {views:?}");

    // The secondary timed the appends it followed (the deposit at least) from their
    // commit to their publication there: each within a second on an idle cluster.
    let lag = replication_lag(&http, &cluster.nodes[b].url, 1).await;
    assert!(
        lag.within_1_s == lag.appends,
        "appends published over a second late: {lag:?}"
    );
}

#[derive(Debug)]
struct Lag {
    appends: u64,
    within_1_s: u64,
}

/// A node's `murphy_replication_lag_seconds` counts, once it has at least `appends`
/// (its follower records a commit just after publishing it).
async fn replication_lag(http: &reqwest::Client, url: &str, appends: u64) -> Lag {
    let count = |text: &str, series: &str| -> u64 {
        let line = text.lines().find(|l| l.starts_with(series));
        line.and_then(|l| l.rsplit(' ').next()?.parse().ok()).unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = http
            .get(format!("{url}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let lag = Lag {
            appends: count(&text, "murphy_replication_lag_seconds_count "),
            within_1_s: count(&text, "murphy_replication_lag_seconds_bucket{le=\"1\"} "),
        };
        if lag.appends >= appends || Instant::now() > deadline {
            assert!(
                lag.appends >= appends,
                "the secondary timed fewer appends than it published: {lag:?}"
            );
            return lag;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn futures_views(cluster: &Cluster) -> Vec<murphy_core::wire::ClusterView> {
    let mut views = Vec::new();
    for node in &cluster.nodes {
        views.push(view(&node.url).await.expect("every node answers"));
    }
    views
}

/// Writes through every node while the primary is killed at random moments: each time
/// a secondary serves writes within the lease time and a second; at the end every
/// answered write is in the log with its outcome and `murphy check` finds the clients'
/// history clean (lost writes, real-time order, sessions).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_under_load_loses_no_answered_write() {
    const ROUNDS: usize = 3;
    let mut cluster = Cluster::start(3).await;
    let probe_student = "probe";
    let p = cluster.primary(Duration::from_secs(5)).await;
    cluster
        .admin(p)
        .commands(vec![create_student(probe_student)])
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let bench = std::process::Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(["bench", "--url", &cluster.urls(), "--admin-token", ADMIN_TOKEN])
        .args([
            "--scenario",
            "registration-day",
            "--connections",
            "24",
            "--students",
            "240",
        ])
        .args([
            "--sections",
            "12",
            "--duration",
            "14",
            "--opens-after-ms",
            "200",
            "--timeout-ms",
            "3000",
        ])
        .arg("--history")
        .arg(&history)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut rng = 0x5eed_u64 ^ u64::from(std::process::id());
    let mut failovers = Vec::new();
    for _ in 0..ROUNDS {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        tokio::time::sleep(Duration::from_millis(2000 + (rng >> 33) % 1500)).await;
        let primary = cluster.primary(Duration::from_secs(5)).await;
        cluster.signal(primary, "KILL");
        let killed = Instant::now();
        let took = first_write_after(&cluster, probe_student).await;
        failovers.push(took);
        assert!(
            took <= Duration::from_millis(LEASE_TIME_MS) + Duration::from_secs(1),
            "writes resumed {took:?} after the kill"
        );
        assert!(killed.elapsed() < Duration::from_secs(10));
        cluster.restart(primary);
    }
    println!("failover, kill -9 to the first write answered: {failovers:?}");
    let bench = tokio::task::spawn_blocking(move || bench.wait_with_output().unwrap())
        .await
        .unwrap();
    let report = String::from_utf8_lossy(&bench.stdout);
    println!("{report}");

    let any = cluster.primary(Duration::from_secs(5)).await;
    assert_history_clean(&cluster.nodes[any].url, &history);
    let answered = std::fs::read_to_string(&history).unwrap().lines().count();
    assert!(
        answered > 1000,
        "the history holds {answered} requests: the load did not run"
    );
}

/// `murphy check` of the clients' `history` against the log that `url` serves: lost
/// writes, real-time order, sessions, all clean.
fn assert_history_clean(url: &str, history: &std::path::Path) {
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(["check", "--url", url, "--admin-token", ADMIN_TOKEN, "--history"])
        .arg(history)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "murphy check: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

/// The time until a write is answered by a live node (the new primary, or passed on to
/// it), trying every live node in turn.
async fn first_write_after(cluster: &Cluster, student: &str) -> Duration {
    let started = Instant::now();
    loop {
        for i in 0..cluster.nodes.len() {
            if !cluster.alive(i) {
                continue;
            }
            let admin = cluster.admin(i);
            let attempt = tokio::time::timeout(Duration::from_secs(2), admin.commands(vec![deposit(student, 1)])).await;
            if let Ok(Ok(_)) = attempt {
                return started.elapsed();
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no node took a write after the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The race for the last seats, through every node, across a kill -9 of the primary:
/// the section ends exactly full, never over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_race_for_the_last_seats_ends_at_capacity_across_a_failover() {
    const SEATS: u32 = 40;
    let mut cluster = Cluster::start(3).await;
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let mut bench = std::process::Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(["bench", "--url", &cluster.urls(), "--admin-token", ADMIN_TOKEN])
        .args(["--scenario", "last-seat", "--connections", "64", "--students", "200"])
        .args(["--seats", &SEATS.to_string(), "--duration", "6", "--timeout-ms", "3000"])
        .arg("--history")
        .arg(&history)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let primary = cluster.primary(Duration::from_secs(5)).await;
    cluster.signal(primary, "KILL");
    tokio::task::spawn_blocking(move || bench.wait().unwrap())
        .await
        .unwrap();

    let any = cluster.primary(Duration::from_secs(5)).await;
    let sections: SectionsAnswer = cluster.admin(any).sections().await.unwrap();
    let race = sections
        .sections
        .iter()
        .find(|s| s.id.starts_with("LAST-"))
        .expect("the race's section");
    assert_eq!((race.enrolled, race.capacity), (SEATS, SEATS), "exactly full");
    assert_history_clean(&cluster.nodes[any].url, &history);
}

/// A primary paused past its lease is deposed; resumed, it writes nothing and answers
/// nobody "done": a write that was waiting on it gets a 5xx (or, once it has stepped
/// down, is passed on), and it becomes a secondary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_primary_is_fenced_out_and_steps_down() {
    let mut cluster = Cluster::start(3).await;
    let old = cluster.primary(Duration::from_secs(5)).await;
    cluster.admin(old).commands(vec![create_student("s1")]).await.unwrap();
    cluster.admin(old).commands(vec![deposit("s1", 100)]).await.unwrap();

    cluster.signal(old, "STOP");
    // A write that reaches the paused primary's socket and waits there.
    let stuck = {
        let client = cluster.admin(old);
        tokio::spawn(async move { client.commands(vec![deposit("s1", 7)]).await })
    };
    let paused = Instant::now();
    let new = loop {
        let mut found = None;
        for i in (0..3).filter(|&i| i != old) {
            if view(&cluster.nodes[i].url).await.is_some_and(|v| v.role == "primary") {
                found = Some(i);
            }
        }
        if let Some(i) = found {
            break i;
        }
        assert!(
            paused.elapsed() < Duration::from_secs(10),
            "nobody took over from the paused primary"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("a paused primary deposed after {:?}", paused.elapsed());
    let took_over = cluster.admin(new).commands(vec![deposit("s1", 11)]).await.unwrap();
    assert_eq!(
        took_over.results[0].outcome,
        Outcome::Balance {
            cents: 111,
            fee_cents: 0
        }
    );

    // Paused past the request time limit (10 s): on waking, the held write's timer has
    // long passed, and its answer must still say what happened.
    let limit = Duration::from_secs(10);
    tokio::time::sleep((limit + Duration::from_secs(1)).saturating_sub(paused.elapsed())).await;
    cluster.signal(old, "CONT");
    let stuck = tokio::time::timeout(Duration::from_secs(15), stuck)
        .await
        .unwrap()
        .unwrap();
    let log = cluster.admin(new).full_log().await.unwrap();
    let sevens = log
        .iter()
        .filter(|e| matches!(e.command, Command::Deposit { amount_cents: 7, .. }))
        .count();
    match stuck {
        Ok(answer) => {
            // Passed on to the new primary once the old one stepped down: in the log.
            assert_eq!(sevens, 1, "an answered write is in the log");
            let entry = log.iter().find(|e| e.lsn == answer.results[0].lsn).unwrap();
            assert_eq!(entry.outcome, answer.results[0].outcome);
        }
        Err(e) => {
            // Not a timeout that leaves the client guessing: this node is no longer
            // the primary, or its front door shed the request that waited out the
            // pause in the kernel before murphy read it; either way nothing was applied.
            assert!(matches!(e.code(), Some("not_primary" | "overloaded")), "{e}");
            assert_eq!(sevens, 0, "a refused write is not in the log: {e}");
        }
    }
    let stepped_down = Instant::now();
    while view(&cluster.nodes[old].url)
        .await
        .is_none_or(|v| v.role != "secondary")
    {
        assert!(
            stepped_down.elapsed() < Duration::from_secs(5),
            "the old primary did not step down"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Now a secondary, it passes writes on.
    cluster.admin(old).commands(vec![deposit("s1", 1)]).await.unwrap();
}
