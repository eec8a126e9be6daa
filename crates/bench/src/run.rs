//! The load models and the connection tasks. Closed: each connection sends when its
//! last request was answered. Open: requests are due at a fixed rate, and latency is
//! measured from when a request was due, not when it was sent, so a stalled server
//! cannot hide its stall by slowing the load down (coordinated omission, as in wrk2).
//! Writes and their retries are `write.rs`'s; reads are sent once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use murphy_check::Record;

use crate::http::{Answer, Connection, HttpError};
use crate::scenario::{Ask, Crowd, EtagCache, Rng};
use crate::stats::Recorder;
use crate::write::{Failure, Pending, Written, write};

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "model")]
pub enum Model {
    Closed,
    /// Requests due at `rate_per_s` in total, spread over the connections.
    Open {
        rate_per_s: f64,
    },
}

/// How a student answers a `503` (a shed write).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OnShed {
    /// As murphy's clients do: wait the server's `Retry-After` plus up to half of it
    /// again at random, and throttle adaptively (`murphy_client::Throttle`).
    #[default]
    Honour,
    /// Retry at once, whatever the server said, and never throttle: a rude client.
    RetryAtOnce,
}

/// What every connection task shares.
pub struct Shared {
    /// The servers driven (the nodes of a cluster, or one): each connection starts at
    /// its own and moves on to the next when one cannot be reached.
    pub addrs: Vec<SocketAddr>,
    pub token: String,
    pub model: Model,
    pub started: Instant,
    pub deadline: Instant,
    pub requests_max: u64,
    /// Requests sent so far (and, in the open model, the next due slot).
    pub sent: AtomicU64,
    pub timeout: Duration,
    /// Retries of one write after its first attempt; `None`: as long as the run lasts.
    pub retries_max: Option<u32>,
    pub on_shed: OnShed,
    /// The students' client-side throttling, with `OnShed::Honour` (one for all: the
    /// share it refuses depends only on the server's share of accepts).
    pub throttle: murphy_client::Throttle,
    pub etag: bool,
    pub stop: AtomicBool,
    pub history: Option<std::sync::mpsc::Sender<Record>>,
    /// When each commit was answered, for the watchers' delays (with watchers only).
    pub commits: Option<Arc<crate::watch::Commits>>,
}

/// One connection's recorders: writes (commands) and reads apart.
#[derive(Default)]
pub struct Recorders {
    pub writes: Recorder,
    pub reads: Recorder,
}

/// Plays `crowd` over one connection until the run's time or count is up.
pub async fn connection(shared: Arc<Shared>, mut crowd: Crowd, mut rng: Rng, index: usize) -> Recorders {
    let mut recorders = Recorders::default();
    let mut conn = Link::new(index);
    let mut etags = EtagCache::default();
    let mut seqs = std::collections::HashMap::<String, u64>::new();
    while !shared.stop.load(Relaxed) && Instant::now() < shared.deadline {
        let ask = crowd.next(&mut rng);
        let due = match ask {
            Ask::Done => break,
            Ask::Wait(wait) => {
                tokio::time::sleep(wait).await;
                continue;
            }
            _ => match take_slot(&shared).await {
                Some(due) => due,
                None => break,
            },
        };
        match ask {
            Ask::Commands { client, commands } => {
                let seq = seqs.entry(client.clone()).or_default();
                *seq += 1;
                let pending = Pending {
                    due,
                    client: &client,
                    seq: *seq,
                    commands: &commands,
                };
                match write(&shared, &mut conn, &mut recorders.writes, &mut rng, pending).await {
                    Written::Answered(outcomes) => crowd.answered(&commands, &outcomes),
                    Written::GaveUp => {
                        // Its seq is neither answered nor skippable: the server would
                        // hold every later seq of the session for it. Go on in a new one.
                        seqs.remove(&client);
                        crowd.renew_session(&client);
                    }
                    Written::RunEnded => break,
                }
            }
            Ask::Read { section } => {
                let path = format!("/api/v1/sections/{section}");
                read(&shared, &mut conn, &mut recorders.reads, due, &path, &mut etags).await;
            }
            Ask::Hello => read(&shared, &mut conn, &mut recorders.reads, due, "/", &mut etags).await,
            Ask::Wait(_) | Ask::Done => unreachable!("handled above"),
        }
    }
    recorders
}

