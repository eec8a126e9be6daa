//! The client subcommands of `murphy` (`sections`, `enroll`, `watch`, `admin import`,
//! ...): a student's and an admin's command line over HTTP API v1.
//!
//! Reads go through the disk cache (revalidated with `If-None-Match` every time, or
//! answered from the cache with `--max-age`), writes through a `Session` (retried with
//! the same seq, so applied exactly once). Output is sentences by default and JSON with
//! `--json`; every refusal is a sentence (`words.rs`), and makes the exit status 1.

mod import;
mod schedule;
mod words;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use murphy_client::{Cached, CachingClient, Client, Freshness, Session};
use murphy_core::wire::{SectionView, SectionsAnswer};
use murphy_core::{Command as Cmd, Meeting};
use serde_json::json;

use words::{dollars, sentence};

/// Connection and output options, shared by every client subcommand.
#[derive(Args, Clone)]
pub struct Common {
    /// The murphy server.
    #[arg(long, env = "MURPHY_URL", default_value = "http://127.0.0.1:3000")]
    url: String,
    /// A student's token (from `murphy admin token`) or the admin token.
    #[arg(long, env = "MURPHY_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Which student you are (there is no who-am-I endpoint; the token must match).
    #[arg(long, env = "MURPHY_STUDENT")]
    student: Option<String>,
    /// Print JSON for scripts instead of sentences.
    #[arg(long)]
    json: bool,
    /// Answer reads from the cache without asking the server while younger than this.
    #[arg(long, value_name = "SECONDS")]
    max_age: Option<u64>,
}

#[derive(Subcommand)]
pub enum Command {
    /// List sections with their seats (the cached catalog, revalidated).
    Sections {
        #[command(flatten)]
        common: Common,
        /// Only sections whose id or title contains this (any case).
        #[arg(long)]
        search: Option<String>,
    },
    /// Show one section.
    Section {
        #[command(flatten)]
        common: Common,
        id: String,
    },
    /// Enroll in a section (or join its waitlist with --waitlist when it is full).
    Enroll {
        #[command(flatten)]
        common: Common,
        id: String,
        #[arg(long)]
        waitlist: bool,
    },
    /// Drop a section (or leave its waitlist).
    Drop {
        #[command(flatten)]
        common: Common,
        id: String,
    },
    /// Move from one section to another atomically: you keep FROM unless you get TO.
    Swap {
        #[command(flatten)]
        common: Common,
        from: String,
        to: String,
    },
    /// Your week as a grid of your enrolled sections' meetings.
    Schedule {
        #[command(flatten)]
        common: Common,
    },
    /// Your bursar balance (and whether it is a hold).
    Balance {
        #[command(flatten)]
        common: Common,
    },
    /// Pay money into your account.
    Deposit {
        #[command(flatten)]
        common: Common,
        cents: i64,
    },
    /// Take money out (an overdraft costs a $30.00 fee).
    Withdraw {
        #[command(flatten)]
        common: Common,
        cents: i64,
    },
    /// Send money to another student (never overdraws).
    Transfer {
        #[command(flatten)]
        common: Common,
        to: String,
        cents: i64,
    },
    /// Live seat counts of a section, one line per change, until ctrl-c.
    Watch {
        #[command(flatten)]
        common: Common,
        id: String,
    },
    /// Registrar tasks (need the admin token).
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Issue a token for a student.
    Token {
        #[command(flatten)]
        common: Common,
        /// The student the token is for (not `student`: that is `--student`'s name).
        #[arg(value_name = "STUDENT")]
        holder: String,
    },
    /// Create sections from a CSV file: section,title,units,capacity,waitlist_capacity,days,start,end.
    Import {
        #[command(flatten)]
        common: Common,
        file: PathBuf,
    },
}

/// What one invocation works with.
struct Ctx {
    common: Common,
    cache: CachingClient,
}

impl Ctx {
    fn new(common: Common) -> Ctx {
        // `MURPHY_TOKEN=` (empty) means no token, not the token "".
        let token = common.token.clone().filter(|t| !t.is_empty());
        let client = Client::new(common.url.clone(), token);
        Ctx {
            cache: CachingClient::on_disk(client, cache_dir()),
            common,
        }
    }

    fn client(&self) -> &Client {
        self.cache.client()
    }

