//! Connection limits: a silent client is disconnected after the idle limit, and at the
//! connection limit new clients wait (in the kernel's backlog) instead of costing memory.

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use murphy_server::Limits;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const IDLE: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_after_the_idle_limit() {
    let server = TestServer::start_with(Limits {
        connection_idle_time_max: IDLE,
        ..Limits::default()
    })
    .await;
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
        .await
        .expect("closed in time");
    assert!(matches!(read, Ok(0) | Err(_)), "the server hung up");
    assert!(
        started.elapsed() >= IDLE,
        "not before the idle limit: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_limit_new_clients_wait_for_a_free_slot() {
    let limits = Limits {
        connections_max: 1,
        connection_idle_time_max: IDLE,
        ..Limits::default()
    };
    let server = TestServer::start_with(limits).await;
    let _hog = TcpStream::connect(server.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await; // let the server accept it
    let started = Instant::now();
    assert_eq!(server.admin.healthz().await.unwrap(), "ok");
    let waited = started.elapsed();
    assert!(
        waited >= IDLE - Duration::from_millis(100),
        "served only once the hog was dropped: {waited:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trickling_its_headers_is_cut_off() {
    use tokio::io::AsyncWriteExt;
    let header_limit = Duration::from_millis(400);
    let limits = Limits {
        header_read_time_max: header_limit,
        ..Limits::default()
    };
    let server = TestServer::start_with(limits).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let started = Instant::now();
    // A byte every 50 ms: never idle, never done.
    let closed_after = loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let sent = slow.write_all(b"X").await;
        let mut buf = [0u8; 256];
        let read = tokio::time::timeout(Duration::from_millis(1), slow.read(&mut buf)).await;
        if sent.is_err() || matches!(read, Ok(Ok(0)) | Ok(Err(_))) || matches!(read, Ok(Ok(n)) if n > 0) {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the trickling client was never cut off"
        );
    };
    assert!(
        closed_after >= header_limit - Duration::from_millis(60),
        "cut off too early: {closed_after:?}"
    );
}
