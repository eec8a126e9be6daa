//! Connection limits: a silent client is disconnected after the idle limit; past the
//! connection limit a new client is answered `503` at once, never left hanging; a client
//! trickling its headers is cut off.

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

/// One request on a fresh connection, raw: the status line and the whole answer.
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<String> {
    use tokio::io::AsyncWriteExt;
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nhost: murphy\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_limit_every_client_is_answered_at_once() {
    const CONNECTIONS_MAX: usize = 8;
    const CLIENTS: usize = 60;
    let limits = Limits {
        connections_max: CONNECTIONS_MAX,
        connection_idle_time_max: Duration::from_secs(30),
        ..Limits::default()
    };
    let server = TestServer::start_with(limits).await;
    let mut hogs = Vec::new();
    for _ in 0..CONNECTIONS_MAX {
        hogs.push(TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await; // let the server accept them

    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            tokio::spawn(tokio::time::timeout(
                Duration::from_secs(1),
                raw_get(server.addr, "/healthz"),
            ))
        })
        .collect();
    for client in clients {
        let answer = client.await.unwrap().expect("answered within a second").unwrap();
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains("retry-after: 1"), "{answer}");
        assert!(answer.contains("\"code\":\"too_many_connections\""), "{answer}");
    }
    println!("{CLIENTS} clients past the limit answered in {:?}", started.elapsed());

    // Room again: served as usual.
    drop(hogs);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let answer = raw_get(server.addr, "/healthz").await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
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
