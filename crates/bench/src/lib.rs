//! `murphy bench`: a load generator for a running murphy. It sets up its scenario
//! through the API (`setup.rs`), drives it with a closed or an open load model over one
//! HTTP/1.1 connection per simulated client (`run.rs`, `write.rs`), and reports
//! throughput, outcomes, retries, unanswered requests and HDR latency percentiles
//! (`report.rs`); optionally a JSON report, SVG plots, and the client-side history that
//! `murphy check` verifies against the server's log.

mod http;
pub mod plot;
mod report;
mod room;
mod run;
pub mod scenario;
mod setup;
pub mod stats;
mod watch;
mod write;

use std::io::{BufWriter, IsTerminal as _, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;

pub use report::{header, plots, render};
pub use room::{RoomReport, RoomShape, render as render_room};
pub use run::Model;
pub use run::OnShed;
use scenario::{Crowd, Rng};
pub use scenario::{Scenario, Shape};
pub use setup::Setup;
use stats::Summary;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Url(String),
    #[error("setting up the scenario failed: {0}")]
    Setup(String),
    /// The server holds an earlier run's students or sections, and `reuse` is off.
    #[error("{0}")]
    Reused(String),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

#[derive(Clone, Debug)]
pub struct Options {
    /// `http://HOST:PORT` of a running murphy (or any server, for `hello`).
    pub url: String,
    pub admin_token: Option<String>,
    pub scenario: Scenario,
    pub model: Model,
    pub connections: usize,
    /// Threads the connections are spread over, each with its own event loop.
    pub threads: usize,
    pub duration: Duration,
    pub requests_max: u64,
    pub shape: Shape,
    /// A request without an answer after this long is retried (same session seq).
    pub timeout: Duration,
    /// Retries of one write after its first attempt; `None`: as long as the run lasts.
    pub retries_max: Option<u32>,
    /// How students answer a `503`: as murphy's clients do, or by retrying at once.
    pub on_shed: OnShed,
    /// The waiting-room scenario's numbers.
    pub room: RoomShape,
    /// Revalidate reads with `If-None-Match`.
    pub etag: bool,
    pub seed: u64,
    /// Registration opens this long after setup (registration-day).
    pub opens_after: Duration,
    pub history: Option<PathBuf>,
    /// Students who behave like browsers: a catalog page read, then a live stream of
    /// its sections (`watch.rs`), connected before the writes start.
    pub watchers: usize,
    /// Run over an earlier run's students and sections (their seats taken by it)
    /// instead of refusing to.
    pub reuse: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scenario: Scenario,
    #[serde(flatten)]
    pub model: Model,
    pub connections: usize,
    /// What setup found on the server and what it added.
    pub setup: Setup,
    pub elapsed_s: f64,
    pub writes: Option<Summary>,
    pub reads: Option<Summary>,
    /// The server's CPU time over the run (its `process_cpu_seconds_total`), when it
    /// says.
    pub server_cpu_s: Option<f64>,
    pub watchers: Option<watch::WatchSummary>,
}

impl Report {
    /// Requests never answered (after retries, where retried).
    pub fn unanswered(&self) -> u64 {
        [&self.writes, &self.reads]
            .into_iter()
            .flatten()
            .map(Summary::unanswered)
            .sum()
    }

    /// Unanswered requests that count against the run: all but those murphy shed
    /// with `503` whose retry the run's end cut short.
    pub fn failures(&self) -> u64 {
        [&self.writes, &self.reads]
            .into_iter()
            .flatten()
            .map(Summary::failures)
            .sum()
    }

    /// Unanswered writes the server may have applied all the same.
    pub fn unknown(&self) -> u64 {
        self.writes.as_ref().map_or(0, Summary::unknown)
    }
}

/// Sets up the scenario, runs it, and returns what was measured.
/// The waiting-room scenario (`room.rs`): sets the students and sections up, opens a
/// registration window, and measures the line; the enrolls go to `options.history`.
pub async fn waiting_room(options: Options) -> Result<RoomReport, BenchError> {
    let addrs = resolve_all(&options.url).await?;
    let token = options.admin_token.clone().unwrap_or_default();
    setup::setup(addrs[0], &token, &options, "room").await?;
    let history = options
        .history
        .as_ref()
        .map(|path| history_writer(path.clone()))
        .transpose()?;
    let report = room::run(
        &options,
        &options.room,
        history.as_ref().map(|(sender, _)| sender.clone()),
    )
    .await?;
    if let Some((sender, writer)) = history {
        drop(sender);
        writer
            .join()
            .expect("the history writer never panics")
            .map_err(|source| BenchError::Io {
                context: "writing the history".into(),
                source,
            })?;
    }
    Ok(report)
}

pub async fn run(options: Options) -> Result<Report, BenchError> {
    let addrs = resolve_all(&options.url).await?;
    let run_id = format!(
        "r{:x}",
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    );
    let token = options.admin_token.clone().unwrap_or_default();
    let setup = setup::setup(addrs[0], &token, &options, &run_id).await?;
    let history = options
        .history
        .as_ref()
        .map(|path| history_writer(path.clone()))
        .transpose()?;
    let watchers = (options.watchers > 0).then(|| {
        Arc::new(watch::Watchers {
            addr: addrs[0],
            token: token.clone(),
            count: options.watchers,
            sections: options.shape.sections,
            seed: options.seed,
            commits: Arc::default(),
            connected: Default::default(),
            failed: Default::default(),
            stop: Default::default(),
        })
    });
    let watching = watchers.as_ref().map(|w| (w.clone(), watch::start(w.clone())));
    if let Some(w) = &watchers {
        connect_all(w).await;
    }
    let first = addrs[0];
    let cpu_before = server_cpu(first).await;
    let started = Instant::now();
    let shared = Arc::new(run::Shared {
        commits: watchers.as_ref().map(|w| w.commits.clone()),
        addrs,
        token,
        model: options.model,
        started,
        deadline: started + options.duration,
        requests_max: options.requests_max,
        sent: AtomicU64::new(0),
        timeout: options.timeout,
        retries_max: options.retries_max,
        on_shed: options.on_shed,
        throttle: murphy_client::Throttle::default(),
        // Registration-day students always revalidate their cached catalog entries.
        etag: options.etag || options.scenario == Scenario::RegistrationDay,
        stop: AtomicBool::new(false),
        history: history.as_ref().map(|(sender, _)| sender.clone()),
    });
    let threads: Vec<_> = deal(&options, &run_id)
        .into_iter()
        .map(|players| play_on_own_thread(shared.clone(), players))
        .collect();
    let progress = progress(shared.clone(), options.duration);
    // ctrl-c ends the run early; what was measured so far is still reported.
    let interrupt = {
        let shared = shared.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                shared.stop.store(true, Relaxed);
            }
        })
    };
    let (writes, reads) = gather(threads).await;
    let elapsed_s = started.elapsed().as_secs_f64();
    let cpu_after = server_cpu(first).await;
    let watched = match watching {
        Some((w, thread)) => {
            w.stop.store(true, Relaxed);
            let (tally, delays) = tokio::task::spawn_blocking(move || thread.join().expect("watchers do not panic"))
                .await
                .expect("joining the watchers");
            Some(watch::summarize(&w, &tally, &delays, elapsed_s))
        }
        None => None,
    };
    progress.abort();
    interrupt.abort();
    drop(shared);
    if let Some((sender, writer)) = history {
        drop(sender);
        writer
            .join()
            .expect("the history writer does not panic")
            .map_err(|source| BenchError::Io {
                context: "writing the history".into(),
                source,
            })?;
    }
    let summary = |r: stats::Recorder| {
        let s = r.summarize(elapsed_s);
        (s.answered > 0 || !s.unanswered.is_empty()).then_some(s)
    };
    Ok(Report {
        scenario: options.scenario,
        model: options.model,
        connections: options.connections,
        setup,
        elapsed_s,
        writes: summary(writes),
        reads: summary(reads),
        server_cpu_s: cpu_before.zip(cpu_after).map(|(a, b)| b - a),
        watchers: watched,
    })
}

