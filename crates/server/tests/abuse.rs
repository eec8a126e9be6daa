//! The server tried as an attacker would, through the real socket: one student opening
//! sessions without end fills only their own share; a flood of wrong tokens is counted
//! per address and slowed; a body sent slowly is cut off with `408`; nobody without a
//! token can hold a request with `Murphy-Min-Version`.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use common::{TestServer, create_section, enroll, functional_limits};
use murphy_core::Command;
use murphy_core::wire::CommandsRequest;
use murphy_server::Limits;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn deposit(student: &str) -> Command {
    Command::Deposit {
        student: student.into(),
        amount_cents: 1,
    }
}

fn request(client: &str, seq: u64, commands: Vec<Command>) -> CommandsRequest {
    CommandsRequest {
        client: Some(client.into()),
        seq: Some(seq),
        commands,
    }
}

/// One student opens sessions far past the server's whole table; every other student
/// still opens theirs, and the flooder's own oldest are recycled (their retries are
/// refused, never applied twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_flood_by_one_student_fills_only_their_share() {
    const SESSIONS_MAX: usize = 40;
    const PER_OWNER: usize = 4;
    let server = TestServer::start_with(Limits {
        sessions_max: SESSIONS_MAX,
        sessions_per_owner_max: PER_OWNER,
        ..functional_limits()
    })
    .await;
    server.setup(vec![create_section("MATH-1-1", 5, 0)]).await;
    let mallory = server.student("mallory").await;
    let alice = server.student("alice").await;
    for i in 0..(SESSIONS_MAX * 3) {
        let answer = mallory
            .send(&request(&format!("flood-{i}"), 1, vec![deposit("mallory")]))
            .await;
        answer.unwrap_or_else(|e| panic!("the flooder's own session {i}: {e}"));
    }
    // Everyone else: sessions open as before.
    let answer = alice
        .send(&request("alice-laptop", 1, vec![enroll("alice", "MATH-1-1")]))
        .await;
    assert!(answer.is_ok(), "another student's session: {answer:?}");
    let admin = server
        .admin
        .send(&request("registrar", 1, vec![deposit("alice")]))
        .await;
    assert!(admin.is_ok(), "the registrar's session: {admin:?}");
    // The flooder's newest sessions live; the one before them was recycled: its retry
    // is refused, not applied again.
    let newest = format!("flood-{}", SESSIONS_MAX * 3 - 1);
    assert!(
        mallory
            .send(&request(&newest, 1, vec![deposit("mallory")]))
            .await
            .is_ok()
    );
    let last_recycled = format!("flood-{}", SESSIONS_MAX * 3 - 1 - PER_OWNER);
    let recycled = mallory
        .send(&request(&last_recycled, 1, vec![deposit("mallory")]))
        .await;
    let code = recycled.as_ref().err().and_then(|e| e.code().map(str::to_owned));
    assert_eq!(code.as_deref(), Some("session_expired"), "{recycled:?}");
    let balance = mallory.student("mallory").await.unwrap().balance_cents;
    assert_eq!(balance, (SESSIONS_MAX * 3) as i64, "each request applied once");
}

/// A client at `ip` (any of 127.0.0.0/8 reaches the test server).
fn http_from(ip: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(ip))
        .build()
        .unwrap()
}

async fn metric(url: &str, line_start: &str) -> Option<f64> {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

/// Wrong tokens are counted per address, and past the rate every attempt from that
/// address is refused `429` before its token is looked at; another address signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_are_counted_per_address_and_slowed_past_the_rate() {
    const PER_MINUTE: u32 = 20;
    let server = TestServer::start_with(Limits {
        auth_failures_per_address_per_minute_max: PER_MINUTE,
        ..functional_limits()
    })
    .await;
    let _ = server.student("s1").await;
    let token = server.admin.create_token("s1").await.unwrap().token;
    let attacker = http_from(Ipv4Addr::new(127, 0, 0, 1));
    let me = |http: &reqwest::Client, token: &str| {
        http.get(format!("{}/api/v1/me", server.url()))
            .bearer_auth(token)
            .send()
    };
    let mut statuses = Vec::new();
    for i in 0..200 {
        statuses.push(me(&attacker, &format!("guess-{i}")).await.unwrap().status());
    }
    let unauthorized = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let slowed = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(unauthorized + slowed, 200, "{statuses:?}");
    assert!(
        (PER_MINUTE as usize..PER_MINUTE as usize + 5).contains(&unauthorized),
        "about {PER_MINUTE} tried, the rest refused unchecked: {unauthorized}"
    );
    // Past the rate even the right token is not checked from there: no oracle.
    let refused = me(&attacker, &token).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "too_many_auth_failures", "{problem}");
    // Another address is not slowed.
    let elsewhere = me(&http_from(Ipv4Addr::new(127, 0, 0, 2)), &token).await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::OK);
    let url = server.url();
    let counted = metric(&url, "murphy_auth_failures_by_address_total{address=\"127.0.0.1\"}").await;
    assert_eq!(counted, Some(unauthorized as f64), "counted per address");
    assert_eq!(
        metric(&url, "murphy_auth_failures_refused_total").await,
        Some(slowed as f64 + 1.0)
    );
}

/// A body sent slower than the limit gets `408` (not a `503` that says retry), and the
/// connection is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_slowly_gets_408() {
    const BODY_TIME: Duration = Duration::from_millis(300);
    let server = TestServer::start_with(Limits {
        request_body_time_max: BODY_TIME,
        ..functional_limits()
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/commands HTTP/1.1\r\nhost: murphy\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: 200\r\n\r\n{{\"commands\":",
        common::ADMIN_TOKEN
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("answered and closed in time")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
    assert!(started.elapsed() >= BODY_TIME, "{:?}", started.elapsed());
    assert_eq!(server.log_len().await, 0, "nothing applied");
}

/// `Murphy-Min-Version` holds a request only for a caller with a valid token; anyone
/// else is answered at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_authenticated_caller_waits_for_a_min_version() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let far = u64::MAX.to_string();
    for (path, token) in [
        ("/healthz", None),
        ("/api/v1/sections", None),
        ("/api/v1/sections", Some("wrong")),
    ] {
        let mut get = http
            .get(format!("{}{path}", server.url()))
            .header("Murphy-Min-Version", &far);
        if let Some(token) = token {
            get = get.bearer_auth(token);
        }
        let started = Instant::now();
        let answer = get.send().await.unwrap();
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{path} held {:?}",
            started.elapsed()
        );
        assert_ne!(answer.status(), StatusCode::SERVICE_UNAVAILABLE, "{path}");
    }
    let started = Instant::now();
    let behind = http
        .get(format!("{}/api/v1/sections", server.url()))
        .bearer_auth(common::ADMIN_TOKEN)
        .header("Murphy-Min-Version", &far)
        .send()
        .await
        .unwrap();
    assert_eq!(behind.status(), StatusCode::SERVICE_UNAVAILABLE);
    let waited = started.elapsed();
    let bound = Limits::default().min_version_wait_time_max;
    assert!(waited >= bound && waited < bound * 3, "{waited:?}");
}
