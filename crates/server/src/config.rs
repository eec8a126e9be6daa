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
    /// Open client connections; further ones wait in the kernel's accept queue.
    pub connections_max: usize,
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
