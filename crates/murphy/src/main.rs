//! The `murphy` command: parses arguments and calls the library crates. Nothing else
//! lives here.

mod cli;
/// Prints a line for the operator. A server must not die because whoever started it
/// stopped reading its output (`murphy serve | head -1`), so write errors are ignored,
/// where `println!` would panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod demo;
mod load;
mod net;

/// See the workspace Cargo.toml: measured cheaper than glibc's for murphy's threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use cli::exit::Status;
use murphy_server::{AdminTokenSource, Config, Limits, Server};
use tokio::net::TcpListener;

/// murphy: a course-enrollment server that never overbooks.
///
/// One event loop owns the registrar's state, commits writes in batches with one fsync,
/// and serves reads from durable snapshots. Start it with `murphy serve`, or
/// `murphy demo` for a seeded catalog to play with.
#[derive(Parser)]
#[command(version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the HTTP API v1 over the SQLite database in the data directory.
    Serve(ServeArgs),
    /// Serve a seeded demo catalog (a few dozen sections, a few hundred students).
    Demo {
        #[command(flatten)]
        serve: ServeArgs,
        /// How many demo students to create (with tokens) on first start.
        #[arg(long, default_value_t = 300)]
        students: u32,
    },
    /// Serve the lecture's app.js: `Hello, World!` as text/plain on every path.
    Hello {
        /// Address to listen on (port 0 picks a free port; the address is printed).
        #[arg(long, env = "MURPHY_LISTEN", default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
    },
    /// Drive a running murphy (or any server, for `hello`) with a load scenario.
    Bench(load::BenchArgs),
    /// Check a `murphy bench --history` file and the server's log against the guarantees.
    Check(load::CheckArgs),
    /// Simulate the lecture's networks: circuit and packet switching, Baran, registration day.
    Net(net::NetArgs),
    /// Replay the whole log offline and check it against the materialized tables.
    Verify {
        /// The data directory whose log and tables to check against each other.
        #[arg(long, env = "MURPHY_DATA_DIR", default_value = "./murphy-data")]
        data_dir: PathBuf,
    },
    /// The client commands: sections, enroll, watch, admin import, ...
    #[command(flatten)]
    Client(cli::Command),
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, env = "MURPHY_LISTEN", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Directory holding murphy.sqlite3 and the generated admin token.
    #[arg(long, env = "MURPHY_DATA_DIR", default_value = "./murphy-data")]
    data_dir: PathBuf,
    /// The admin token; without it one is generated into DATA_DIR/admin-token.
    #[arg(long, env = "MURPHY_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Args)]
struct LimitArgs {
    /// Largest request body, in bytes.
    #[arg(long, env = "MURPHY_REQUEST_BODY_BYTES_MAX", default_value_t = Limits::default().request_body_bytes_max)]
    request_body_bytes_max: usize,
    /// Requests queued for the event loop before writes are shed with 503.
    #[arg(long, env = "MURPHY_QUEUE_REQUESTS_MAX", default_value_t = Limits::default().queue_requests_max)]
    queue_requests_max: usize,
    /// How long a write may wait for the event loop before new writes are shed with
    /// 503, in milliseconds.
    #[arg(long, env = "MURPHY_QUEUE_WAIT_TIME_MAX_MS", default_value_t = Limits::default().queue_wait_time_max.as_millis() as u64)]
    queue_wait_time_max_ms: u64,
    /// Commands committed together under one fsync.
    #[arg(long, env = "MURPHY_BATCH_COMMANDS_MAX", default_value_t = Limits::default().batch_commands_max)]
    batch_commands_max: usize,
    /// Open connections at once.
    #[arg(long, env = "MURPHY_CONNECTIONS_MAX", default_value_t = Limits::default().connections_max)]
    connections_max: usize,
    /// Longest a request may take, in milliseconds.
    #[arg(long, env = "MURPHY_REQUEST_TIME_MAX_MS", default_value_t = Limits::default().request_time_max.as_millis() as u64)]
    request_time_max_ms: u64,
    /// How long the materializer gathers changes before writing the tables, in
    /// milliseconds: longer coalesces more writes to one row into one.
    #[arg(long, env = "MURPHY_MATERIALIZER_INTERVAL_MS", default_value_t = Limits::default().materializer_interval.as_millis() as u64)]
    materializer_interval_ms: u64,
    /// Log entries the tables may trail by before writes wait for the materializer.
    #[arg(long, env = "MURPHY_MATERIALIZER_LAG_COMMANDS_MAX", default_value_t = Limits::default().materializer_lag_commands_max)]
    materializer_lag_commands_max: u64,
    /// How long an entry may wait to reach the tables before writes wait, in milliseconds.
    #[arg(long, env = "MURPHY_MATERIALIZER_LAG_TIME_MAX_MS", default_value_t = Limits::default().materializer_lag_time_max.as_millis() as u64)]
    materializer_lag_time_max_ms: u64,
    /// A session unused this long expires (its retries get 409 session_expired), in seconds.
    #[arg(long, env = "MURPHY_SESSION_IDLE_TIME_MAX_S", default_value_t = Limits::default().session_idle_time_max.as_secs())]
    session_idle_time_max_s: u64,
}

