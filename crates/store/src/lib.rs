//! murphy's durable storage: one SQLite file holding the log (the serial order, every
//! command with its LSN, arrival time, session and outcome, refusals included) and the
//! materialized tables (sections, enrollments, waitlists, students, sessions, tokens)
//! that let start-up load the state instead of replaying the whole history.
//!
//! Only this crate touches SQL. A batch of commands is written in one transaction, so
//! the log and the tables can never disagree, and with WAL and `synchronous=FULL` its
//! commit is the one fsync that makes the whole batch durable (group commit).

mod schema;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use murphy_core::{Changes, LogEntry, Section, State, Student};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior, params};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use schema::SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored JSON does not parse: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the database is inconsistent: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A client session as stored: the last applied `seq` and the JSON of its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub client: String,
    /// Who may use the session: a student id, or `"admin"`.
    pub owner: String,
    pub seq: u64,
    pub results_json: String,
}

/// A student token, stored as the hex SHA-256 of the token, never the token itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    pub hash: String,
    pub student: String,
}

/// Everything one group commit writes.
#[derive(Debug, Default)]
pub struct Batch {
    pub entries: Vec<LogEntry>,
    pub sessions: Vec<SessionRow>,
    pub tokens: Vec<TokenRow>,
}

/// What start-up loads.
#[derive(Debug)]
pub struct Loaded {
    pub state: State,
    pub sessions: Vec<SessionRow>,
    pub tokens: Vec<TokenRow>,
    /// Log entries past the materialized tables that start-up replayed (normally 0).
    pub replayed: u64,
}

