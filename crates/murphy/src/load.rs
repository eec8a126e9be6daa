//! `murphy bench` and `murphy check`: their flags, and the glue to the `murphy-bench`
//! and `murphy-check` crates.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use murphy_bench::{Model, OnShed, Options, RoomShape, Scenario, Shape};

use crate::cli::exit::{Status, failed, refused, usage};

#[derive(Clone, Copy, ValueEnum)]
pub enum ModelArg {
    /// Each connection sends its next request when the last one is answered.
    Closed,
    /// Requests are due at --rate per second; latency counts from when each was due.
    Open,
}

#[derive(Args)]
pub struct BenchArgs {
    /// The server to drive; several, comma-separated (the nodes of a cluster), spread the
    /// connections over them, each moving on to the next when its node cannot be reached.
    #[arg(long, env = "MURPHY_URL", default_value = "http://127.0.0.1:3000", value_parser = crate::address::server_urls)]
    url: String,
    /// murphy's admin token (the scenario is set up and played through it).
    #[arg(long, env = "MURPHY_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// What the simulated users do.
    #[arg(long, value_enum, default_value = "registration-day")]
    scenario: Scenario,
    /// When each connection sends its next request.
    #[arg(long, value_enum, default_value = "closed")]
    model: ModelArg,
    /// Requests per second in total, for --model open.
    #[arg(long, default_value_t = 10_000.0)]
    rate: f64,
    /// Simulated clients, each on its own HTTP/1.1 connection.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Threads to spread the connections over (each runs its own event loop). One
    /// leaves the most of a small machine to the server it measures.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// How long to drive the load, in seconds.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Stop after this many requests (retries not counted); without it, at --duration.
    #[arg(long)]
    requests_max: Option<u64>,
    /// Run over the students and sections an earlier run left on the server (their
    /// seats taken by it), adding what is missing, instead of refusing to.
    #[arg(long)]
    reuse: bool,
    /// Students in the scenario (b000000, b000001, ...).
    #[arg(long, default_value_t = 4000)]
    students: usize,
    /// Sections in the scenario (RD-00000, ...), seated for --students.
    #[arg(long, default_value_t = 200)]
    sections: usize,
    /// The most popular sections, oversubscribed tenfold.
    #[arg(long, default_value_t = 5)]
    hot: usize,
    /// Seats of the one section of --scenario last-seat.
    #[arg(long, default_value_t = 10)]
    seats: u32,
    /// Sections on each student's preference list.
    #[arg(long, default_value_t = 5)]
    preferences: usize,
    /// Revalidate reads with If-None-Match (--scenario reads).
    #[arg(long)]
    etag: bool,
    /// A request unanswered this long is retried with the same session seq.
    #[arg(long, default_value_t = 5000)]
    timeout_ms: u64,
    /// Retries of one write after its first attempt (same seq, honouring Retry-After,
    /// backing off from 50 ms to 2 s). Without it: for as long as the run lasts. A
    /// write given up ends its session; the student goes on in a new one.
    #[arg(long)]
    retries: Option<u32>,
    /// How students answer a 503: `honour` its Retry-After (plus up to half again at
    /// random) and throttle themselves as murphy's clients do, or `retry-at-once`.
    #[arg(long, value_enum, default_value_t = OnShed::Honour)]
    on_503: OnShed,
    /// --scenario waiting-room: admitted students active at once, at most (the
    /// window's limit); --connections bounds the requests in flight.
    #[arg(long, default_value_t = 2000)]
    active_max: u32,
    /// --scenario waiting-room: the share of students who stop asking before they are
    /// admitted, 0 to 1.
    #[arg(long, default_value_t = 0.2)]
    abandon: f64,
    /// --scenario waiting-room: arrivals spread over this many seconds, centred on the
    /// opening (--opens-after-ms after setup); --duration is how long after the
    /// opening students keep waiting.
    #[arg(long, default_value_t = 10.0)]
    arrive_within_s: f64,
    /// Seed of the simulated users' choices: the same seed plays the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Registration opens this long after setup, in milliseconds.
    #[arg(long, default_value_t = 500)]
    opens_after_ms: u64,
    /// Students who behave like browsers, besides the writers: each reads a catalog
    /// page (5 neighbouring sections) and watches them live until the run ends,
    /// connected before the writes start. The report gives the delay from a commit to
    /// its event, events and bytes per watcher, and the server's CPU time. Needs the
    /// server's --streams-max and --connections-max above it, and `ulimit -n` above it
    /// here and there.
    #[arg(long, default_value_t = 0)]
    watchers: usize,
    /// Write everything into this directory: history.jsonl, report.json and plots/
    /// (the three flags below pick other places).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Record every request here (JSON lines) for `murphy check`.
    #[arg(long)]
    history: Option<PathBuf>,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write SVG plots (latency and throughput over time) into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
}

