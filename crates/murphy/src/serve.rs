//! `murphy serve`, `murphy demo`, `murphy hello` and `murphy verify`: the server's flags
//! (each also a `MURPHY_*` variable) and the glue to `murphy-server`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use murphy_core::RulesVersion;
use murphy_server::oidc::OidcConfig;
use murphy_server::{AdminTokenSource, Config, Database, Limits, Server};
use tokio::net::TcpListener;

use crate::cli::exit::{failed, usage};
use crate::demo;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on: 127.0.0.1:3000, localhost:3000 or a port (port 0 picks a
    /// free port; the address is printed).
    #[arg(long, env = "MURPHY_LISTEN", default_value = "127.0.0.1:3000", value_parser = crate::address::listen)]
    listen: SocketAddr,
    /// Directory holding the SQLite files (log.sqlite3, tables.sqlite3) and the
    /// generated admin token.
    #[arg(long, env = "MURPHY_DATA_DIR", default_value = "./murphy-data")]
    pub data_dir: PathBuf,
    /// The admin token; without it one is generated into DATA_DIR/admin-token.
    #[arg(long, env = "MURPHY_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// A PostgreSQL database (postgres://user@host:port/db) instead of SQLite: this
    /// node joins the cluster of every murphy serving from it, one primary and any
    /// number of secondaries (needs --admin-token, shared by all).
    #[arg(long, env = "MURPHY_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// The PostgreSQL schema murphy's tables live in (created at first start).
    #[arg(long, env = "MURPHY_DATABASE_SCHEMA", default_value = "murphy")]
    database_schema: String,
    /// With --database: the URL the other nodes reach this one at (default: http://
    /// and the address it listens on).
    #[arg(long, env = "MURPHY_ADVERTISE_URL")]
    advertise_url: Option<String>,
    #[command(flatten)]
    oidc: OidcArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

/// The university's identity provider, for the page's sign-in (OpenID Connect, the
/// authorization code flow with PKCE). Without --oidc-issuer the page signs in with
/// tokens only.
#[derive(Args)]
struct OidcArgs {
    /// The identity provider's issuer URL (https; plain http only on this machine).
    #[arg(long, env = "MURPHY_OIDC_ISSUER", requires_all = ["oidc_client_id", "oidc_client_secret"])]
    oidc_issuer: Option<String>,
    /// murphy's client id at the provider.
    #[arg(long, env = "MURPHY_OIDC_CLIENT_ID")]
    oidc_client_id: Option<String>,
    /// murphy's client secret at the provider.
    #[arg(long, env = "MURPHY_OIDC_CLIENT_SECRET", hide_env_values = true)]
    oidc_client_secret: Option<String>,
    /// The claim whose value is the student's murphy id.
    #[arg(long, env = "MURPHY_OIDC_STUDENT_CLAIM", default_value = "student_id")]
    oidc_student_claim: String,
    /// Who signs in as the registrar: NAME=VALUE (a claim that is, or is a list
    /// holding, VALUE, e.g. groups=registrar) or NAME (a claim that is true).
    #[arg(long, env = "MURPHY_OIDC_ADMIN_CLAIM")]
    oidc_admin_claim: Option<String>,
    /// Scopes asked for besides openid, space-separated.
    #[arg(long, env = "MURPHY_OIDC_SCOPES", default_value = "profile")]
    oidc_scopes: String,
    /// Where the provider sends the browser back (registered with the provider);
    /// default: http://HOST/auth/oidc/callback, HOST as the browser reached murphy.
    #[arg(long, env = "MURPHY_OIDC_REDIRECT_URL")]
    oidc_redirect_url: Option<String>,
}

#[derive(Args)]
struct LimitArgs {
    /// Largest request body, in bytes.
    #[arg(long, env = "MURPHY_REQUEST_BODY_BYTES_MAX", default_value_t = Limits::default().request_body_bytes_max)]
    request_body_bytes_max: usize,
    /// Largest body of a request with the admin token, in bytes: an import sends its
    /// whole file in one command, all or nothing.
    #[arg(long, env = "MURPHY_IMPORT_BODY_BYTES_MAX", default_value_t = Limits::default().import_body_bytes_max)]
    import_body_bytes_max: usize,
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
    /// Open connections at once; past it a new one is answered 503 and closed.
    #[arg(long, env = "MURPHY_CONNECTIONS_MAX", default_value_t = Limits::default().connections_max)]
    connections_max: usize,
    /// Open connections from one address (behind a proxy, all clients share its address).
    #[arg(long, env = "MURPHY_CONNECTIONS_PER_ADDRESS_MAX", default_value_t = Limits::default().connections_per_address_max)]
    connections_per_address_max: usize,
    /// Open connections of one student (tabs, live streams, programs).
    #[arg(long, env = "MURPHY_CONNECTIONS_PER_STUDENT_MAX", default_value_t = Limits::default().connections_per_student_max)]
    connections_per_student_max: usize,
    /// Connections past a limit answered 503 per second; past it they wait in the
    /// kernel's backlog.
    #[arg(long, env = "MURPHY_TURN_AWAY_CONNECTIONS_PER_S_MAX", default_value_t = Limits::default().turn_away_connections_per_s_max)]
    turn_away_connections_per_s_max: u32,
    /// The wait in front of murphy (from a request's arrival on the machine) aimed for,
    /// in milliseconds. While every request waits longer, writes that waited twice this
    /// are shed with 503, reads eight times.
    #[arg(long, env = "MURPHY_SOJOURN_TIME_TARGET_MS", default_value_t = Limits::default().sojourn_time_target.as_millis() as u64)]
    sojourn_time_target_ms: u64,
    /// The interval over which a standing queue is looked for, in milliseconds.
    #[arg(long, env = "MURPHY_SHED_INTERVAL_MS", default_value_t = Limits::default().shed_interval.as_millis() as u64)]
    shed_interval_ms: u64,
    /// A request that waited this long in front of murphy is shed in any case, in
    /// milliseconds.
    #[arg(long, env = "MURPHY_SOJOURN_TIME_MAX_MS", default_value_t = Limits::default().sojourn_time_max.as_millis() as u64)]
    sojourn_time_max_ms: u64,
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
    /// How long stopping may keep trying to write the tables (a full disk, say), in
    /// milliseconds; past it murphy stops anyway, and the next start replays the log.
    #[arg(long, env = "MURPHY_MATERIALIZER_SHUTDOWN_TIME_MAX_MS", default_value_t = Limits::default().materializer_shutdown_time_max.as_millis() as u64)]
    materializer_shutdown_time_max_ms: u64,
    /// With --database: how long the primary's lease lasts unless renewed, in
    /// milliseconds (a stuck primary is deposed after it; a dead one at once).
    #[arg(long, env = "MURPHY_LEASE_TIME_MAX_MS", default_value_t = Limits::default().lease_time_max.as_millis() as u64)]
    lease_time_max_ms: u64,
    /// How long a read with Murphy-Min-Version waits for this node to reach it, in
    /// milliseconds, before it is answered 503.
    #[arg(long, env = "MURPHY_MIN_VERSION_WAIT_TIME_MAX_MS", default_value_t = Limits::default().min_version_wait_time_max.as_millis() as u64)]
    min_version_wait_time_max_ms: u64,
    /// How long a secondary holds a write while no node is the primary (one is taking
    /// over), in milliseconds, before it answers 503 no_primary.
    #[arg(long, env = "MURPHY_PRIMARY_WAIT_TIME_MAX_MS", default_value_t = Limits::default().primary_wait_time_max.as_millis() as u64)]
    primary_wait_time_max_ms: u64,
    /// The waiting room: an admitted student who has not written for this long joins
    /// the line again, in seconds.
    #[arg(long, env = "MURPHY_LINE_ADMITTED_IDLE_TIME_MAX_S", default_value_t = Limits::default().line_admitted_idle_time_max.as_secs())]
    line_admitted_idle_time_max_s: u64,
    /// The waiting room admits fewer students each second while the p90 of the wait in
    /// front of murphy is over this, in milliseconds.
    #[arg(long, env = "MURPHY_LINE_SOJOURN_P90_TIME_MAX_MS", default_value_t = Limits::default().line_sojourn_p90_time_max.as_millis() as u64)]
    line_sojourn_p90_time_max_ms: u64,
    /// The active-student limit of a window the server opens itself under lasting overload.
    #[arg(long, env = "MURPHY_LINE_ACTIVE_STUDENTS_MAX", default_value_t = Limits::default().line_active_students_max)]
    line_active_students_max: u32,
    /// How long overload lasts before the server opens a window itself (and calm, before
    /// it closes it), in seconds.
    #[arg(long, env = "MURPHY_LINE_OVERLOAD_TIME_MIN_S", default_value_t = Limits::default().line_overload_time_min.as_secs())]
    line_overload_time_min_s: u64,
    /// The least a waiter is told to wait before asking again, in seconds.
    #[arg(long, env = "MURPHY_LINE_POLL_TIME_MIN_S", default_value_t = Limits::default().line_poll_time_min.as_secs())]
    line_poll_time_min_s: u64,
    /// The most a waiter is told to wait before asking again, in seconds (a place not
    /// asked for in twice the wait lapses).
    #[arg(long, env = "MURPHY_LINE_POLL_TIME_MAX_S", default_value_t = Limits::default().line_poll_time_max.as_secs())]
    line_poll_time_max_s: u64,
    /// The share of one core the waiting room's polls may take.
    #[arg(long, env = "MURPHY_LINE_POLLS_CPU_SHARE_MAX", default_value_t = Limits::default().line_polls_cpu_share_max)]
    line_polls_cpu_share_max: f64,
    /// The CPU one poll costs, in microseconds (measured: docs/BENCHMARKS.md).
    #[arg(long, env = "MURPHY_LINE_POLL_CPU_TIME_US", default_value_t = Limits::default().line_poll_cpu_time.as_micros() as u64)]
    line_poll_cpu_time_us: u64,
    /// How long a waiting room pass is good for, in seconds.
    #[arg(long, env = "MURPHY_LINE_PASS_TIME_MAX_S", default_value_t = Limits::default().line_pass_time_max.as_secs())]
    line_pass_time_max_s: u64,
    /// Places one registration window may hand out.
    #[arg(long, env = "MURPHY_LINE_TICKETS_MAX", default_value_t = Limits::default().line_tickets_max)]
    line_tickets_max: u64,
    /// Live streams open at once (each holds a connection: keep it under
    /// --connections-max).
    #[arg(long, env = "MURPHY_STREAMS_MAX", default_value_t = Limits::default().streams_max)]
    streams_max: usize,
    /// Live streams one student may hold open at once.
    #[arg(long, env = "MURPHY_STREAMS_PER_OWNER_MAX", default_value_t = Limits::default().streams_per_owner_max)]
    streams_per_owner_max: usize,
    /// Sections one live stream may name.
    #[arg(long, env = "MURPHY_STREAM_SECTIONS_MAX", default_value_t = Limits::default().stream_sections_max)]
    stream_sections_max: usize,
    /// Events one live stream sends per second, at most (latest value per section wins).
    #[arg(long, env = "MURPHY_STREAM_EVENTS_PER_S_MAX", default_value_t = Limits::default().stream_events_per_s_max)]
    stream_events_per_s_max: u32,
    /// Writes to one live stream per second, at most (changes between are coalesced).
    #[arg(long, env = "MURPHY_STREAM_SENDS_PER_S_MAX", default_value_t = Limits::default().stream_sends_per_s_max)]
    stream_sends_per_s_max: u32,
    /// A session unused this long expires (its retries get 409 session_expired), in seconds.
    #[arg(long, env = "MURPHY_SESSION_IDLE_TIME_MAX_S", default_value_t = Limits::default().session_idle_time_max.as_secs())]
    session_idle_time_max_s: u64,
    /// Live sessions one student may hold; a new one past it recycles that student's
    /// least recently used (the registrar has no such share).
    #[arg(long, env = "MURPHY_SESSIONS_PER_OWNER_MAX", default_value_t = Limits::default().sessions_per_owner_max)]
    sessions_per_owner_max: usize,
    /// How long a client may take to send a request's body after its headers, in
    /// milliseconds; past it, 408 and the connection is closed.
    #[arg(long, env = "MURPHY_REQUEST_BODY_TIME_MAX_MS", default_value_t = Limits::default().request_body_time_max.as_millis() as u64)]
    request_body_time_max_ms: u64,
    /// Failed authentications one client address may make per minute; past it, its
    /// authentications are refused 429 unchecked until the rate allows one again.
    #[arg(long, env = "MURPHY_AUTH_FAILURES_PER_ADDRESS_PER_MINUTE_MAX", default_value_t = Limits::default().auth_failures_per_address_per_minute_max)]
    auth_failures_per_address_per_minute_max: u32,
    /// How long the page's sign-in (its session cookie) lasts, in seconds.
    #[arg(long, env = "MURPHY_SIGN_IN_TIME_MAX_S", default_value_t = Limits::default().sign_in_time_max.as_secs())]
    sign_in_time_max_s: u64,
    /// The newest rules version this node knows, as if it were an older release: how
    /// the rolling-upgrade tests run an old node from this build. Hidden: no operator
    /// needs it.
    #[arg(long, env = "MURPHY_RULES_VERSION_MAX", hide = true, default_value_t = RulesVersion::LATEST.number())]
    pub rules_version_max: u32,
}

impl ServeArgs {
    pub fn config(&self) -> Config {
        let defaults = Limits::default();
        let l = &self.limits;
        Config {
            data_dir: self.data_dir.clone(),
            admin_token: self.admin_token.clone(),
            limits: Limits {
                request_body_bytes_max: l.request_body_bytes_max,
                import_body_bytes_max: l.import_body_bytes_max.max(l.request_body_bytes_max),
                queue_requests_max: l.queue_requests_max.max(1),
                queue_wait_time_max: Duration::from_millis(l.queue_wait_time_max_ms),
                batch_commands_max: l.batch_commands_max.max(1),
                connections_max: l.connections_max.max(1),
                connections_per_address_max: l.connections_per_address_max.max(1),
                connections_per_student_max: l.connections_per_student_max.max(1),
                turn_away_connections_per_s_max: l.turn_away_connections_per_s_max.max(1),
                sojourn_time_target: Duration::from_millis(l.sojourn_time_target_ms),
                shed_interval: Duration::from_millis(l.shed_interval_ms.max(1)),
                sojourn_time_max: Duration::from_millis(l.sojourn_time_max_ms),
                request_time_max: Duration::from_millis(l.request_time_max_ms),
                materializer_interval: Duration::from_millis(l.materializer_interval_ms),
                materializer_lag_commands_max: l.materializer_lag_commands_max.max(1),
                materializer_lag_time_max: Duration::from_millis(l.materializer_lag_time_max_ms.max(1)),
                materializer_shutdown_time_max: Duration::from_millis(l.materializer_shutdown_time_max_ms),
                session_idle_time_max: Duration::from_secs(l.session_idle_time_max_s.max(1)),
                line_admitted_idle_time_max: Duration::from_secs(l.line_admitted_idle_time_max_s.max(1)),
                line_sojourn_p90_time_max: Duration::from_millis(l.line_sojourn_p90_time_max_ms),
                line_active_students_max: l.line_active_students_max.clamp(1, murphy_core::line::LINE_ACTIVE_MAX),
                line_overload_time_min: Duration::from_secs(l.line_overload_time_min_s.max(1)),
                line_poll_time_min: Duration::from_secs(l.line_poll_time_min_s.max(1)),
                line_poll_time_max: Duration::from_secs(l.line_poll_time_max_s.max(l.line_poll_time_min_s).max(1)),
                line_polls_cpu_share_max: l.line_polls_cpu_share_max.clamp(1e-4, 1.0),
                line_poll_cpu_time: Duration::from_micros(l.line_poll_cpu_time_us),
                line_pass_time_max: Duration::from_secs(l.line_pass_time_max_s.max(60)),
                line_tickets_max: l.line_tickets_max.clamp(1, murphy_core::line::LINE_TICKETS_MAX),
                sessions_per_owner_max: l.sessions_per_owner_max.max(1),
                request_body_time_max: Duration::from_millis(l.request_body_time_max_ms.max(1)),
                auth_failures_per_address_per_minute_max: l.auth_failures_per_address_per_minute_max.max(1),
                sign_in_time_max: Duration::from_secs(l.sign_in_time_max_s.max(1)),
                lease_time_max: Duration::from_millis(l.lease_time_max_ms.max(4)),
                min_version_wait_time_max: Duration::from_millis(l.min_version_wait_time_max_ms),
                primary_wait_time_max: Duration::from_millis(l.primary_wait_time_max_ms),
                streams_max: l.streams_max,
                streams_per_owner_max: l.streams_per_owner_max.max(1),
                stream_sections_max: l.stream_sections_max.max(1),
                stream_events_per_s_max: l.stream_events_per_s_max.max(1),
                stream_sends_per_s_max: l.stream_sends_per_s_max.max(1),
                rules_version_max: known_rules(l.rules_version_max),
                ..defaults
            },
            database: self.database.clone().map(|url| Database {
                url,
                schema: self.database_schema.clone(),
                advertise_url: self.advertise_url.clone(),
            }),
            oidc: self.oidc.oidc_issuer.clone().map(|issuer| OidcConfig {
                issuer,
                client_id: self.oidc.oidc_client_id.clone().unwrap_or_default(),
                client_secret: self.oidc.oidc_client_secret.clone().unwrap_or_default(),
                student_claim: self.oidc.oidc_student_claim.clone(),
                admin_claim: self.oidc.oidc_admin_claim.clone(),
                scopes: self.oidc.oidc_scopes.clone(),
                redirect_url: self.oidc.oidc_redirect_url.clone(),
            }),
        }
    }
}

pub async fn serve(args: ServeArgs, demo_students: Option<u32>) -> anyhow::Result<()> {
    let config = args.config();
    let data_dir = config.data_dir.clone();
    // Bound before anything is opened: a start that cannot listen creates no data
    // directory. Connections that come before the server runs wait in the backlog.
    let listener = bind(args.listen)?;
    // The errors of opening name the path, the cause and the fix themselves. Opening
    // blocks (a database's client runs its own runtime): off the async threads.
    let server = tokio::task::spawn_blocking(move || Server::open(config)).await??;
    if let Some(students) = demo_students
        && let Err(e) = demo::seed(&server, &data_dir, students).await
    {
        discard(server).await;
        return Err(e);
    }
    let addr = listener.local_addr()?;
    match &args.database {
        None => say!(
            "murphy serving http://{addr}/ (data in {}, log at lsn {})",
            data_dir.display(),
            server.lsn()
        ),
        Some(_) => say!(
            "murphy serving http://{addr}/ (a node of the cluster on PostgreSQL schema {}, log at lsn {}; \
             its role is logged once it has looked at the primary's lease)",
            args.database_schema,
            server.lsn()
        ),
    }
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

/// Drops a server that will not serve off the async threads: a PostgreSQL client owns
/// a runtime of its own, which may not be dropped inside another one.
async fn discard(server: Server) {
    let _ = tokio::task::spawn_blocking(move || drop(server)).await;
}

pub async fn hello(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = bind(listen)?;
    say!("Server running at http://{}/", listener.local_addr()?);
    murphy_server::hello::serve(listener, shutdown_signal()).await?;
    Ok(())
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The data directory whose log and tables to check against each other.
    #[arg(long, env = "MURPHY_DATA_DIR", default_value = "./murphy-data")]
    data_dir: PathBuf,
    /// A cluster's PostgreSQL database (postgres://user@host:port/db) instead of the
    /// data directory: its log and tables are checked while the nodes run.
    #[arg(long, env = "MURPHY_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// With --database: the schema murphy's tables live in.
    #[arg(long, env = "MURPHY_DATABASE_SCHEMA", default_value = "murphy")]
    database_schema: String,
    /// The newest rules version to replay under, as an older release would (hidden).
    #[arg(long, env = "MURPHY_RULES_VERSION_MAX", hide = true, default_value_t = RulesVersion::LATEST.number())]
    rules_version_max: u32,
}

/// The rules a capped node knows: at least version 1, at most this build's newest.
pub fn known_rules(max: u32) -> RulesVersion {
    RulesVersion::new(max).clamp(RulesVersion::V1, RulesVersion::LATEST)
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let (store, place): (Box<dyn murphy_store::Backend>, String) = match &args.database {
        Some(url) => {
            let options = murphy_store::PostgresOptions {
                schema: args.database_schema.clone(),
                ..murphy_store::PostgresOptions::default()
            };
            let store = murphy_store::Postgres::connect(url, options)?;
            if store.log_end()? == 0 {
                return Err(usage(format!(
                    "the schema {} holds no log entries: is --database-schema the one the nodes serve from?",
                    args.database_schema
                )));
            }
            (Box::new(store), format!("PostgreSQL schema {}", args.database_schema))
        }
        None => {
            let data_dir = &args.data_dir;
            anyhow::ensure!(
                murphy_store::Sqlite::exists(data_dir),
                "no murphy database in {}: start `murphy serve --data-dir {}` first, or name the right directory",
                data_dir.display(),
                data_dir.display()
            );
            (
                Box::new(murphy_store::Sqlite::open(data_dir)?),
                data_dir.display().to_string(),
            )
        }
    };
    let verified = murphy_store::verify(&*store, known_rules(args.rules_version_max))
        .context("replaying the log against the tables")?;
    println!(
        "ok ({place}): {} log entries replay to their logged outcomes, the tables equal the replay at \
         their lsn {}, and every invariant holds",
        verified.log_lsn, verified.tables_lsn
    );
    Ok(())
}

/// Pending connections the kernel may queue before murphy accepts them. Registration
/// day opens with thousands of connects at the same instant; with the common default
/// of 1024, the rest wait out a one-second SYN retry. The kernel caps it at somaxconn.
const ACCEPT_BACKLOG_CONNECTIONS: u32 = 8192;

/// Listens on `addr`; an address in use is said with what to do about it.
fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    listen(addr).map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => failed(format!(
            "another process listens on {addr}: stop it, or pass --listen (or set MURPHY_LISTEN) \
             with another address"
        )),
        _ => anyhow::Error::new(e).context(format!("listening on {addr}")),
    })
}

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
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
pub async fn shutdown_signal() {
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