/// The writer: owned by the event loop alone.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        // WAL lets readers run beside the writer; FULL makes each commit an fsync of
        // the WAL, which is what "answered means durable" rests on.
        conn.pragma_update(None, "page_size", 1024)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Checkpoints (copying the WAL into the database file, with their own fsyncs)
        // are the `Checkpointer`'s job, on another thread, never the writer's.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        schema::create(&conn)?;
        Ok(Store {
            conn,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A read-only connection for readers outside the event loop.
    pub fn reader(&self) -> Result<Reader> {
        Reader::open(&self.path)
    }

    /// Loads the materialized state and checks it against the log: the tables must be
    /// at the log's last LSN (entries past them, which one transaction per batch makes
    /// impossible, are replayed and their outcomes compared), and every invariant holds.
    pub fn load(&mut self) -> Result<Loaded> {
        let lsn = schema::meta(&self.conn, "lsn")?;
        let catalog_version = schema::meta(&self.conn, "catalog_version")?;
        let sections = self.load_sections()?;
        let students = self.load_students()?;
        let mut state = State::restore(lsn, catalog_version, sections, students).map_err(StoreError::Corrupt)?;
        let log_lsn: u64 = self
            .conn
            .query_row("SELECT COALESCE(MAX(lsn), 0) FROM log", [], |r| r.get(0))?;
        if log_lsn < lsn {
            return Err(StoreError::Corrupt(format!(
                "tables at lsn {lsn} but the log ends at {log_lsn}"
            )));
        }
        let tail = read_log(&self.conn, lsn, u64::MAX)?;
        let replayed = tail.len() as u64;
        let tables = state.clone();
        replay_into(&mut state, &tail)?;
        let changes = state.take_changes();
        if replayed > 0 {
            // Bring the tables up to the log before serving: later commits write only
            // what they change, on top of what the tables hold.
            self.commit(&Batch::default(), &tables, &state, &changes)?;
        }
        Ok(Loaded {
            state,
            sessions: self.load_sessions()?,
            tokens: self.load_tokens()?,
            replayed,
        })
    }

    /// Writes one batch and the entities it changed in a single transaction: one fsync.
    /// `before` is the state the previous commit left (what is on disk now), `state`
    /// the state after the batch; only the `changes` between them are written.
    pub fn commit(&mut self, batch: &Batch, before: &State, state: &State, changes: &Changes) -> Result<()> {
        let place_base = i64::try_from(state.lsn())
            .ok()
            .and_then(|lsn| lsn.checked_mul(PLACES_PER_BATCH_MAX))
            .ok_or_else(|| StoreError::Corrupt(format!("lsn {} is past what places can order", state.lsn())))?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_log(&tx, &batch.entries)?;
        for id in &changes.sections {
            let section = state
                .section(id)
                .ok_or_else(|| StoreError::Corrupt(format!("changed section {id} is gone")))?;
            write_section(&tx, before.section(id), section, place_base)?;
        }
        for id in &changes.students {
            let student = state
                .student(id)
                .ok_or_else(|| StoreError::Corrupt(format!("changed student {id} is gone")))?;
            write_student(&tx, student)?;
        }
        write_sessions(&tx, &batch.sessions)?;
        write_tokens(&tx, &batch.tokens)?;
        schema::set_meta(&tx, "lsn", state.lsn())?;
        schema::set_meta(&tx, "catalog_version", state.catalog_version())?;
        tx.commit()?;
        Ok(())
    }

    /// Truncates the WAL once it is over `wal_bytes_max`. A busy writer never lets the
    /// WAL start over by itself (there is always a frame past the checkpointed ones),
    /// so the writer does it, between commits. The `Checkpointer` has copied nearly
    /// everything already, so this costs the last few frames. A checkpointer or reader
    /// in the way makes it give up after a moment, to try again after the next commit.
    /// Returns whether the WAL was truncated.
    pub fn truncate_wal_over(&self, wal_bytes_max: u64) -> Result<bool> {
        let mut wal = self.path.as_os_str().to_owned();
        wal.push("-wal");
        if std::fs::metadata(&wal).map_or(0, |m| m.len()) <= wal_bytes_max {
            return Ok(false);
        }
        self.conn.busy_timeout(std::time::Duration::from_millis(20))?;
        let busy: Result<i64> = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
            .map_err(Into::into);
        self.conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(busy? == 0)
    }

    fn load_sections(&self) -> Result<Vec<Section>> {
        let mut enrollments = self.load_lines("enrollments")?;
        let mut waitlists = self.load_lines("waitlists")?;
        let mut stmt = self.conn.prepare(
            "SELECT id, title, units, capacity, waitlist_capacity, meetings, version FROM sections ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get::<_, String>(5)?,
                r.get(6)?,
            ))
        })?;
        let mut sections = Vec::new();
        for row in rows {
            let (id, title, units, capacity, waitlist_capacity, meetings, version) = row?;
            let enrolled = enrollments.remove(&id).unwrap_or_default();
            let waitlist = waitlists.remove(&id).unwrap_or_default();
            let meetings = serde_json::from_str(&meetings)?;
            sections.push(Section {
                id,
                title,
                units,
                capacity,
                waitlist_capacity,
                meetings,
                enrolled,
                waitlist,
                version,
            });
        }
        Ok(sections)
    }

    /// Every line of `table`, by section, each in order: one scan, not one per section.
    fn load_lines(&self, table: &str) -> Result<HashMap<String, Vec<String>>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT section, student FROM {table} ORDER BY section, place"))?;
        let mut lines: HashMap<String, Vec<String>> = HashMap::new();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            lines.entry(row.get(0)?).or_default().push(row.get(1)?);
        }
        Ok(lines)
    }

    fn load_students(&self) -> Result<Vec<Student>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, max_units, appointment, balance_cents, version FROM students ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
        let mut students = Vec::new();
        for row in rows {
            let (id, name, max_units, appointment, balance_cents, version) = row?;
            let appointment = appointment.map(|text| parse_instant(&text)).transpose()?;
            students.push(Student {
                id,
                name,
                max_units,
                appointment,
                balance_cents,
                enrolled: Default::default(),
                waitlisted: Default::default(),
                units: 0,
                version,
            });
        }
        Ok(students)
    }

    fn load_sessions(&self) -> Result<Vec<SessionRow>> {
        let mut stmt = self.conn.prepare("SELECT client, owner, seq, results FROM sessions")?;
        let rows = stmt.query_map([], |r| {
            Ok(SessionRow {
                client: r.get(0)?,
                owner: r.get(1)?,
                seq: r.get(2)?,
                results_json: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn load_tokens(&self) -> Result<Vec<TokenRow>> {
        let mut stmt = self.conn.prepare("SELECT hash, student FROM tokens")?;
        let rows = stmt.query_map([], |r| {
            Ok(TokenRow {
                hash: r.get(0)?,
                student: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Copies committed pages from the WAL into the database file, off the writer's path,
/// so the WAL stays small without the event loop ever paying for a checkpoint.
pub struct Checkpointer {
    conn: Connection,
}

impl Checkpointer {
    pub fn open(path: &Path) -> Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Checkpointer { conn })
    }

    /// Copies what it can of the WAL into the database file without waiting for, or
    /// blocking, the writer (a passive checkpoint). Returns the WAL's size in pages.
    pub fn checkpoint(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?)
    }
}

/// A read-only connection: the log for `GET /api/v1/log`, old session answers, and
/// offline verification. It sees only committed (durable) batches.
pub struct Reader {
    conn: Connection,
}

impl Reader {
    pub fn open(path: &Path) -> Result<Reader> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Reader { conn })
    }

    /// Up to `limit` entries with LSN greater than `after`, in LSN order.
    pub fn log(&self, after: u64, limit: u64) -> Result<Vec<LogEntry>> {
        read_log(&self.conn, after, limit)
    }

    /// The entries one session request produced, in LSN order (empty if none).
    pub fn session_entries(&self, client: &str, seq: u64) -> Result<Vec<LogEntry>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT lsn, at, client, seq, command, outcome, effects FROM log WHERE client = ?1 AND seq = ?2 ORDER BY lsn",
        )?;
        let rows = stmt.query_map(params![client, seq], raw_entry)?;
        rows.map(|row| decode_entry(row?)).collect()
    }

    /// Replays the whole log from an empty state, checking every logged outcome and
    /// effect against the replay, and returns the state it ends in. Offline: O(log).
    pub fn replay_all(&self) -> Result<State> {
        let mut state = State::default();
        let mut after = 0;
        loop {
            let entries = read_log(&self.conn, after, 10_000)?;
            let Some(last) = entries.last() else { break };
            after = last.lsn;
            replay_into(&mut state, &entries)?;
        }
        state.take_changes();
        Ok(state)
    }
}

/// Applies logged entries to `state`, asserting each lands at its LSN with its outcome.
fn replay_into(state: &mut State, entries: &[LogEntry]) -> Result<()> {
    for entry in entries {
        let applied = state.apply(entry.at, &entry.command);
        if applied.lsn != entry.lsn || applied.outcome != entry.outcome || applied.effects != entry.effects {
            return Err(StoreError::Corrupt(format!(
                "replay of lsn {} gave lsn {} {:?}, the log says {:?}",
                entry.lsn, applied.lsn, applied.outcome, entry.outcome
            )));
        }
    }
    Ok(())
}

type RawEntry = (u64, String, Option<String>, Option<u64>, String, String, Option<String>);

fn raw_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawEntry> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn decode_entry((lsn, at, client, seq, command, outcome, effects): RawEntry) -> Result<LogEntry> {
    Ok(LogEntry {
        lsn,
        at: parse_instant(&at)?,
        client,
        seq,
        command: serde_json::from_str(&command)?,
        outcome: serde_json::from_str(&outcome)?,
        effects: effects
            .map(|e| serde_json::from_str(&e))
            .transpose()?
            .unwrap_or_default(),
    })
}

fn read_log(conn: &Connection, after: u64, limit: u64) -> Result<Vec<LogEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT lsn, at, client, seq, command, outcome, effects FROM log WHERE lsn > ?1 ORDER BY lsn LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![after, limit], raw_entry)?;
    rows.map(|row| decode_entry(row?)).collect()
}

fn write_log(tx: &Transaction<'_>, entries: &[LogEntry]) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO log (lsn, at, client, seq, command, outcome, effects) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for e in entries {
        let effects = if e.effects.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&e.effects)?)
        };
        stmt.execute(params![
            e.lsn,
            format_instant(e.at),
            e.client,
            e.seq,
            serde_json::to_string(&e.command)?,
            serde_json::to_string(&e.outcome)?,
            effects,
        ])?;
    }
    Ok(())
}

