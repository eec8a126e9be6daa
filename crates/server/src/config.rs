//! Every limit of the server in one place, each named with its unit last. The binary
//! turns flags and `MURPHY_*` variables into a `Config`; tests build one directly.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request body accepted; larger ones get `413`.
    pub request_body_bytes_max: usize,
    /// Largest body of the registrar's `POST /api/v1/commands` (the admin token): an
    /// `import` carries a whole file in one command, all or nothing, so it cannot be
    /// split to fit `request_body_bytes_max`. Others stay held to that.
    pub import_body_bytes_max: usize,
    /// Commands in one `POST /api/v1/commands`.
    pub request_commands_max: usize,
    /// Requests waiting for the event loop; when full, new writes get `503`.
    pub queue_requests_max: usize,
    /// How long a write may wait for the event loop. While the last write it took had
    /// waited longer, new writes are shed with `503` at once instead of joining a queue
    /// they would wait in for longer still: overload is decided by time, not only by
    /// count.
    pub queue_wait_time_max: Duration,
    /// Commands applied and committed together under one fsync.
    pub batch_commands_max: usize,
    /// Batches applied but not yet durable: how far the loop may run ahead of the disk.
    pub pipeline_batches_max: usize,
    /// Open client connections; past it a new one is answered `503` and closed (within
    /// `turn_away_connections_per_s_max`; past that, it waits in the kernel's backlog).
    pub connections_max: usize,
    /// Open connections from one address: one address holding connections exhausts
    /// only this share. (Behind a proxy every client has the proxy's address.)
    pub connections_per_address_max: usize,
    /// Open connections of one student (counted once a request on it authenticates as
    /// the student; a live stream holds one).
    pub connections_per_student_max: usize,
    /// Connections refused with an answer per second; past it, refused connections wait
    /// in the kernel's backlog instead of costing CPU.
    pub turn_away_connections_per_s_max: u32,
    /// The wait in front of murphy (from a request's arrival on the machine to murphy
    /// starting on it) the front door aims for. When every request of a
    /// `shed_interval` waited longer, a queue stands: writes that waited over twice
    /// this are shed, reads over eight times.
    pub sojourn_time_target: Duration,
    /// The interval over which the front door looks for a standing queue.
    pub shed_interval: Duration,
    /// A request that waited this long in front of murphy is shed in any case, standing
    /// queue or not. The detector of a standing queue is blind while a few requests
    /// slip through quickly (one in eight did, in the capped overload bench), and a
    /// write admitted after a long wait waits about as long again for its answer,
    /// behind the same connections. docs/BENCHMARKS.md: at 100 ms the answered writes'
    /// p99 from their send was 0.27 s against 0.95 s at 500 ms, at about the same
    /// goodput; at 50 ms 0.13 s, but a quarter fewer writes answered. The default stays
    /// 500 ms: at 100 ms a single stall with no overload behind it (a busy machine, a
    /// large import parsed on the runtime) shed requests that would have been answered
    /// (schemathesis against a debug build saw one). Registration day's operator sets
    /// 100 (`--sojourn-time-max-ms`; docs/OPERATIONS.md).
    pub sojourn_time_max: Duration,
    /// The range the `Retry-After` of a shed request is drawn from, in whole seconds:
    /// jitter, so clients refused together do not return together.
    pub retry_after_time_min: Duration,
    pub retry_after_time_max: Duration,
    /// A connection with no bytes in or out for this long is closed.
    pub connection_idle_time_max: Duration,
    /// Time a client may take to send a request's headers (a trickling client is cut off).
    pub header_read_time_max: Duration,
    /// Time from a request's arrival to its answer; past it, `503`.
    pub request_time_max: Duration,
    /// How long a session request that arrived ahead of a missing `seq` is held.
    pub session_gap_hold_max: Duration,
    /// Session requests held for missing predecessors, over all clients.
    pub held_requests_max: usize,
    /// Entries one `GET /api/v1/log` returns.
    pub log_entries_max: u64,
    /// Live streams open at once (each holds a connection); past it, `503`.
    pub streams_max: usize,
    /// Live streams one student may hold open at once (tabs, devices); past it, `429`.
    /// The registrar's token is not held to it.
    pub streams_per_owner_max: usize,
    /// Sections one stream may name in `?sections=` (the student's own come on top).
    pub stream_sections_max: usize,
    /// Events one stream sends per second, at most (a burst of as many after a quiet
    /// second). Each section's latest value waits its turn; older ones are never sent.
    pub stream_events_per_s_max: u32,
    /// Writes to one stream's connection per second, at most: changes in between are
    /// coalesced, latest value wins.
    pub stream_sends_per_s_max: u32,
    /// How long a stream ticket is good for, unused.
    pub stream_ticket_time_max: Duration,
    /// Stream tickets outstanding at once; past it, `503`.
    pub stream_tickets_max: usize,
    /// Memory for the catalog's answers kept made and compressed (pages and the whole
    /// catalog, by content); past it the oldest are dropped and made again on demand.
    pub catalog_bodies_bytes_max: usize,
    /// How long the materializer gathers durable changes before writing them to the
    /// tables: the longer, the more changes to one row are coalesced into one write.
    pub materializer_interval: Duration,
    /// Log entries the tables may trail by; past it, appends (and answers) wait.
    pub materializer_lag_commands_max: u64,
    /// How long an entry may wait in the log before it is in the tables; past it,
    /// appends (and answers) wait.
    pub materializer_lag_time_max: Duration,
    /// How long stopping may keep trying to write the tables (a full disk, say) before
    /// it gives up: the log holds everything, and the next start replays it.
    pub materializer_shutdown_time_max: Duration,
    /// A session unused this long expires; its requests get `409 session_expired`.
    pub session_idle_time_max: Duration,
    /// How long an expired session is still refused before its id is forgotten.
    pub session_expired_time_max: Duration,
    /// Sessions kept, live and expired; past it, new sessions get `503`.
    pub sessions_max: usize,
    /// The waiting room (`line`): an admitted student who has not written for this
    /// long loses the admission and joins the line again.
    pub line_admitted_idle_time_max: Duration,
    /// The admission control loop keeps the p90 of the sojourn (the wait in front of
    /// murphy) under this: over it, fewer students are admitted each second.
    pub line_sojourn_p90_time_max: Duration,
    /// The active-student limit of a window the server opens itself.
    pub line_active_students_max: u32,
    /// A standing queue lasting this long opens a window by itself (students already
    /// writing go on; newcomers wait in line); calm this long, with nobody waiting,
    /// closes it again.
    pub line_overload_time_min: Duration,
    /// The range of `next_poll_after`: never sooner than the min; never later than the
    /// max, and later the longer the line, so polls stay within their CPU share.
    pub line_poll_time_min: Duration,
    pub line_poll_time_max: Duration,
    /// The share of one core the line's polls may take, with each poll taken to cost
    /// `line_poll_cpu_time` (measured: docs/BENCHMARKS.md).
    pub line_polls_cpu_share_max: f64,
    pub line_poll_cpu_time: Duration,
    /// How long a pass is good for, however long its holder waits.
    pub line_pass_time_max: Duration,
    /// Tickets one window may hand out: the memory the line may take is bounded by it.
    pub line_tickets_max: u64,
    /// Live sessions one student holds; a new one past it recycles that student's
    /// least recently used (the registrar has no such share).
    pub sessions_per_owner_max: usize,
    /// How long a client may take to send a request's body once its headers are in;
    /// past it, `408` and the connection is closed.
    pub request_body_time_max: Duration,
    /// Failed authentications (a wrong token) one address may make per minute; past it,
    /// every authentication from that address is refused `429` without being checked,
    /// until the rate allows one again.
    pub auth_failures_per_address_per_minute_max: u32,
    /// Addresses whose failed authentications are remembered; past it, new addresses
    /// share one allowance.
    pub auth_failure_addresses_max: usize,
    /// How long the page's sign-in (its session cookie) lasts.
    pub sign_in_time_max: Duration,
    /// Requests per session whose answers a retry can still get.
    pub session_requests_remembered_max: usize,
    /// In a cluster: how long the primary's lease lasts unless renewed (it is renewed
    /// every quarter of it). A stuck primary is deposed after this; a dead one at once.
    pub lease_time_max: Duration,
    /// How long a read that asks for a minimum version (`Murphy-Min-Version`) waits for
    /// this node to reach it before it is answered `503`.
    pub min_version_wait_time_max: Duration,
    /// How long a secondary holds a write while no node is the primary (one is taking
    /// over) before it answers `503 no_primary`. A take-over takes up to
    /// `lease_time_max` and a little: twice that rides it out.
    pub primary_wait_time_max: Duration,
    /// The newest rules version this node decides under, replays and lets the cluster
    /// be upgraded to: `RulesVersion::LATEST`, unless capped (a test runs an older
    /// release's node this way). A log past it is refused at start.
    pub rules_version_max: murphy_core::RulesVersion,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_body_bytes_max: 64 * 1024,
            // 20,000 sections of about 400 bytes each: core's `IMPORT_ROWS_MAX`.
            import_body_bytes_max: 16 << 20,
            request_commands_max: 100,
            queue_requests_max: 4096,
            queue_wait_time_max: Duration::from_millis(20),
            batch_commands_max: 1024,
            pipeline_batches_max: 64,
            connections_max: 4096,
            connections_per_address_max: 2048,
            connections_per_student_max: 16,
            turn_away_connections_per_s_max: 1000,
            sojourn_time_target: Duration::from_millis(5),
            shed_interval: Duration::from_millis(100),
            sojourn_time_max: Duration::from_millis(500),
            retry_after_time_min: Duration::from_secs(1),
            retry_after_time_max: Duration::from_secs(3),
            connection_idle_time_max: Duration::from_secs(60),
            header_read_time_max: Duration::from_secs(10),
            request_time_max: Duration::from_secs(10),
            session_gap_hold_max: Duration::from_millis(500),
            held_requests_max: 1024,
            log_entries_max: 10_000,
            catalog_bodies_bytes_max: 64 << 20,
            streams_max: 2048,
            streams_per_owner_max: 4,
            stream_sections_max: 200,
            stream_events_per_s_max: 20,
            stream_sends_per_s_max: 4,
            stream_ticket_time_max: Duration::from_secs(30),
            stream_tickets_max: 10_000,
            materializer_interval: Duration::from_millis(500),
            materializer_lag_commands_max: 200_000,
            materializer_lag_time_max: Duration::from_secs(10),
            materializer_shutdown_time_max: Duration::from_secs(10),
            session_idle_time_max: Duration::from_secs(3600),
            session_expired_time_max: Duration::from_secs(24 * 3600),
            sessions_max: 200_000,
            sessions_per_owner_max: 64,
            request_body_time_max: Duration::from_secs(10),
            auth_failures_per_address_per_minute_max: 60,
            auth_failure_addresses_max: 10_000,
            sign_in_time_max: Duration::from_secs(12 * 3600),
            session_requests_remembered_max: 16,
            line_admitted_idle_time_max: Duration::from_secs(300),
            line_sojourn_p90_time_max: Duration::from_millis(10),
            line_active_students_max: 2000,
            line_overload_time_min: Duration::from_secs(10),
            line_poll_time_min: Duration::from_secs(2),
            line_poll_time_max: Duration::from_secs(60),
            line_polls_cpu_share_max: 0.05,
            line_poll_cpu_time: Duration::from_micros(40),
            line_pass_time_max: Duration::from_secs(12 * 3600),
            line_tickets_max: 200_000,
            lease_time_max: Duration::from_secs(1),
            min_version_wait_time_max: Duration::from_secs(1),
            primary_wait_time_max: Duration::from_secs(2),
            rules_version_max: murphy_core::RulesVersion::LATEST,
        }
    }
}