/// Waits until every watcher has connected (or failed to), printing the count.
async fn connect_all(w: &watch::Watchers) {
    let since = Instant::now();
    loop {
        let done = w.connected.load(Relaxed) + w.failed.load(Relaxed);
        if done >= w.count || since.elapsed() > Duration::from_secs(300) {
            eprintln!(
                "watchers: {} connected, {} failed, in {:.1} s",
                w.connected.load(Relaxed),
                w.failed.load(Relaxed),
                since.elapsed().as_secs_f64()
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The server's CPU seconds so far, from its `/metrics`, if it says.
async fn server_cpu(addr: SocketAddr) -> Option<f64> {
    let mut conn = http::Connection::open(addr, None).await.ok()?;
    let answer = conn.get("/metrics", None).await.ok()?;
    String::from_utf8_lossy(&answer.body)
        .lines()
        .find_map(|l| l.strip_prefix("process_cpu_seconds_total "))
        .and_then(|v| v.trim().parse().ok())
}

/// The servers of `--url`: one, or the comma-separated nodes of a cluster.
async fn resolve_all(urls: &str) -> Result<Vec<SocketAddr>, BenchError> {
    let mut addrs = Vec::new();
    for url in urls.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        addrs.push(resolve(url).await?);
    }
    if addrs.is_empty() {
        return Err(BenchError::Url("no URL to drive: give --url".into()));
    }
    Ok(addrs)
}

/// Each connection's crowd of students and its own random stream, dealt round-robin
/// to the load threads.
fn deal(options: &Options, run_id: &str) -> Vec<Vec<(Crowd, Rng)>> {
    let mut rng = Rng::new(options.seed);
    let mut players: Vec<Vec<(Crowd, Rng)>> = (0..options.threads.max(1)).map(|_| Vec::new()).collect();
    let thread_count = players.len();
    for c in 0..options.connections {
        let crowd = Crowd::new(
            options.scenario,
            &options.shape,
            run_id,
            c,
            options.connections,
            &mut rng,
        );
        players[c % thread_count].push((crowd, Rng::new(options.seed ^ (c as u64 + 1))));
    }
    players
}

/// Waits for every load thread and merges what they measured: (writes, reads).
async fn gather(threads: Vec<std::thread::JoinHandle<Vec<run::Recorders>>>) -> (stats::Recorder, stats::Recorder) {
    let mut writes = stats::Recorder::default();
    let mut reads = stats::Recorder::default();
    for thread in threads {
        let all = tokio::task::spawn_blocking(move || thread.join().expect("load threads do not panic"))
            .await
            .expect("joining a load thread");
        for recorders in all {
            writes.merge(recorders.writes);
            reads.merge(recorders.reads);
        }
    }
    (writes, reads)
}

/// Plays connections on a thread of their own, with a single-threaded runtime: each
/// request's wake-ups stay on one thread, as in wrk's event loops, so the generator
/// costs the machine as little as it can.
fn play_on_own_thread(
    shared: Arc<run::Shared>,
    players: Vec<(Crowd, Rng)>,
) -> std::thread::JoinHandle<Vec<run::Recorders>> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            let local = tokio::task::LocalSet::new();
            let tasks: Vec<_> = players
                .into_iter()
                .enumerate()
                .map(|(i, (crowd, rng))| local.spawn_local(run::connection(shared.clone(), crowd, rng, i)))
                .collect();
            local
                .run_until(async move {
                    let mut all = Vec::with_capacity(tasks.len());
                    for task in tasks {
                        all.push(task.await.expect("connection tasks do not panic"));
                    }
                    all
                })
                .await
        })
    })
}

