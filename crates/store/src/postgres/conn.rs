//! Connections to PostgreSQL: opening one set up for its job (`Target::connect`), one
//! connection that is opened again after it is lost (`Slot`), a bounded pool of readers
//! (`Pool`), and telling a lost connection from a refused statement.

use std::error::Error as _;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ::postgres::types::Type;
use ::postgres::{Client, Config, NoTls, SimpleQueryMessage, Statement};

use crate::{Result, StoreError};

/// A materializer transaction left idle this long (its process paused or cut off
/// mid-step) is ended by PostgreSQL: it holds the lease row, which a takeover waits for.
pub(super) const IDLE_IN_TRANSACTION_TIME_MAX: Duration = Duration::from_secs(2);
/// TCP keepalive of every connection: a dead peer is noticed within about
/// idle + interval * count, on both ends (PostgreSQL releases a vanished holder's lock).
const KEEPALIVE_IDLE_TIME: Duration = Duration::from_secs(5);
const KEEPALIVE_INTERVAL_TIME: Duration = Duration::from_secs(2);
const KEEPALIVE_PROBES_MAX: u32 = 3;

/// Where the database is, and how to connect to it.
pub(super) struct Target {
    pub(super) config: Config,
    pub(super) schema: String,
    /// Host, port and database, for messages (never the password).
    pub(super) location: String,
}

/// What a connection is for: each is set up for its job.
#[derive(Clone, Copy, Debug)]
pub(super) enum Role {
    Appender,
    Materializer,
    Reader,
    Lease,
    Follower,
}

/// A connection, and which server process serves it (to tell it from a later one).
pub(super) struct Conn {
    pub(super) client: Client,
    pub(super) pid: i32,
    /// `backend_start` as text: with `pid`, names this session uniquely.
    pub(super) started: String,
    /// Statements prepared on this session, by their SQL.
    prepared: Vec<(&'static str, Statement)>,
}

impl Conn {
    /// `sql` with parameters of `types`, parsed and planned once per session: a hot
    /// statement's later runs skip both.
    pub(super) fn prepared(&mut self, sql: &'static str, types: &[Type]) -> Result<Statement> {
        if let Some((_, statement)) = self.prepared.iter().find(|(known, _)| *known == sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare_typed(sql, types)?;
        self.prepared.push((sql, statement.clone()));
        Ok(statement)
    }
}

impl Target {
    pub(super) fn connect(&self, role: Role) -> Result<Conn> {
        let mut config = self.config.clone();
        config
            .application_name(&format!("murphy {role:?}").to_lowercase())
            .keepalives(true)
            .keepalives_idle(KEEPALIVE_IDLE_TIME)
            .keepalives_interval(KEEPALIVE_INTERVAL_TIME)
            .keepalives_retries(KEEPALIVE_PROBES_MAX);
        let mut client = config.connect(NoTls).map_err(|e| self.unavailable(&describe(&e)))?;
        let setup = format!(
            "SET search_path TO \"{}\"; {} SELECT pid, backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()",
            self.schema,
            role.settings()
        );
        let rows = client.simple_query(&setup)?;
        let row = rows
            .iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(row),
                _ => None,
            })
            .ok_or_else(|| StoreError::Corrupt("pg_stat_activity does not show this session".into()))?;
        let pid = row.get(0).and_then(|p| p.parse().ok()).unwrap_or(0);
        let started = row.get(1).unwrap_or_default().to_owned();
        Ok(Conn {
            client,
            pid,
            started,
            prepared: Vec::new(),
        })
    }

    pub(super) fn unavailable(&self, e: &dyn std::fmt::Display) -> StoreError {
        StoreError::Unavailable {
            location: self.location.clone(),
            reason: e.to_string(),
        }
    }
}

impl Role {
    /// Session settings. Appends and lease changes are durable on return whatever the
    /// database's default (`synchronous_commit = on`); the tables are a cache of the
    /// log, so their commits need not wait for the disk (a crash replays a longer tail).
    fn settings(self) -> String {
        let keepalive = format!(
            "SET tcp_keepalives_idle = {}; SET tcp_keepalives_interval = {}; SET tcp_keepalives_count = {};",
            KEEPALIVE_IDLE_TIME.as_secs(),
            KEEPALIVE_INTERVAL_TIME.as_secs(),
            KEEPALIVE_PROBES_MAX
        );
        let own = match self {
            Role::Appender | Role::Lease => "SET synchronous_commit = on;".to_owned(),
            Role::Materializer => format!(
                "SET synchronous_commit = off; SET idle_in_transaction_session_timeout = {};",
                IDLE_IN_TRANSACTION_TIME_MAX.as_millis()
            ),
            Role::Reader | Role::Follower => "SET default_transaction_read_only = on;".to_owned(),
        };
        keepalive + &own
    }
}

