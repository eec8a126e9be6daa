//! Watchers: students who behave like browsers. Each reads a page of the catalog (a
//! search that lands on 5 neighbouring sections, `limit=5`), then opens a live stream
//! of those sections on the same connection and reads it until the run ends. They are
//! connected before the writes start, from source addresses spread over 127.0.0.2 to
//! 127.0.0.9 (so thousands of them never run out of ports), on a thread of their own.
//!
//! Measured: events and bytes each receives, and the delay from a commit (when its
//! writer got the answer with its LSN) to the event carrying that LSN as the section's
//! version. Coalesced changes (latest value wins) never arrive as events of their own;
//! the delay is that of the events that do.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use murphy_core::wire::SectionsAnswer;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::scenario::Rng;

/// Source addresses the watchers' connections are spread over.
const SOURCES: u8 = 8;
/// A watcher's connection and first page take at most this long.
const CONNECT_TIME_MAX: Duration = Duration::from_secs(30);
/// Delays are recorded up to this, in microseconds.
const DELAY_US_MAX: u64 = 60_000_000;
/// Sections a watcher watches: one catalog page's.
const PAGE_SECTIONS: usize = 5;

/// When each commit was answered, by LSN: writers fill it, watchers read it.
#[derive(Default)]
pub struct Commits(Mutex<HashMap<u64, Instant>>);

impl Commits {
    pub fn answered(&self, lsns: impl Iterator<Item = u64>, at: Instant) {
        let mut map = self.0.lock().expect("not poisoned");
        for lsn in lsns {
            map.insert(lsn, at);
        }
    }

    fn at(&self, lsn: u64) -> Option<Instant> {
        self.0.lock().expect("not poisoned").get(&lsn).copied()
    }
}

pub struct Watchers {
    pub addr: SocketAddr,
    pub token: String,
    pub count: usize,
    pub sections: usize,
    pub seed: u64,
    pub commits: Arc<Commits>,
    pub connected: AtomicUsize,
    pub failed: AtomicUsize,
    pub stop: AtomicBool,
}

/// What the watchers measured.
#[derive(Clone, Debug, Serialize)]
pub struct WatchSummary {
    pub watchers: usize,
    pub connected: usize,
    pub failed: usize,
    pub seconds: f64,
    pub events: u64,
    pub bytes: u64,
    pub events_per_s_per_watcher: f64,
    pub bytes_per_s_per_watcher: f64,
    /// Events whose version was a commit this run's writers saw answered.
    pub delays_measured: u64,
    pub delay_p50_ms: f64,
    pub delay_p99_ms: f64,
    pub delay_max_ms: f64,
}

/// Events and bytes received.
#[derive(Default)]
pub struct Tally {
    pub events: u64,
    pub bytes: u64,
}

/// Runs the watchers on a thread of their own until `stop`; returns what they saw.
pub fn start(watchers: Arc<Watchers>) -> std::thread::JoinHandle<(Tally, Histogram<u64>)> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let local = tokio::task::LocalSet::new();
            local
                .run_until(async move {
                    let mut rng = Rng::new(watchers.seed ^ 0x5eed);
                    let tasks: Vec<_> = (0..watchers.count)
                        .map(|i| {
                            let prefix = rng.below(watchers.sections.div_ceil(10).max(1));
                            tokio::task::spawn_local(watch(watchers.clone(), i, prefix))
                        })
                        .collect();
                    let mut total = Tally::default();
                    let mut delays = Histogram::<u64>::new_with_bounds(1, DELAY_US_MAX, 3).expect("bounds");
                    for task in tasks {
                        let (tally, h) = task.await.expect("watchers do not panic");
                        total.events += tally.events;
                        total.bytes += tally.bytes;
                        delays.add(h).expect("same bounds");
                    }
                    (total, delays)
                })
                .await
        })
    })
}