/// Places handed out in one batch stay below this many per line, so `place` values of
/// later batches (`lsn * PLACES_PER_BATCH_MAX + i`) always sort after earlier ones.
const PLACES_PER_BATCH_MAX: i64 = 1_000_000;

fn write_section(tx: &Transaction<'_>, before: Option<&Section>, s: &Section, place_base: i64) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO sections (id, title, units, capacity, waitlist_capacity, meetings, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET capacity = excluded.capacity, version = excluded.version",
    )?
    .execute(params![
        s.id,
        s.title,
        s.units,
        s.capacity,
        s.waitlist_capacity,
        serde_json::to_string(&s.meetings)?,
        s.version
    ])?;
    let (old_enrolled, old_waitlist) = before.map_or((&[][..], &[][..]), |b| (&b.enrolled[..], &b.waitlist[..]));
    write_line(tx, "enrollments", &s.id, old_enrolled, &s.enrolled, place_base)?;
    write_line(tx, "waitlists", &s.id, old_waitlist, &s.waitlist, place_base)
}

/// Brings a stored line from `old` to `new`. Lines only lose members anywhere and gain
/// them at the end, so that is written as deletes and appends: proportional to the
/// change, not to the line. Anything else is rewritten whole.
fn write_line(
    tx: &Transaction<'_>,
    table: &str,
    section: &str,
    old: &[String],
    new: &[String],
    place_base: i64,
) -> Result<()> {
    assert!(
        (new.len() as i64) < PLACES_PER_BATCH_MAX,
        "line of {section} too long for its places"
    );
    let staying: HashSet<&str> = new.iter().map(String::as_str).collect();
    let kept: Vec<&String> = old.iter().filter(|s| staying.contains(s.as_str())).collect();
    let appends_only = kept.len() <= new.len() && kept.iter().zip(new).all(|(k, n)| *k == n);
    let (leaving, joining): (Vec<&String>, &[String]) = if appends_only {
        (
            old.iter().filter(|s| !staying.contains(s.as_str())).collect(),
            &new[kept.len()..],
        )
    } else {
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE section = ?1"))?
            .execute([section])?;
        (Vec::new(), new)
    };
    let mut delete = tx.prepare_cached(&format!("DELETE FROM {table} WHERE section = ?1 AND student = ?2"))?;
    for student in leaving {
        delete.execute(params![section, student])?;
    }
    let mut insert = tx.prepare_cached(&format!(
        "INSERT INTO {table} (section, place, student) VALUES (?1, ?2, ?3)"
    ))?;
    for (i, student) in joining.iter().enumerate() {
        insert.execute(params![section, place_base + i as i64, student])?;
    }
    Ok(())
}