impl Limits {
    /// The largest body any caller may send (the registrar's, with an import): what
    /// the layers after `guard`, which has held each body to its caller's limit, allow.
    pub(crate) fn body_bytes_max_largest(&self) -> usize {
        self.request_body_bytes_max.max(self.import_body_bytes_max)
    }

    /// The session table's limits, in the log's time.
    pub fn sessions(&self) -> murphy_core::SessionLimits {
        let span = |d: Duration| time::Duration::try_from(d).unwrap_or(time::Duration::MAX);
        murphy_core::SessionLimits {
            idle_time_max: span(self.session_idle_time_max),
            expired_time_max: span(self.session_expired_time_max),
            sessions_max: self.sessions_max,
            sessions_per_owner_max: self.sessions_per_owner_max,
            requests_remembered_max: self.session_requests_remembered_max.max(1),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Holds the SQLite files (`log.sqlite3`, `tables.sqlite3`) and, when generated,
    /// `admin-token`.
    pub data_dir: PathBuf,
    /// The admin token; `None` reads or generates `data_dir/admin-token` (alone only:
    /// the nodes of a cluster must share one, given).
    pub admin_token: Option<String>,
    pub limits: Limits,
    /// `None`: SQLite in `data_dir`, alone. `Some`: a node of a cluster over PostgreSQL.
    pub database: Option<Database>,
    /// The university's identity provider, for the page's sign-in; `None`: tokens only.
    pub oidc: Option<crate::oidc::OidcConfig>,
}

/// A PostgreSQL database shared by the nodes of a cluster.
#[derive(Clone, Debug)]
pub struct Database {
    /// `postgres://user@host:port/db`.
    pub url: String,
    /// The schema murphy's tables live in.
    pub schema: String,
    /// The URL other nodes reach this one at; by default `http://` and the address it
    /// listens on.
    pub advertise_url: Option<String>,
}

impl Config {
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            admin_token: None,
            limits: Limits::default(),
            database: None,
            oidc: None,
        }
    }
}