impl ServeArgs {
    fn config(&self) -> Config {
        let defaults = Limits::default();
        let l = &self.limits;
        Config {
            data_dir: self.data_dir.clone(),
            admin_token: self.admin_token.clone(),
            limits: Limits {
                request_body_bytes_max: l.request_body_bytes_max,
                queue_requests_max: l.queue_requests_max.max(1),
                queue_wait_time_max: Duration::from_millis(l.queue_wait_time_max_ms),
                batch_commands_max: l.batch_commands_max.max(1),
                connections_max: l.connections_max.max(1),
                request_time_max: Duration::from_millis(l.request_time_max_ms),
                materializer_interval: Duration::from_millis(l.materializer_interval_ms),
                materializer_lag_commands_max: l.materializer_lag_commands_max.max(1),
                materializer_lag_time_max: Duration::from_millis(l.materializer_lag_time_max_ms.max(1)),
                session_idle_time_max: Duration::from_secs(l.session_idle_time_max_s.max(1)),
                ..defaults
            },
        }
    }
}

/// Ends with the status of `cli::exit` (documented in every `--help`); an error is
/// printed as `error: ...` with its causes, never as a backtrace.
fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "murphy=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in a file or a pipe.
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
    let matches = cli::help::with_exit_statuses(Cli::command()).get_matches();
    let args = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match run(args) {
        Ok(status) => status.into(),
        Err(e) => cli::exit::report(&e),
    }
}

fn run(args: Cli) -> anyhow::Result<Status> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let done = |()| Status::Done;
    runtime.block_on(async {
        match args.command {
            Cmd::Serve(args) => serve(args, None).await.map(done),
            Cmd::Demo { serve: args, students } => serve(args, Some(students)).await.map(done),
            Cmd::Hello { listen } => hello(listen).await.map(done),
            Cmd::Verify { data_dir } => verify(data_dir).map(done),
            Cmd::Net(args) => net::run(args).map(done),
            Cmd::Bench(args) => load::bench(args).await,
            Cmd::Check(args) => load::check(args).await,
            Cmd::Client(command) => cli::run(command).await,
        }
    })
}

async fn serve(args: ServeArgs, demo_students: Option<u32>) -> anyhow::Result<()> {
    let config = args.config();
    let data_dir = config.data_dir.clone();
    // The errors of opening name the path, the cause and the fix themselves.
    let server = Server::open(config)?;
    if let Some(students) = demo_students {
        demo::seed(&server, &data_dir, students).await?;
    }
    let listener = bind(args.listen).with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    say!(
        "murphy serving http://{addr}/ (data in {}, log at lsn {})",
        data_dir.display(),
        server.lsn()
    );
    if server.replayed() > 0 {
        // Only after a crash between the log and the tables; worth an operator's eye.
        tracing::warn!(
            "start-up replayed {} log entries past the stored tables",
            server.replayed()
        );
    }
    match server.admin_token_source() {
        AdminTokenSource::Given => say!("admin token: the one given by --admin-token or MURPHY_ADMIN_TOKEN"),
        AdminTokenSource::File(path) | AdminTokenSource::Generated(path) => {
            say!("admin token: in {}", path.display())
        }
    }
    server.serve(listener, shutdown_signal()).await?;
    say!("murphy stopped cleanly");
    Ok(())
}

async fn hello(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = bind(listen).with_context(|| format!("listening on {listen}"))?;
    say!("Server running at http://{}/", listener.local_addr()?);
    murphy_server::hello::serve(listener, shutdown_signal()).await?;
    Ok(())
}

fn verify(data_dir: PathBuf) -> anyhow::Result<()> {
    anyhow::ensure!(
        murphy_store::Sqlite::exists(&data_dir),
        "no murphy database in {}: start `murphy serve --data-dir {}` first, or name the right directory",
        data_dir.display(),
        data_dir.display()
    );
    let store = murphy_store::Sqlite::open(&data_dir)?;
    let verified = murphy_store::verify(&store).context("replaying the log against the tables")?;
    println!(
        "ok: {} log entries replay to their logged outcomes, the tables equal the replay at their lsn {}, \
         and every invariant holds",
        verified.log_lsn, verified.tables_lsn
    );
    Ok(())
}

/// Pending connections the kernel may queue before murphy accepts them. Registration
/// day opens with thousands of connects at the same instant; with the common default
/// of 1024, the rest wait out a one-second SYN retry. The kernel caps it at somaxconn.
const ACCEPT_BACKLOG_CONNECTIONS: u32 = 8192;

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG_CONNECTIONS)
}

/// Resolves on ctrl-c or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    /// Every argument and flag of every subcommand says in `--help` what it is for.
    #[test]
    fn every_argument_has_help() {
        assert_eq!(
            crate::cli::help::undocumented(&super::Cli::command()),
            Vec::<String>::new()
        );
    }
}