/// Claims the next request of the run; in the open model, waits until it is due.
/// Returns when the request is due, or `None` when the run's count is used up.
async fn take_slot(shared: &Shared) -> Option<Instant> {
    let slot = shared.sent.fetch_add(1, Relaxed);
    if slot >= shared.requests_max {
        return None;
    }
    match shared.model {
        Model::Closed => Some(Instant::now()),
        Model::Open { rate_per_s } => {
            let due = shared.started + Duration::from_secs_f64(slot as f64 / rate_per_s);
            if due >= shared.deadline {
                return None;
            }
            tokio::time::sleep_until(due.into()).await;
            Some(due)
        }
    }
}

async fn read(
    shared: &Shared,
    conn: &mut Link,
    recorder: &mut Recorder,
    due: Instant,
    path: &str,
    etags: &mut EtagCache,
) {
    let etag = if shared.etag {
        etags.get(path).map(str::to_owned)
    } else {
        None
    };
    let sent = Instant::now();
    match send(
        shared,
        conn,
        Req::Get {
            path,
            etag: etag.as_deref(),
        },
    )
    .await
    {
        Ok(answer) if answer.status == 200 || answer.status == 304 => {
            let answered = Instant::now();
            recorder.answered(second(shared, answered), micros(answered - due), 0);
            recorder.outcome(if answer.status == 304 {
                "304 not modified"
            } else {
                "200 ok"
            });
            if let Some(tag) = answer.etag.filter(|_| shared.etag) {
                etags.put(path.to_owned(), tag);
            }
        }
        Ok(answer) => {
            if answer.status == 503 {
                recorder.shed(micros(sent.elapsed()), answer.retry_after.is_some());
            }
            recorder.unanswered(&Failure::Status(answer.status).cause());
        }
        Err(e) => {
            recorder.unanswered(&Failure::of(&e).cause());
            // A server that is down refuses a connect in microseconds: pause, so this
            // connection does not spin through its requests, counting failures.
            tokio::time::sleep(READ_FAILED_PAUSE).await;
        }
    }
}

/// How long a connection waits after a read got no answer.
const READ_FAILED_PAUSE: Duration = Duration::from_millis(50);

/// A request to send.
pub enum Req<'a> {
    Get { path: &'a str, etag: Option<&'a str> },
    Post { path: &'a str, body: Bytes },
}

/// One connection task's link to the servers: the connection, if open, and which
/// server it goes to.
pub struct Link {
    conn: Option<Connection>,
    at: usize,
}

impl Link {
    pub fn new(at: usize) -> Link {
        Link { conn: None, at }
    }
}

/// Sends on the connection, opening one if needed; a failed connection is dropped so
/// the next attempt opens a new one, to the next server if this one could not be reached.
pub async fn send(shared: &Shared, link: &mut Link, req: Req<'_>) -> Result<Answer, HttpError> {
    if link.conn.is_none() {
        let addr = shared.addrs[link.at % shared.addrs.len()];
        match Connection::open(addr, Some(&shared.token)).await {
            Ok(conn) => link.conn = Some(conn),
            Err(e) => {
                link.at += 1;
                return Err(e);
            }
        }
    }
    let conn = &mut link.conn;
    let c = conn.as_mut().expect("opened above");
    let pending = async {
        match req {
            Req::Get { path, etag } => c.get(path, etag).await,
            Req::Post { path, body } => c.post_json(path, body).await,
        }
    };
    let result = tokio::time::timeout(shared.timeout, pending)
        .await
        .unwrap_or(Err(HttpError::Timeout));
    if result.is_err() {
        *conn = None;
    }
    result
}

pub fn nanos(shared: &Shared, at: Instant) -> u64 {
    at.duration_since(shared.started).as_nanos() as u64
}

pub fn micros(d: Duration) -> u64 {
    d.as_micros() as u64
}

pub fn second(shared: &Shared, at: Instant) -> u32 {
    at.duration_since(shared.started).as_secs() as u32
}