pub fn summarize(w: &Watchers, total: &Tally, delays: &Histogram<u64>, seconds: f64) -> WatchSummary {
    let connected = w.connected.load(Relaxed);
    let per = |n: u64| n as f64 / seconds.max(1e-9) / connected.max(1) as f64;
    let ms = |us: u64| us as f64 / 1000.0;
    WatchSummary {
        watchers: w.count,
        connected,
        failed: w.failed.load(Relaxed),
        seconds,
        events: total.events,
        bytes: total.bytes,
        events_per_s_per_watcher: per(total.events),
        bytes_per_s_per_watcher: per(total.bytes),
        delays_measured: delays.len(),
        delay_p50_ms: ms(delays.value_at_quantile(0.5)),
        delay_p99_ms: ms(delays.value_at_quantile(0.99)),
        delay_max_ms: ms(delays.max()),
    }
}

async fn watch(w: Arc<Watchers>, index: usize, prefix: usize) -> (Tally, Histogram<u64>) {
    let mut tally = Tally::default();
    let mut delays = Histogram::<u64>::new_with_bounds(1, DELAY_US_MAX, 3).expect("bounds");
    let stream = match tokio::time::timeout(CONNECT_TIME_MAX, open(&w, index, prefix)).await {
        Ok(Ok(stream)) => stream,
        _ => {
            w.failed.fetch_add(1, Relaxed);
            return (tally, delays);
        }
    };
    w.connected.fetch_add(1, Relaxed);
    let (mut stream, mut pending) = stream;
    let mut buffer = vec![0u8; 16 * 1024];
    let mut section = false;
    loop {
        // Whole lines only: an event's fields may arrive split over reads.
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end();
            if line == "event: section" {
                section = true;
            } else if let Some(id) = line.strip_prefix("id: ")
                && section
            {
                section = false;
                tally.events += 1;
                if let Some(at) = id.parse().ok().and_then(|lsn| w.commits.at(lsn)) {
                    let _ = delays.record((at.elapsed().as_micros() as u64).max(1));
                }
            }
        }
        let read = tokio::select! {
            read = stream.read(&mut buffer) => read,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                if w.stop.load(Relaxed) { break; }
                continue;
            }
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tally.bytes += n as u64;
                pending.extend_from_slice(&buffer[..n]);
            }
        }
        if w.stop.load(Relaxed) {
            break;
        }
    }
    (tally, delays)
}

/// Connects, reads the watcher's catalog page, and opens its stream on the same
/// connection; returns it with the bytes read past the stream's headers.
async fn open(w: &Watchers, index: usize, prefix: usize) -> std::io::Result<(TcpStream, Vec<u8>)> {
    let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + (index % SOURCES as usize) as u8));
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let mut stream = socket.connect(w.addr).await?;
    stream.set_nodelay(true)?;
    let words = format!("RD-{prefix:04}");
    let page = format!("/api/v1/sections?q={words}&limit={PAGE_SECTIONS}");
    let (body, _) = exchange(&mut stream, w, &page, true).await?;
    let answer: SectionsAnswer =
        serde_json::from_slice(&body).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let ids: Vec<String> = answer.sections.into_iter().map(|s| s.id).collect();
    if ids.is_empty() {
        return Err(std::io::Error::other(format!("no section matches {words}")));
    }
    let (_, rest) = exchange(
        &mut stream,
        w,
        &format!("/api/v1/events?sections={}", ids.join(",")),
        false,
    )
    .await?;
    Ok((stream, rest))
}

/// Sends `GET path` and reads the answer's headers (and, with `whole`, its body by
/// `Content-Length`). Returns the body, or what was read past the headers.
async fn exchange(
    stream: &mut TcpStream,
    w: &Watchers,
    path: &str,
    whole: bool,
) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n",
        w.addr, w.token
    );
    stream.write_all(request.as_bytes()).await?;
    let mut got = Vec::new();
    let mut buffer = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = got.windows(4).position(|b| b == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        got.extend_from_slice(&buffer[..n]);
    };
    let head = String::from_utf8_lossy(&got[..head_end]).to_lowercase();
    if !head.starts_with("http/1.1 200") {
        return Err(std::io::Error::other(
            head.lines().next().unwrap_or_default().to_owned(),
        ));
    }
    let mut rest = got.split_off(head_end);
    if !whole {
        return Ok((Vec::new(), rest));
    }
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| std::io::Error::other("an answer without content-length"))?;
    while rest.len() < length {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        rest.extend_from_slice(&buffer[..n]);
    }
    Ok((rest, Vec::new()))
}