    fn freshness(&self) -> Freshness {
        match self.common.max_age {
            Some(s) => Freshness::StaleOk {
                max_age: Duration::from_secs(s),
            },
            None => Freshness::Revalidate,
        }
    }

    fn student(&self) -> anyhow::Result<String> {
        self.common
            .student
            .clone()
            .context("which student are you? pass --student ID or set MURPHY_STUDENT")
    }

    /// Turns a client error into a sentence with what to do about it.
    fn explain(&self, e: murphy_client::Error) -> anyhow::Error {
        match e {
            murphy_client::Error::Transport(e) if e.is_connect() => {
                anyhow::anyhow!("cannot reach murphy at {}: is it running? ({e})", self.common.url)
            }
            murphy_client::Error::Problem {
                status: 401, detail, ..
            } => {
                anyhow::anyhow!("{detail} (pass --token or set MURPHY_TOKEN)")
            }
            murphy_client::Error::Problem { detail, .. } => anyhow::anyhow!("{detail}"),
            other => other.into(),
        }
    }
}

/// Runs one client subcommand.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Sections { common, search } => sections(&Ctx::new(common), search).await,
        Command::Section { common, id } => section(&Ctx::new(common), &id).await,
        Command::Schedule { common } => schedule(&Ctx::new(common)).await,
        Command::Balance { common } => balance(&Ctx::new(common)).await,
        Command::Watch { common, id } => watch(&Ctx::new(common), &id).await,
        Command::Admin(AdminCommand::Token { common, holder }) => token(&Ctx::new(common), &holder).await,
        Command::Admin(AdminCommand::Import { common, file }) => import(&Ctx::new(common), &file).await,
        write => {
            let (common, make) = write_command(write);
            let ctx = Ctx::new(common);
            let command = make(ctx.student()?);
            apply(&ctx, vec![command]).await
        }
    }
}

/// The student commands that write: their options, and the command for a student.
fn write_command(command: Command) -> (Common, Box<dyn FnOnce(String) -> Cmd>) {
    match command {
        Command::Enroll { common, id, waitlist } => (
            common,
            Box::new(move |student| Cmd::Enroll {
                student,
                section: id,
                waitlist,
            }),
        ),
        Command::Drop { common, id } => (common, Box::new(move |student| Cmd::Drop { student, section: id })),
        Command::Swap { common, from, to } => (common, Box::new(move |student| Cmd::Swap { student, from, to })),
        Command::Deposit { common, cents } => (
            common,
            Box::new(move |student| Cmd::Deposit {
                student,
                amount_cents: cents,
            }),
        ),
        Command::Withdraw { common, cents } => (
            common,
            Box::new(move |student| Cmd::Withdraw {
                student,
                amount_cents: cents,
            }),
        ),
        Command::Transfer { common, to, cents } => (
            common,
            Box::new(move |from| Cmd::Transfer {
                from,
                to,
                amount_cents: cents,
            }),
        ),
        _ => unreachable!("reads are dispatched in `run`"),
    }
}

/// Sends commands in a fresh session and prints each outcome; refusals exit with 1.
async fn apply(ctx: &Ctx, commands: Vec<Cmd>) -> anyhow::Result<()> {
    let mut session = Session::new(ctx.client().clone());
    let answer = session.send(commands.clone()).await.map_err(|e| ctx.explain(e))?;
    let mut refused = false;
    let mut results = Vec::new();
    for (command, result) in commands.iter().zip(&answer.results) {
        let text = sentence(command, &result.outcome);
        refused |= result.outcome.is_refusal();
        if ctx.common.json {
            results.push(json!({"lsn": result.lsn, "outcome": result.outcome, "message": text}));
        } else {
            println!("{text}");
        }
    }
    if ctx.common.json {
        println!("{}", json!({ "results": results }));
    }
    if refused {
        std::process::exit(1);
    }
    Ok(())
}

