//! Connection limits: a silent client is disconnected after the idle limit; past the
//! connection limit a new client is answered `503` at once, never left hanging, and past
//! the budget for such answers it waits in the backlog until there is room; one address
//! or one student holding its share of connections leaves others connecting; a client
//! trickling its headers is cut off.

mod common;

use std::net::{Ipv4Addr, SocketAddr};
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
async fn raw_get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    raw_request(TcpStream::connect(addr).await?, path, "").await
}

/// A connection to `addr` from `local`, an address of the loopback range (127/8):
/// another client machine, as far as the server can tell.
async fn connect_from(local: [u8; 4], addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((Ipv4Addr::from(local), 0)))?;
    socket.connect(addr).await
}

/// `GET path` on `stream` with `headers` (each ending in CRLF), then the whole answer.
async fn raw_request(mut stream: TcpStream, path: &str, headers: &str) -> std::io::Result<String> {
    use tokio::io::AsyncWriteExt;
    let request = format!("GET {path} HTTP/1.1\r\nhost: murphy\r\nconnection: close\r\n{headers}\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// A live stream held open on its own connection: the answer's head is read, the rest
/// (heartbeats) left to come.
async fn hold_stream(addr: SocketAddr, token: &str) -> TcpStream {
    use tokio::io::AsyncWriteExt;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /api/v1/events HTTP/1.1\r\nhost: murphy\r\nauthorization: Bearer {token}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200", "the stream opened");
    stream
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
        assert!(
            ["retry-after: 1\r", "retry-after: 2\r", "retry-after: 3\r"]
                .iter()
                .any(|r| answer.contains(r)),
            "a jittered Retry-After of 1 to 3 s: {answer}"
        );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_budget_for_refusals_connections_wait_in_the_backlog() {
    let limits = Limits {
        connections_max: 2,
        // One refusal answered at once, the next after a second.
        turn_away_connections_per_s_max: 1,
        connection_idle_time_max: Duration::from_secs(30),
        ..Limits::default()
    };
    let server = TestServer::start_with(limits).await;
    let mut hogs = vec![
        TcpStream::connect(server.addr).await.unwrap(),
        TcpStream::connect(server.addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = tokio::time::timeout(Duration::from_secs(1), raw_get(server.addr, "/healthz"))
        .await
        .expect("answered at once")
        .unwrap();
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");

    // The budget is spent: the next client is neither answered nor accepted, it waits.
    let waiting = tokio::spawn(raw_get(server.addr, "/healthz"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "past the budget a connection waits in the backlog"
    );
    // A connection closes: the waiting one is taken and served.
    let started = Instant::now();
    hogs.pop();
    let served = tokio::time::timeout(Duration::from_secs(2), waiting)
        .await
        .expect("taken once there is room")
        .unwrap()
        .unwrap();
    assert!(served.starts_with("HTTP/1.1 200"), "{served}");
    assert!(
        started.elapsed() < Duration::from_millis(600),
        "taken as soon as a place freed, not when the budget refilled: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holding_its_share_leaves_others_connecting() {
    const SHARE: usize = 4;
    let limits = Limits {
        connections_max: 64,
        connections_per_address_max: SHARE,
        connection_idle_time_max: Duration::from_secs(30),
        ..Limits::default()
    };
    let server = TestServer::start_with(limits).await;
    let greedy = [127, 0, 0, 2];
    let mut hogs = Vec::new();
    for _ in 0..SHARE {
        hogs.push(connect_from(greedy, server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;

    let refused = raw_request(connect_from(greedy, server.addr).await.unwrap(), "/healthz", "")
        .await
        .unwrap();
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("\"code\":\"too_many_connections\""), "{refused}");
    assert!(
        refused.contains("your address"),
        "says whose share is used up: {refused}"
    );
    for other in [[127, 0, 0, 1], [127, 0, 0, 3]] {
        let served = raw_request(connect_from(other, server.addr).await.unwrap(), "/healthz", "")
            .await
            .unwrap();
        assert!(served.starts_with("HTTP/1.1 200"), "another address connects: {served}");
    }
    hogs.pop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let served = raw_request(connect_from(greedy, server.addr).await.unwrap(), "/healthz", "")
        .await
        .unwrap();
    assert!(
        served.starts_with("HTTP/1.1 200"),
        "a freed place is the address's again: {served}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_student_holding_its_share_of_streams_leaves_others_connecting() {
    const SHARE: usize = 2;
    let limits = Limits {
        connections_per_student_max: SHARE,
        ..Limits::default()
    };
    let server = TestServer::start_with(limits).await;
    let greedy = server.student("s1").await.token().unwrap().to_owned();
    let other = server.student("s2").await.token().unwrap().to_owned();
    let mut streams = Vec::new();
    for _ in 0..SHARE {
        streams.push(hold_stream(server.addr, &greedy).await);
    }
    let me = |token: &str| format!("authorization: Bearer {token}\r\n");
    let refused = raw_request(
        TcpStream::connect(server.addr).await.unwrap(),
        "/api/v1/me",
        &me(&greedy),
    )
    .await
    .expect("answered, then closed");
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("\"code\":\"too_many_connections\""), "{refused}");
    assert!(refused.contains("connection: close"), "{refused}");
    let served = raw_request(
        TcpStream::connect(server.addr).await.unwrap(),
        "/api/v1/me",
        &me(&other),
    )
    .await
    .unwrap();
    assert!(served.starts_with("HTTP/1.1 200"), "another student connects: {served}");
    // The admin is nobody's student: never counted.
    let admin = raw_request(
        TcpStream::connect(server.addr).await.unwrap(),
        "/api/v1/me",
        &me("test-admin-token"),
    )
    .await
    .unwrap();
    assert!(admin.starts_with("HTTP/1.1 200"), "{admin}");

    streams.pop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let served = raw_request(
        TcpStream::connect(server.addr).await.unwrap(),
        "/api/v1/me",
        &me(&greedy),
    )
    .await
    .unwrap();
    assert!(
        served.starts_with("HTTP/1.1 200"),
        "a closed stream frees its place: {served}"
    );
}