/// One connection for one job, opened on first use and again after it is lost.
pub(super) struct Slot {
    role: Role,
    conn: Mutex<Option<Conn>>,
}

impl Slot {
    pub(super) fn new(role: Role, conn: Option<Conn>) -> Slot {
        Slot {
            role,
            conn: Mutex::new(conn),
        }
    }

    /// Runs `work` on the connection, opening it if needed. A lost connection is
    /// dropped, so the next call opens a new one.
    pub(super) fn with<T>(&self, target: &Target, work: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        let mut guard = lock(&self.conn);
        if guard.as_ref().is_none_or(|c| c.client.is_closed()) {
            *guard = None;
            *guard = Some(target.connect(self.role)?);
        }
        let conn = guard.as_mut().expect("a connection was just opened");
        let result = work(conn);
        if result.as_ref().is_err_and(StoreError::is_connection_lost) {
            *guard = None;
        }
        result
    }
}

/// A bounded pool of read-only connections, for the HTTP readers and start-up.
pub(super) struct Pool {
    readers_max: usize,
    wait_time_max: Duration,
    state: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<Conn>,
    /// Connections open, idle or lent out; never more than `readers_max`.
    open: usize,
}

impl Pool {
    pub(super) fn new(readers_max: usize, wait_time_max: Duration) -> Pool {
        assert!(readers_max > 0, "a pool needs at least one reader");
        Pool {
            readers_max,
            wait_time_max,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    /// Runs `read` on a pooled connection. Reads are idempotent: one that finds its
    /// pooled connection lost (PostgreSQL restarted meanwhile) runs once more on a new
    /// one.
    pub(super) fn with<T>(&self, target: &Target, read: impl Fn(&mut Client) -> Result<T>) -> Result<T> {
        let (pooled, mut conn) = self.take(target)?;
        let mut result = read(&mut conn.client);
        if pooled && result.as_ref().is_err_and(StoreError::is_connection_lost) {
            match target.connect(Role::Reader) {
                Ok(fresh) => {
                    conn = fresh;
                    result = read(&mut conn.client);
                }
                Err(e) => result = Err(e),
            }
        }
        let keep = !conn.client.is_closed() && !result.as_ref().is_err_and(StoreError::is_connection_lost);
        self.give_back(keep.then_some(conn));
        result
    }

    /// An idle connection (`true`), or a new one while fewer than the limit are open,
    /// or the first one given back within the wait limit.
    fn take(&self, target: &Target) -> Result<(bool, Conn)> {
        let deadline = Instant::now() + self.wait_time_max;
        let mut state = lock(&self.state);
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok((true, conn));
            }
            if state.open < self.readers_max {
                state.open += 1;
                drop(state);
                return match target.connect(Role::Reader) {
                    Ok(conn) => Ok((false, conn)),
                    Err(e) => {
                        self.give_back(None);
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                let busy = format!(
                    "all {} readers stayed busy for {:?}",
                    self.readers_max, self.wait_time_max
                );
                return Err(target.unavailable(&busy));
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn give_back(&self, conn: Option<Conn>) {
        let mut state = lock(&self.state);
        match conn {
            Some(conn) => state.idle.push(conn),
            None => state.open -= 1,
        }
        assert!(state.open <= self.readers_max && state.idle.len() <= state.open);
        self.freed.notify_one();
    }
}

/// `e` in full: the server's message and code for a refusal, the cause of a failure to
/// connect or communicate (the crate's own text alone says only "db error").
pub(crate) fn describe(e: &::postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let detail = db.detail().map(|d| format!(" ({d})")).unwrap_or_default();
        return format!("{} {}: {}{detail}", db.severity(), db.code().code(), db.message());
    }
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

/// Whether `e` means the connection is gone: closed, an I/O error, or the server
/// ending the session (shutdown, crash, terminated, cannot connect now).
pub(crate) fn is_connection_lost(e: &::postgres::Error) -> bool {
    if e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()) {
        return true;
    }
    e.code()
        .is_some_and(|c| c.code().starts_with("08") || c.code().starts_with("57P"))
}

/// Whether `e` is a passing fault: a lost connection, too little of a resource (disk,
/// memory, connections), or a conflict PostgreSQL asks to retry.
pub(crate) fn is_fault(e: &::postgres::Error) -> bool {
    is_connection_lost(e)
        || e.code().is_some_and(|c| {
            let code = c.code();
            code.starts_with("53") || code == "40001" || code == "40P01" || code == "55P03"
        })
}

/// A poisoned lock means a panic mid-call elsewhere: the connection it held is only
/// reused if PostgreSQL still has it, and a transaction keeps the data whole.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