async fn resolve(url: &str) -> Result<SocketAddr, BenchError> {
    let host = url
        .strip_prefix("http://")
        .ok_or_else(|| BenchError::Url(format!("{url}: only http:// URLs are supported")))?
        .trim_end_matches('/');
    tokio::net::lookup_host(host)
        .await
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| BenchError::Url(format!("{url}: cannot resolve {host} (expected HOST:PORT)")))
}

type HistoryWriter = (
    std::sync::mpsc::Sender<murphy_check::Record>,
    std::thread::JoinHandle<std::io::Result<()>>,
);

/// Streams the history to `path` on its own thread, so recording costs the load little.
fn history_writer(path: PathBuf) -> Result<HistoryWriter, BenchError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| BenchError::Io {
            context: format!("creating {}", parent.display()),
            source,
        })?;
    }
    let file = std::fs::File::create(&path).map_err(|source| BenchError::Io {
        context: format!("creating {}", path.display()),
        source,
    })?;
    let (sender, records) = std::sync::mpsc::channel::<murphy_check::Record>();
    let writer = std::thread::spawn(move || {
        let mut out = BufWriter::new(file);
        for record in records {
            serde_json::to_writer(&mut out, &record)?;
            out.write_all(b"\n")?;
        }
        out.flush()
    });
    Ok((sender, writer))
}

/// A progress bar on a terminal, with the rate; elsewhere (a log, CI) a line every
/// `PROGRESS_LINE_INTERVAL`, so a long run is never silent.
fn progress(shared: Arc<run::Shared>, duration: Duration) -> tokio::task::JoinHandle<()> {
    const PROGRESS_LINE_INTERVAL: Duration = Duration::from_secs(5);
    let on_terminal = std::io::stderr().is_terminal();
    let bar = if on_terminal {
        indicatif::ProgressBar::new(duration.as_secs().max(1))
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed:>4} [{bar:40}] {pos}/{len} s  {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    tokio::spawn(async move {
        let (mut last, mut last_line, mut sent_at_last_line) = (0, Duration::ZERO, 0);
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let sent = shared.sent.load(Relaxed);
            let elapsed = shared.started.elapsed();
            bar.set_position(elapsed.as_secs());
            bar.set_message(format!("{} req/s", sent.saturating_sub(last)));
            last = sent;
            if !on_terminal && elapsed >= last_line + PROGRESS_LINE_INTERVAL {
                let rate = (sent - sent_at_last_line) as f64 / (elapsed - last_line).as_secs_f64();
                eprintln!(
                    "{:.0} of {:.0} s: {sent} requests sent, {rate:.0} req/s",
                    elapsed.as_secs_f64(),
                    duration.as_secs_f64()
                );
                (last_line, sent_at_last_line) = (elapsed, sent);
            }
            if shared.stop.load(Relaxed) {
                break;
            }
        }
    })
}
