//! The log file's rows: appending a group commit's records in one transaction (one
//! fsync), and reading entries back by LSN.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use murphy_core::LogEntry;
use rusqlite::{Connection, TransactionBehavior, params};

use crate::codec::{EntryJson, EntryRow, nanos};
use crate::{Records, Result, StoreError, TokenRow};

const SELECT_ENTRIES: &str = "SELECT lsn, at, client, seq, owner, command, outcome, effects, rules FROM log \
     WHERE lsn > ?1 ORDER BY lsn LIMIT ?2";

/// The one connection that appends, and the last LSN it wrote.
pub(super) struct LogWriter {
    pub(super) conn: Connection,
    pub(super) last_lsn: u64,
    /// Frames in the WAL after the last commit, as SQLite's WAL hook reports them.
    wal_frames: Arc<AtomicU64>,
    page_bytes: u64,
}

/// Each WAL frame is a page and a 24-byte header.
const WAL_FRAME_HEADER_BYTES: u64 = 24;

impl LogWriter {
    pub(super) fn new(mut conn: Connection) -> Result<LogWriter> {
        let last_lsn = conn.query_row("SELECT COALESCE(MAX(lsn), 0) FROM log", [], |r| r.get(0))?;
        let page_bytes: u64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let wal_frames = Arc::new(AtomicU64::new(0));
        let frames = wal_frames.clone();
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: std::ffi::c_int| {
            frames.store(u64::try_from(pages).unwrap_or(0), Ordering::Relaxed);
            Ok(())
        }))?;
        Ok(LogWriter {
            conn,
            last_lsn,
            wal_frames,
            page_bytes,
        })
    }

    /// The bytes of the WAL's frames after the last append.
    pub(super) fn wal_bytes(&self) -> u64 {
        self.wal_frames.load(Ordering::Relaxed) * (self.page_bytes + WAL_FRAME_HEADER_BYTES)
    }

    /// After a restart the WAL starts over, and so does its count.
    pub(super) fn restarted(&self) {
        self.wal_frames.store(0, Ordering::Relaxed);
    }

    /// Appends in one transaction: its commit is the fsync that makes it durable.
    pub(super) fn append(&mut self, records: &Records) -> Result<()> {
        if let Some(first) = records.entries.first()
            && first.lsn != self.last_lsn + 1
        {
            return Err(StoreError::Corrupt(format!(
                "append of lsn {} after lsn {}: the log must have no gaps",
                first.lsn, self.last_lsn
            )));
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO log (lsn, at, client, seq, owner, command, outcome, effects, rules) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for e in &records.entries {
                let json = EntryJson::of(e)?;
                insert.execute(params![
                    e.lsn,
                    nanos(e.at),
                    e.client,
                    e.seq,
                    e.owner,
                    json.command,
                    json.outcome,
                    json.effects,
                    e.rules.number(),
                ])?;
            }
            let mut token = tx.prepare_cached("INSERT OR IGNORE INTO tokens (hash, student) VALUES (?1, ?2)")?;
            for t in &records.tokens {
                token.execute(params![t.hash, t.student])?;
            }
        }
        tx.commit()?;
        if let Some(last) = records.entries.last() {
            self.last_lsn = last.lsn;
        }
        Ok(())
    }
}

/// Up to `limit` entries with LSN greater than `after`, in LSN order.
pub(super) fn read(conn: &Connection, after: u64, limit: u64) -> Result<Vec<LogEntry>> {
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(SELECT_ENTRIES)?;
    let mut rows = stmt.query(params![after, limit])?;
    let mut entries = Vec::new();
    while let Some(r) = rows.next()? {
        let (command, outcome, effects): (String, String, Option<String>) = (r.get(5)?, r.get(6)?, r.get(7)?);
        let row = EntryRow {
            lsn: r.get(0)?,
            at: r.get(1)?,
            rules: r.get(8)?,
            client: r.get(2)?,
            seq: r.get(3)?,
            owner: r.get(4)?,
            command: &command,
            outcome: &outcome,
            effects: effects.as_deref(),
        };
        entries.push(row.entry()?);
    }
    Ok(entries)
}

pub(super) fn tokens(conn: &Connection) -> Result<Vec<TokenRow>> {
    let mut stmt = conn.prepare("SELECT hash, student FROM tokens")?;
    let rows = stmt.query_map([], |r| {
        Ok(TokenRow {
            hash: r.get(0)?,
            student: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
