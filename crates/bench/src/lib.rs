//! `murphy bench`: a load generator for a running murphy. It sets up its scenario
//! through the API, drives it with a closed or an open load model over one HTTP/1.1
//! connection per simulated client, and reports throughput, outcomes, errors and HDR
//! latency percentiles; optionally a JSON report, SVG plots, and the client-side
//! history that `murphy check` verifies against the server's log.

mod http;
pub mod plot;
mod run;
pub mod scenario;
pub mod stats;

use std::fmt::Write as _;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use murphy_core::Command;
use murphy_core::wire::{CommandsAnswer, CommandsRequest};
use serde::Serialize;

pub use run::Model;
use scenario::{Crowd, Rng};
pub use scenario::{Scenario, Shape};
use stats::Summary;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Url(String),
    #[error("setting up the scenario failed: {0}")]
    Setup(String),
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
    pub retries_max: u32,
    /// Revalidate reads with `If-None-Match`.
    pub etag: bool,
    pub seed: u64,
    /// Registration opens this long after setup (registration-day).
    pub opens_after: Duration,
    pub history: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scenario: Scenario,
    #[serde(flatten)]
    pub model: Model,
    pub connections: usize,
    pub elapsed_s: f64,
    pub writes: Option<Summary>,
    pub reads: Option<Summary>,
}

impl Report {
    /// Requests that failed (after retries, where retried): transport errors and
    /// unexpected statuses.
    pub fn errors(&self) -> u64 {
        [&self.writes, &self.reads]
            .into_iter()
            .flatten()
            .flat_map(|s| s.errors.values())
            .sum()
    }
}

/// Sets up the scenario, runs it, and returns what was measured.
pub async fn run(options: Options) -> Result<Report, BenchError> {
    let addr = resolve(&options.url).await?;
    let run_id = format!(
        "r{:x}",
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis()
    );
    let token = options.admin_token.clone().unwrap_or_default();
    setup(addr, &token, &options, &run_id).await?;
    let history = options
        .history
        .as_ref()
        .map(|path| history_writer(path.clone()))
        .transpose()?;
    let started = Instant::now();
    let shared = Arc::new(run::Shared {
        addr,
        token,
        model: options.model,
        started,
        deadline: started + options.duration,
        requests_max: options.requests_max,
        sent: AtomicU64::new(0),
        timeout: options.timeout,
        retries_max: options.retries_max,
        // Registration-day students always revalidate their cached catalog entries.
        etag: options.etag || options.scenario == Scenario::RegistrationDay,
        stop: AtomicBool::new(false),
        history: history.as_ref().map(|(sender, _)| sender.clone()),
    });
    let mut rng = Rng::new(options.seed);
    let mut players: Vec<Vec<(Crowd, Rng)>> = (0..options.threads.max(1)).map(|_| Vec::new()).collect();
    let thread_count = players.len();
    for c in 0..options.connections {
        let crowd = Crowd::new(
            options.scenario,
            &options.shape,
            &run_id,
            c,
            options.connections,
            &mut rng,
        );
        players[c % thread_count].push((crowd, Rng::new(options.seed ^ (c as u64 + 1))));
    }
    let threads: Vec<_> = players
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
    let elapsed_s = started.elapsed().as_secs_f64();
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
        (s.requests > 0 || !s.errors.is_empty()).then_some(s)
    };
    Ok(Report {
        scenario: options.scenario,
        model: options.model,
        connections: options.connections,
        elapsed_s,
        writes: summary(writes),
        reads: summary(reads),
    })
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
                .map(|(crowd, rng)| local.spawn_local(run::connection(shared.clone(), crowd, rng)))
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

/// Creates the catalog and students unless they exist, and sets everyone's appointment.
async fn setup(addr: SocketAddr, token: &str, options: &Options, run_id: &str) -> Result<(), BenchError> {
    let scenario = options.scenario;
    if scenario == Scenario::Hello {
        return Ok(());
    }
    let failed = |e: &dyn std::fmt::Display| BenchError::Setup(e.to_string());
    let mut conn = http::Connection::open(addr, Some(token))
        .await
        .map_err(|e| failed(&e))?;
    let probe = if scenario == Scenario::LastSeat {
        "/healthz".to_owned()
    } else {
        "/api/v1/sections/RD-00000".into()
    };
    let existing =
        conn.get(&probe, None).await.map_err(|e| failed(&e))?.status == 200 && scenario != Scenario::LastSeat;
    let mut commands = scenario::sections(scenario, &options.shape, run_id);
    if existing {
        commands.clear();
    } else if scenario != Scenario::LastSeat
        || conn
            .get("/api/v1/students/b000000", None)
            .await
            .map_err(|e| failed(&e))?
            .status
            != 200
    {
        commands.extend(scenario::students(&options.shape));
    }
    apply(&mut conn, commands).await?;
    if scenario == Scenario::RegistrationDay {
        let opens_at = SystemTime::now() + options.opens_after;
        apply(&mut conn, scenario::appointments(&options.shape, opens_at)).await?;
    }
    Ok(())
}