async fn sections(ctx: &Ctx, search: Option<String>) -> anyhow::Result<()> {
    let got: Cached<SectionsAnswer> = ctx.cache.sections(ctx.freshness()).await.map_err(|e| ctx.explain(e))?;
    let needle = search.unwrap_or_default().to_lowercase();
    let found: Vec<&SectionView> = got
        .value
        .sections
        .iter()
        .filter(|s| s.id.to_lowercase().contains(&needle) || s.title.to_lowercase().contains(&needle))
        .collect();
    if ctx.common.json {
        println!(
            "{}",
            json!({"version": got.value.version, "sections": found, "cache": cache_json(&got)})
        );
        return Ok(());
    }
    for s in &found {
        println!(
            "{:<16} {:<32} {} units  {:>4}/{:<4} enrolled  {:>3}/{:<3} waitlisted  {}",
            s.id,
            s.title,
            s.units,
            s.enrolled,
            s.capacity,
            s.waitlisted,
            s.waitlist_capacity,
            meetings_text(&s.meetings)
        );
    }
    println!("{} section(s); {}", found.len(), cache_text(&got));
    Ok(())
}

async fn section(ctx: &Ctx, id: &str) -> anyhow::Result<()> {
    let got = ctx
        .cache
        .section(id, ctx.freshness())
        .await
        .map_err(|e| ctx.explain(e))?;
    let s = &got.value;
    if ctx.common.json {
        println!("{}", json!({"section": s, "cache": cache_json(&got)}));
        return Ok(());
    }
    println!("{}  {}  ({} units)", s.id, s.title, s.units);
    let open = s.capacity.saturating_sub(s.enrolled);
    println!(
        "seats: {} of {} taken, {open} open; waitlist: {} of {}",
        s.enrolled, s.capacity, s.waitlisted, s.waitlist_capacity
    );
    println!("meets: {}", meetings_text(&s.meetings));
    println!("version {}; {}", s.version, cache_text(&got));
    Ok(())
}

async fn schedule(ctx: &Ctx) -> anyhow::Result<()> {
    let me = ctx.student()?;
    let fresh = ctx.freshness();
    let student = ctx.cache.student(&me, fresh).await.map_err(|e| ctx.explain(e))?.value;
    let mut rows: Vec<(String, Vec<Meeting>)> = Vec::new();
    for id in &student.enrolled {
        let s = ctx.cache.section(id, fresh).await.map_err(|e| ctx.explain(e))?.value;
        rows.push((s.id, s.meetings));
    }
    if ctx.common.json {
        let sections: Vec<_> = rows.iter().map(|(id, m)| json!({"id": id, "meetings": m})).collect();
        println!(
            "{}",
            json!({"student": me, "enrolled": sections, "waitlisted": student.waitlisted})
        );
        return Ok(());
    }
    print!("{}", schedule::render(&rows));
    println!("{} units enrolled", student.units);
    if !student.waitlisted.is_empty() {
        println!("waitlisted: {}", student.waitlisted.join(", "));
    }
    Ok(())
}

async fn balance(ctx: &Ctx) -> anyhow::Result<()> {
    let me = ctx.student()?;
    let got = ctx
        .cache
        .student(&me, ctx.freshness())
        .await
        .map_err(|e| ctx.explain(e))?;
    let cents = got.value.balance_cents;
    if ctx.common.json {
        println!(
            "{}",
            json!({"student": me, "balance_cents": cents, "hold": cents < 0, "cache": cache_json(&got)})
        );
    } else if cents < 0 {
        println!("your balance is {}: that is a hold; pay it to enroll", dollars(cents));
    } else {
        println!("your balance is {}", dollars(cents));
    }
    Ok(())
}

async fn token(ctx: &Ctx, student: &str) -> anyhow::Result<()> {
    let answer = ctx.client().create_token(student).await.map_err(|e| ctx.explain(e))?;
    if ctx.common.json {
        println!("{}", json!({"student": answer.student, "token": answer.token}));
    } else {
        println!("{}", answer.token);
    }
    Ok(())
}

