//! A lost answer is retried without applying the command twice.
//!
//! A TCP proxy sits between a `Session` and a real server. On the first connection it
//! forwards the request, waits until the server's answer arrives (so the command is
//! applied and durable), keeps that answer, and closes the client's connection without
//! forwarding it. The session must retry the same seq through the proxy (forwarded
//! normally the second time) and get the ORIGINAL answer, and the log must hold the
//! command exactly once.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use murphy_client::{Client, RetryPolicy, Session};
use murphy_core::wire::CommandsAnswer;
use murphy_core::{Command, Outcome};
use murphy_server::{Config, Limits, Server};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

const ADMIN_TOKEN: &str = "lost-answer-admin-token";

/// What the proxy saw: connections accepted, and the answer it swallowed.
#[derive(Default)]
struct Seen {
    connections: usize,
    swallowed: Option<CommandsAnswer>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_retried_with_the_same_seq_and_applied_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path()).await;
    let admin = Client::new(format!("http://{server}"), Some(ADMIN_TOKEN.into()));
    let setup = admin
        .commands(vec![Command::create_student("s1", "Joe Bruin", 20)])
        .await
        .unwrap();
    assert_eq!(setup.results[0].outcome, Outcome::Created);

    let seen = Arc::new(Mutex::new(Seen::default()));
    let proxy = start_proxy(server, seen.clone()).await;
    let through_proxy = Client::new(format!("http://{proxy}"), Some(ADMIN_TOKEN.into()));
    let mut session = Session::new(through_proxy).with_policy(RetryPolicy {
        attempts: 4,
        backoff_first: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        attempt_timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    });
    let deposit = Command::Deposit {
        student: "s1".into(),
        amount_cents: 5000,
    };
    let answer = session
        .send(vec![deposit.clone()])
        .await
        .expect("the retry gets an answer");

    let (connections, swallowed) = {
        let seen = seen.lock().unwrap();
        (seen.connections, seen.swallowed.clone())
    };
    let swallowed = swallowed.expect("the proxy swallowed the first answer");
    assert_eq!(connections, 2, "one cut connection, one retry");
    assert_eq!(answer, swallowed, "the retry is answered with the original (same LSN)");
    assert_eq!(
        answer.results[0].outcome,
        Outcome::Balance {
            cents: 5000,
            fee_cents: 0
        }
    );
    assert_eq!(session.seq(), 1, "the retry used the same seq");

    let log = admin.full_log().await.unwrap();
    let mine: Vec<_> = log
        .iter()
        .filter(|e| e.client.as_deref() == Some(session.id()))
        .collect();
    assert_eq!(mine.len(), 1, "applied exactly once: {log:?}");
    assert_eq!(mine[0].lsn, answer.results[0].lsn);
    assert_eq!(mine[0].seq, Some(1));
    assert_eq!(mine[0].command, deposit);
    assert_eq!(admin.student("s1").await.unwrap().balance_cents, 5000);
}

async fn start_server(dir: &std::path::Path) -> SocketAddr {
    let config = Config {
        data_dir: dir.to_owned(),
        admin_token: Some(ADMIN_TOKEN.into()),
        limits: Limits::default(),
        database: None,
        oidc: None,
    };
    let server = Server::open(config).expect("server opens");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Runs until the test's runtime shuts down.
    tokio::spawn(async move { server.serve(listener, std::future::pending()).await });
    addr
}

/// Forwards connections to `upstream`; the first one loses its answer.
async fn start_proxy(upstream: SocketAddr, seen: Arc<Mutex<Seen>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut downstream, _) = listener.accept().await.unwrap();
            let mut up = TcpStream::connect(upstream).await.unwrap();
            let first = {
                let mut seen = seen.lock().unwrap();
                seen.connections += 1;
                seen.connections == 1
            };
            if first {
                tokio::spawn(swallow_answer(downstream, up, seen.clone()));
            } else {
                tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut downstream, &mut up).await;
                });
            }
        }
    });
    addr
}

/// Forwards the request, reads the server's whole answer, then drops both sockets:
/// the client sees its connection closed with no answer.
async fn swallow_answer(downstream: TcpStream, up: TcpStream, seen: Arc<Mutex<Seen>>) {
    let (mut from_client, to_client) = downstream.into_split();
    let (mut from_server, mut to_server) = up.into_split();
    let forward = tokio::spawn(async move { tokio::io::copy(&mut from_client, &mut to_server).await });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let swallowed = loop {
        let n = from_server.read(&mut buf).await.unwrap();
        assert!(n > 0, "the server closed before answering");
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some((_, body)) = text.split_once("\r\n\r\n")
            && let Ok(parsed) = serde_json::from_str::<CommandsAnswer>(body)
        {
            break parsed;
        }
    };
    seen.lock().unwrap().swallowed = Some(swallowed);
    forward.abort();
    let _ = forward.await;
    drop(to_client);
}