fn write_student(tx: &Transaction<'_>, s: &Student) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO students (id, name, max_units, appointment, balance_cents, version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET appointment = excluded.appointment,
             balance_cents = excluded.balance_cents, version = excluded.version",
    )?
    .execute(params![
        s.id,
        s.name,
        s.max_units,
        s.appointment.map(format_instant),
        s.balance_cents,
        s.version
    ])?;
    Ok(())
}

fn write_sessions(tx: &Transaction<'_>, sessions: &[SessionRow]) -> Result<()> {
    let mut stmt =
        tx.prepare_cached("INSERT OR REPLACE INTO sessions (client, owner, seq, results) VALUES (?1, ?2, ?3, ?4)")?;
    for s in sessions {
        stmt.execute(params![s.client, s.owner, s.seq, s.results_json])?;
    }
    Ok(())
}

fn write_tokens(tx: &Transaction<'_>, tokens: &[TokenRow]) -> Result<()> {
    let mut stmt = tx.prepare_cached("INSERT OR REPLACE INTO tokens (hash, student) VALUES (?1, ?2)")?;
    for t in tokens {
        stmt.execute(params![t.hash, t.student])?;
    }
    Ok(())
}

fn format_instant(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .expect("every OffsetDateTime in murphy's range formats as RFC 3339")
}

fn parse_instant(text: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|e| StoreError::Corrupt(format!("instant {text:?}: {e}")))
}