/// Live seat counts; a dropped stream is resumed from the last event it sent.
async fn watch(ctx: &Ctx, id: &str) -> anyhow::Result<()> {
    let mut last: Option<u64> = None;
    let follow = async {
        loop {
            let mut stream = ctx.client().events(Some(id), last).await.map_err(|e| ctx.explain(e))?;
            loop {
                match stream.next().await {
                    Ok(Some(event)) => print_event(ctx, &event),
                    Ok(None) | Err(_) => break,
                }
                last = stream.last_id();
            }
            eprintln!("(the stream ended; reconnecting)");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    };
    tokio::select! {
        result = follow => result,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

fn print_event(ctx: &Ctx, e: &murphy_core::wire::SectionEvent) {
    if ctx.common.json {
        println!("{}", json!(e));
        return;
    }
    let now = time::OffsetDateTime::now_utc();
    let open = e.capacity.saturating_sub(e.enrolled);
    println!(
        "{:02}:{:02}:{:02}Z {}: {}/{} enrolled, {open} open, {} waitlisted",
        now.hour(),
        now.minute(),
        now.second(),
        e.id,
        e.enrolled,
        e.capacity,
        e.waitlisted
    );
}

/// Checks the whole file and the catalog first, then sends: nothing half-imported.
async fn import(ctx: &Ctx, file: &std::path::Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let commands = match import::parse(&text) {
        Ok(commands) => commands,
        Err(problems) => {
            for p in &problems {
                eprintln!("{}: {p}", file.display());
            }
            bail!(
                "{} bad row(s) in {}; nothing was imported",
                problems.len(),
                file.display()
            );
        }
    };
    let catalog = ctx.client().sections().await.map_err(|e| ctx.explain(e))?;
    let existing: Vec<&str> = commands
        .iter()
        .filter_map(|c| match c {
            Cmd::CreateSection { section, .. } => catalog
                .sections
                .iter()
                .any(|s| s.id == *section)
                .then_some(section.as_str()),
            _ => None,
        })
        .collect();
    if !existing.is_empty() {
        bail!("already exist: {}; nothing was imported", existing.join(", "));
    }
    send_all(ctx, &commands).await
}

/// Sends in requests of `IMPORT_BATCH` commands, in one session, with a progress bar.
async fn send_all(ctx: &Ctx, commands: &[Cmd]) -> anyhow::Result<()> {
    /// The server's default `request_commands_max`.
    const IMPORT_BATCH: usize = 100;
    let bar = if ctx.common.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(commands.len() as u64)
    };
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} sections").expect("a valid template"));
    let mut session = Session::new(ctx.client().clone());
    let mut refused = Vec::new();
    for chunk in commands.chunks(IMPORT_BATCH) {
        let answer = session.send(chunk.to_vec()).await.map_err(|e| ctx.explain(e))?;
        for (command, result) in chunk.iter().zip(&answer.results) {
            if result.outcome.is_refusal() {
                refused.push(sentence(command, &result.outcome));
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    if !refused.is_empty() {
        bail!("{} section(s) refused: {}", refused.len(), refused.join("; "));
    }
    if ctx.common.json {
        println!("{}", json!({"imported": commands.len()}));
    } else {
        println!("imported {} section(s)", commands.len());
    }
    Ok(())
}

fn meetings_text(meetings: &[Meeting]) -> String {
    if meetings.is_empty() {
        return "no meetings".into();
    }
    let parts: Vec<String> = meetings
        .iter()
        .map(|m| format!("{} {}-{}", m.days, m.start, m.end))
        .collect();
    parts.join(", ")
}

fn cache_json<T>(got: &Cached<T>) -> serde_json::Value {
    json!({"source": got.source, "revalidated": got.revalidated(), "age_ms": got.age.as_millis() as u64})
}

/// Says where the answer came from, so a stale one is never mistaken for a fresh one.
fn cache_text<T>(got: &Cached<T>) -> String {
    match got.source {
        murphy_client::Source::Downloaded => "downloaded from the server".into(),
        murphy_client::Source::Revalidated => {
            "revalidated with the server (304 Not Modified, not re-downloaded)".into()
        }
        murphy_client::Source::Cache => format!(
            "from the cache, {}s old (not checked with the server)",
            got.age.as_secs()
        ),
    }
}

/// `MURPHY_CACHE_DIR`, else the platform cache dir (`$XDG_CACHE_HOME` or `~/.cache`) +
/// `murphy`. Done by hand: two variables do not justify another dependency.
fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("MURPHY_CACHE_DIR") {
        return dir.into();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("murphy")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(subcommand)]
        command: super::Command,
    }

    /// clap checks argument names only when a subcommand is built: check them all.
    #[test]
    fn every_subcommand_parses_its_arguments() {
        use clap::CommandFactory;
        Wrapper::command().debug_assert();
        let parsed = Wrapper::try_parse_from(["murphy", "admin", "token", "s1", "--student", "s2"]);
        assert!(parsed.is_ok());
    }
}