async fn apply(conn: &mut http::Connection, commands: Vec<Command>) -> Result<(), BenchError> {
    for chunk in commands.chunks(100) {
        let request = CommandsRequest {
            client: None,
            seq: None,
            commands: chunk.to_vec(),
        };
        let body = Bytes::from(serde_json::to_vec(&request).expect("requests serialize"));
        let answer = conn
            .post_json("/api/v1/commands", body)
            .await
            .map_err(|e| BenchError::Setup(e.to_string()))?;
        if answer.status != 200 {
            let text = String::from_utf8_lossy(&answer.body);
            return Err(BenchError::Setup(format!(
                "status {}: {text} (is --admin-token right?)",
                answer.status
            )));
        }
        let answer: CommandsAnswer =
            serde_json::from_slice(&answer.body).map_err(|e| BenchError::Setup(e.to_string()))?;
        if let Some(r) = answer
            .results
            .iter()
            .find(|r| r.outcome.is_refusal() && r.outcome.kind() != "already_exists")
        {
            return Err(BenchError::Setup(format!(
                "setup refused at lsn {}: {:?}",
                r.lsn, r.outcome
            )));
        }
    }
    Ok(())
}

type HistoryWriter = (
    std::sync::mpsc::Sender<murphy_check::Record>,
    std::thread::JoinHandle<std::io::Result<()>>,
);

/// Streams the history to `path` on its own thread, so recording costs the load little.
fn history_writer(path: PathBuf) -> Result<HistoryWriter, BenchError> {
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

/// A progress bar on the terminal (hidden when stderr is not one), with the rate.
fn progress(shared: Arc<run::Shared>, duration: Duration) -> tokio::task::JoinHandle<()> {
    let bar = indicatif::ProgressBar::new(duration.as_secs().max(1));
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed:>4} [{bar:40}] {pos}/{len} s  {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    tokio::spawn(async move {
        let mut last = 0;
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let sent = shared.sent.load(Relaxed);
            bar.set_position(shared.started.elapsed().as_secs());
            bar.set_message(format!("{} req/s", sent.saturating_sub(last)));
            last = sent;
            if shared.stop.load(Relaxed) {
                break;
            }
        }
    })
}

/// The human summary of a report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let model = match report.model {
        Model::Closed => "closed model".to_owned(),
        Model::Open { rate_per_s } => format!("open model at {rate_per_s} req/s"),
    };
    let _ = writeln!(
        out,
        "murphy bench: {}, {model}, {} connections, {:.1} s\n",
        report.scenario, report.connections, report.elapsed_s
    );
    let _ = writeln!(
        out,
        "{:<7} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "", "requests", "req/s", "cmd/s", "p50 ms", "p90", "p99", "p99.9", "max"
    );
    for (name, summary) in [("writes", &report.writes), ("reads", &report.reads)] {
        let Some(s) = summary else { continue };
        let l = &s.latency_ms;
        let _ = writeln!(
            out,
            "{name:<7} {:>10} {:>10.0} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            s.requests, s.requests_per_s, s.commands_per_s, l.p50, l.p90, l.p99, l.p999, l.max
        );
    }
    for (name, summary) in [("writes", &report.writes), ("reads", &report.reads)] {
        let Some(s) = summary else { continue };
        let outcomes: Vec<String> = s.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(out, "\n{name} outcomes: {}", outcomes.join(", "));
        if !s.errors.is_empty() {
            let errors: Vec<String> = s.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            let _ = writeln!(out, "{name} ERRORS: {}", errors.join(", "));
        }
    }
    let _ = writeln!(
        out,
        "\nerrors: {}",
        if report.errors() == 0 {
            "none".to_owned()
        } else {
            report.errors().to_string()
        }
    );
    out
}

/// Latency percentiles over time and throughput over time, as two SVG files.
pub fn plots(report: &Report, dir: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for (name, summary) in [("writes", &report.writes), ("reads", &report.reads)] {
        let Some(s) = summary else { continue };
        let points =
            |f: &dyn Fn(&stats::Second) -> f64| s.per_second.iter().map(|p| (f64::from(p.second), f(p))).collect();
        let latency = plot::line_plot(
            &format!("{name}: latency over time"),
            "seconds",
            "milliseconds",
            &[
                plot::Series {
                    name: "p50",
                    color: "#1f77b4",
                    points: points(&|p| p.p50_ms),
                },
                plot::Series {
                    name: "p99",
                    color: "#d62728",
                    points: points(&|p| p.p99_ms),
                },
            ],
        );
        let throughput = plot::line_plot(
            &format!("{name}: throughput over time"),
            "seconds",
            "requests per second",
            &[plot::Series {
                name: "req/s",
                color: "#2ca02c",
                points: points(&|p| p.requests as f64),
            }],
        );
        for (kind, svg) in [("latency", latency), ("throughput", throughput)] {
            let path = dir.join(format!("{name}-{kind}.svg"));
            std::fs::write(&path, svg)?;
            written.push(path);
        }
    }
    Ok(written)
}
