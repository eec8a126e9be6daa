//! The front door sheds by the real wait: each request's sojourn, from when its bytes
//! reached the machine, is in `/metrics`; while a queue stands (every request of an
//! interval waited over the target), a write that waited over twice the target is
//! answered `503` from prebuilt bytes before its body is read, while the operator's
//! `/metrics` and `/healthz` are still served.

mod common;

use std::time::Duration;

use common::TestServer;
use murphy_server::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A target no request can meet (a microsecond): every interval sees a standing queue.
fn always_late() -> Limits {
    Limits {
        sojourn_time_target: Duration::from_micros(1),
        shed_interval: Duration::from_millis(20),
        ..Limits::default()
    }
}

/// Reads one answer's head and its body (by `content-length`) off `stream`.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "the answer's head ends");
        answer.push(byte[0]);
    }
    let head = String::from_utf8(answer).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    head + &String::from_utf8(body).unwrap()
}

async fn get(stream: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nhost: murphy\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    read_answer(stream).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_waited_over_the_target_is_shed_before_its_body_is_read() {
    let server = TestServer::start_with(always_late()).await;
    let mut operator = TcpStream::connect(server.addr).await.unwrap();
    // Requests over a few intervals: each waited longer than a microsecond.
    for _ in 0..10 {
        assert!(get(&mut operator, "/healthz").await.starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // The head of a write, and never its body.
    let mut writer = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/commands HTTP/1.1\r\nhost: murphy\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n",
        common::ADMIN_TOKEN
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(2), read_answer(&mut writer))
        .await
        .expect("answered without its body");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\"code\":\"overloaded\""), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("retry-after: "), "{answer}");

    // A read is shed too (it waited over eight microseconds); the operator's are not.
    let read = get(&mut operator, "/api/v1/sections").await;
    assert!(read.starts_with("HTTP/1.1 503"), "{read}");
    let metrics = get(&mut operator, "/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    let shed: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("murphy_shed_total{reason=\"sojourn\"} "))
        .expect("shed requests are counted by reason")
        .parse()
        .unwrap();
    assert!(shed >= 2, "{shed}");
    let sojourns: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("murphy_request_sojourn_seconds_count "))
        .expect("the sojourn histogram")
        .parse()
        .unwrap();
    assert!(sojourns >= 13, "every request's sojourn is recorded: {sojourns}");
    assert!(
        metrics.contains("\nmurphy_commands_applied_total 0\n"),
        "nothing was applied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_standing_queue_nothing_is_shed() {
    let server = TestServer::start().await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    for _ in 0..50 {
        assert!(
            get(&mut stream, "/api/v1/openapi.json")
                .await
                .starts_with("HTTP/1.1 200")
        );
    }
}
