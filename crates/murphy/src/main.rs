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

mod address;
mod demo;
mod load;
mod net;
mod serve;

/// See the workspace Cargo.toml: measured cheaper than glibc's for murphy's threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::IsTerminal as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use cli::exit::Status;

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
    Serve(serve::ServeArgs),
    /// Serve a seeded demo catalog (a few dozen sections, a few hundred students).
    Demo {
        #[command(flatten)]
        serve: serve::ServeArgs,
        /// How many demo students to create (with tokens) on first start.
        #[arg(long, default_value_t = 300)]
        students: u32,
    },
    /// Serve the lecture's app.js: `Hello, World!` as text/plain on every path.
    Hello {
        /// Address to listen on: 127.0.0.1:3000, localhost:3000 or a port (port 0 picks
        /// a free port; the address is printed).
        #[arg(long, env = "MURPHY_LISTEN", default_value = "127.0.0.1:3000", value_parser = address::listen)]
        listen: SocketAddr,
    },
    /// Drive a running murphy (or any server, for `hello`) with a load scenario.
    Bench(load::BenchArgs),
    /// Check a `murphy bench --history` file and the server's log against the guarantees.
    Check(load::CheckArgs),
    /// Simulate the lecture's networks: circuit and packet switching, Baran, registration day.
    Net(net::NetArgs),
    /// Replay the whole log and check it against the materialized tables (SQLite's
    /// offline, or a cluster's PostgreSQL while it runs).
    Verify(serve::VerifyArgs),
    /// What murphy's exit statuses mean (`murphy help exit-status`).
    #[command(hide = true, after_help = cli::exit::EXIT_STATUS_HELP)]
    ExitStatus,
    /// The client commands: sections, enroll, watch, admin import, ...
    #[command(flatten)]
    Client(cli::Command),
}

/// Ends with the status of `cli::exit` (`murphy help exit-status`); an error is
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
    let matches = cli::help::finished(Cli::command()).get_matches();
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
            Cmd::Serve(args) => serve::serve(args, None).await.map(done),
            Cmd::Demo { serve: args, students } => serve::serve(args, Some(students)).await.map(done),
            Cmd::Hello { listen } => serve::hello(listen).await.map(done),
            // PostgreSQL's client runs a runtime of its own: off the async threads.
            Cmd::Verify(args) => tokio::task::spawn_blocking(move || serve::verify(args))
                .await?
                .map(done),
            Cmd::Net(args) => net::run(args).map(done),
            Cmd::Bench(args) => load::bench(args).await,
            Cmd::Check(args) => load::check(args).await,
            Cmd::ExitStatus => {
                println!("{}", cli::exit::EXIT_STATUS_HELP);
                Ok(Status::Done)
            }
            Cmd::Client(command) => cli::run(command).await,
        }
    })
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