pub async fn bench(args: BenchArgs) -> anyhow::Result<Status> {
    let options = options(&args)?;
    let in_out = |name: &str| args.out.as_ref().map(|dir| dir.join(name));
    let json = args.json.clone().or_else(|| in_out("report.json"));
    let plot = args.plot.clone().or_else(|| in_out("plots"));
    let options = Options {
        history: args.history.clone().or_else(|| in_out("history.jsonl")),
        ..options
    };
    print!("{}", murphy_bench::header(&options));
    std::io::stdout().flush()?;
    if options.scenario == Scenario::WaitingRoom {
        return waiting_room(options, json.as_deref()).await;
    }
    let report = murphy_bench::run(options).await.map_err(|e| match e {
        murphy_bench::BenchError::Reused(said) => usage(said),
        e => e.into(),
    })?;
    print!("{}", murphy_bench::render(&report));
    if let Some(path) = &json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(dir) = &plot {
        for path in murphy_bench::plots(&report, dir).with_context(|| format!("writing plots to {}", dir.display()))? {
            println!("plot: {}", path.display());
        }
    }
    if report.failures() > 0 {
        return Err(failed(format!(
            "{} requests were never answered (see above)",
            report.failures()
        )));
    }
    Ok(Status::Done)
}

/// `murphy bench --scenario waiting-room`: the line's measures, and the JSON report.
async fn waiting_room(options: Options, json: Option<&std::path::Path>) -> anyhow::Result<Status> {
    let report = murphy_bench::waiting_room(options).await.map_err(|e| match e {
        murphy_bench::BenchError::Reused(said) => usage(said),
        e => e.into(),
    })?;
    print!("{}", murphy_bench::render_room(&report));
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if report.double_admissions > 0 || report.order_inversions > 0 {
        return Err(failed(format!(
            "{} double admissions and {} students admitted out of line order (see above)",
            report.double_admissions, report.order_inversions
        )));
    }
    Ok(Status::Done)
}

/// The library's options from the flags, or a usage error naming the flag.
fn options(args: &BenchArgs) -> anyhow::Result<Options> {
    let ensure = |ok: bool, what: &str| if ok { Ok(()) } else { Err(usage(what.to_owned())) };
    ensure(args.connections > 0, "--connections must be at least 1")?;
    ensure(
        args.duration > 0.0 && args.duration <= 3600.0,
        "--duration is 0 to 3600 seconds",
    )?;
    let model = match args.model {
        ModelArg::Closed => Model::Closed,
        ModelArg::Open => {
            ensure(args.rate > 0.0, "--rate must be positive")?;
            Model::Open { rate_per_s: args.rate }
        }
    };
    if args.scenario != Scenario::Hello {
        ensure(
            args.admin_token.is_some(),
            "this scenario needs --admin-token (or MURPHY_ADMIN_TOKEN)",
        )?;
        ensure(
            args.students >= args.connections,
            "--students must be at least --connections",
        )?;
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(Options {
        url: args.url.clone(),
        admin_token: args.admin_token.clone(),
        scenario: args.scenario,
        model,
        connections: args.connections,
        threads: args.threads.max(1),
        duration: Duration::from_secs_f64(args.duration),
        requests_max: args.requests_max.unwrap_or(u64::MAX),
        shape: Shape {
            students: args.students,
            sections: args.sections.max(1),
            hot: args.hot,
            seats: args.seats,
            preferences: args.preferences.clamp(1, args.sections.max(1)),
        },
        timeout: Duration::from_millis(args.timeout_ms),
        retries_max: args.retries,
        on_shed: args.on_503,
        room: RoomShape {
            active_max: args.active_max.max(1),
            abandon_share: args.abandon.clamp(0.0, 1.0),
            arrive_within: Duration::from_secs_f64(args.arrive_within_s.clamp(0.0, 3600.0)),
        },
        etag: args.etag,
        seed: args.seed,
        opens_after: Duration::from_millis(args.opens_after_ms),
        history: None,
        watchers: args.watchers,
        reuse: args.reuse,
    })
}

#[derive(Args)]
pub struct CheckArgs {
    /// The history `murphy bench --history` (or `--out DIR`: DIR/history.jsonl) recorded.
    #[arg(long)]
    history: PathBuf,
    /// The server whose log to check against (http:// when left out).
    #[arg(long, env = "MURPHY_URL", default_value = "http://127.0.0.1:3000", value_parser = crate::address::server_url)]
    url: String,
    /// murphy's admin token: only the admin may read the log.
    #[arg(long, env = "MURPHY_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Write the report as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
}

pub async fn check(args: CheckArgs) -> anyhow::Result<Status> {
    let file = std::fs::File::open(&args.history)
        .map_err(|e| usage(format!("cannot open the history {}: {e}", args.history.display())))?;
    let history = murphy_check::history::read(std::io::BufReader::new(file))
        .map_err(|e| usage(format!("{} is not a murphy bench history: {e}", args.history.display())))?;
    let client = murphy_client::Client::new(&args.url, args.admin_token);
    let log = client
        .full_log()
        .await
        .context("fetching the server's log (is --admin-token right?)")?;
    murphy_check::same_server(&history, &log).map_err(usage)?;
    let report = murphy_check::check(&history, &log);
    println!("{report}");
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if !report.is_clean() {
        return Err(refused("the history and the log break murphy's guarantees (see above)"));
    }
    Ok(Status::Done)
}
