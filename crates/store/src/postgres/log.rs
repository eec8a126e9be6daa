//! The log's rows: appending a group commit's records (one statement, one round trip,
//! one commit that waits for the disk), settling an append whose connection was lost
//! at commit, and reading entries back by LSN.

use ::postgres::types::Type;
use ::postgres::{Client, Row};
use murphy_core::LogEntry;

use super::conn::{Conn, Slot, Target};
use super::{signed, unsigned};
use crate::codec::{EntryJson, EntryRow, nanos};
use crate::{Records, Result, StoreError, TokenRow};

const APPEND: &str = "SELECT append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
/// The append's parameters: the epoch, then a column each, then the channel.
const APPEND_TYPES: [Type; 13] = [
    Type::INT8,
    Type::INT8_ARRAY,
    Type::INT8_ARRAY,
    Type::INT4_ARRAY,
    Type::TEXT_ARRAY,
    Type::INT8_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT_ARRAY,
    Type::TEXT,
];
/// The entries after `$1`, at most `$2`, bounded above by `$3` = `$1 + $2` as well: the
/// log has no gaps, so the bound drops nothing, but it makes the range narrow in the
/// planner's eyes. With `lsn > $1` alone, a log that has grown since it was last
/// analyzed looked to the planner like a third of it would match, and it chose a
/// sequential scan and a sort: every follower's read cost the whole log.
const SELECT_ENTRIES: &str = "SELECT lsn, at, client, seq, owner, command, outcome, effects, rules FROM log \
     WHERE lsn > $1 AND lsn <= $3 ORDER BY lsn LIMIT $2";
const LOG_END: &str = "SELECT COALESCE(max(lsn), 0) FROM log";
/// How long settling a lost append waits for the old session to end.
const TERMINATE_WAIT_MS: i64 = 5_000;

/// The columns of one append, as arrays for `unnest`.
#[derive(Default)]
struct Columns {
    lsn: Vec<i64>,
    at: Vec<i64>,
    rules: Vec<i32>,
    client: Vec<Option<String>>,
    seq: Vec<Option<i64>>,
    owner: Vec<Option<String>>,
    command: Vec<String>,
    outcome: Vec<String>,
    effects: Vec<Option<String>>,
    hash: Vec<String>,
    student: Vec<String>,
}

impl Columns {
    fn of(records: &Records) -> Result<Columns> {
        let mut c = Columns::default();
        let first = records.entries.first().map_or(0, |e| e.lsn);
        for (i, e) in records.entries.iter().enumerate() {
            if e.lsn != first + i as u64 {
                return Err(StoreError::Corrupt(format!(
                    "append of lsn {} at place {i} of a batch from lsn {first}: LSNs must be consecutive",
                    e.lsn
                )));
            }
            c.lsn.push(signed(e.lsn)?);
            c.at.push(nanos(e.at));
            let rules = i32::try_from(e.rules.number())
                .map_err(|_| StoreError::Corrupt(format!("rules version {} is out of range", e.rules)))?;
            c.rules.push(rules);
            c.client.push(e.client.clone());
            c.seq.push(e.seq.map(signed).transpose()?);
            c.owner.push(e.owner.clone());
            let json = EntryJson::of(e)?;
            c.command.push(json.command);
            c.outcome.push(json.outcome);
            c.effects.push(json.effects);
        }
        for t in &records.tokens {
            c.hash.push(t.hash.clone());
            c.student.push(t.student.clone());
        }
        Ok(c)
    }
}

/// Appends `records` under epoch `held`: durable when it returns `Ok`. On a lost
/// connection the append is settled on a new one (see `settle`).
pub(super) fn append(slot: &Slot, target: &Target, held: u64, records: &Records) -> Result<()> {
    let columns = Columns::of(records)?;
    let channel = super::schema::channel(&target.schema);
    let mut lost = None;
    let result = slot.with(target, |conn| {
        let sent = run(conn, held, &columns, &channel);
        if sent.as_ref().is_err_and(StoreError::is_connection_lost) {
            lost = Some((conn.pid, conn.started.clone()));
        }
        sent
    });
    match (result, lost) {
        (Err(e), Some(old)) if !records.entries.is_empty() => settle(slot, target, held, records, &columns, old, e),
        (result, _) => result,
    }
}

fn run(conn: &mut Conn, held: u64, c: &Columns, channel: &str) -> Result<()> {
    let held = signed(held)?;
    let append = conn.prepared(APPEND, &APPEND_TYPES)?;
    let sent = conn.client.execute(
        &append,
        &[
            &held, &c.lsn, &c.at, &c.rules, &c.client, &c.seq, &c.owner, &c.command, &c.outcome, &c.effects, &c.hash,
            &c.student, &channel,
        ],
    );
    match sent {
        Ok(_) => Ok(()),
        Err(e) => Err(refusal(held, e)),
    }
}

/// The append's own refusals as their errors; anything else as it came.
fn refusal(held: i64, e: ::postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) if db.code().code() == "MF001" => StoreError::Fenced {
            held: u64::try_from(held).ok().filter(|h| *h > 0),
            current: db.detail().and_then(|d| d.parse().ok()),
        },
        Some(db) if db.code().code() == "MG001" => StoreError::Corrupt(db.message().to_owned()),
        _ => StoreError::Postgres(e),
    }
}

/// The connection was lost while the append ran: it committed or it did not. On a new
/// connection, the old session is ended if it still runs (so it cannot commit later),
/// then the log says which: in the log, the append is done (`Ok`); not in it, it is
/// sent once more. If no new connection can be had, the append is in doubt.
fn settle(
    slot: &Slot,
    target: &Target,
    held: u64,
    records: &Records,
    columns: &Columns,
    (pid, started): (i32, String),
    lost: StoreError,
) -> Result<()> {
    let first = records.entries.first().expect("settled appends have entries").lsn;
    let last = records.entries.last().expect("settled appends have entries").lsn;
    let channel = super::schema::channel(&target.schema);
    let settled = slot.with(target, |conn: &mut Conn| {
        conn.client.execute(
            "SELECT pg_terminate_backend(pid, $3) FROM pg_stat_activity WHERE pid = $1 AND backend_start::text = $2",
            &[&pid, &started, &TERMINATE_WAIT_MS],
        )?;
        let landed = conn
            .client
            .query_opt("SELECT 1 FROM log WHERE lsn = $1", &[&signed(last)?])?
            .is_some();
        match landed {
            true => Ok(()),
            false => run(conn, held, columns, &channel),
        }
    });
    match settled {
        Err(e) if e.is_connection_lost() => Err(StoreError::InDoubt {
            first,
            last,
            reason: format!("{lost}; then {e}"),
        }),
        other => other,
    }
}

/// Up to `limit` entries with LSN greater than `after`, in LSN order.
pub(super) fn read(client: &mut Client, after: u64, limit: u64) -> Result<Vec<LogEntry>> {
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let through = after.saturating_add(limit);
    let rows = client.query_typed(
        SELECT_ENTRIES,
        &[(&after, Type::INT8), (&limit, Type::INT8), (&through, Type::INT8)],
    )?;
    rows.iter().map(entry).collect()
}

fn entry(r: &Row) -> Result<LogEntry> {
    let rules: Option<i32> = r.try_get(8)?;
    EntryRow {
        lsn: unsigned(r.try_get(0)?)?,
        at: r.try_get(1)?,
        rules: rules.map(|n| u64::try_from(n).unwrap_or(u64::MAX)),
        client: r.try_get(2)?,
        seq: r.try_get::<_, Option<i64>>(3)?.map(unsigned).transpose()?,
        owner: r.try_get(4)?,
        command: r.try_get(5)?,
        outcome: r.try_get(6)?,
        effects: r.try_get(7)?,
    }
    .entry()
}

/// The LSN of the last entry, 0 for an empty log.
pub(super) fn end(client: &mut Client) -> Result<u64> {
    unsigned(client.query_typed(LOG_END, &[])?[0].try_get(0)?)
}

pub(super) fn tokens(client: &mut Client) -> Result<Vec<TokenRow>> {
    let rows = client.query_typed("SELECT hash, student FROM tokens", &[])?;
    rows.iter()
        .map(|r| {
            Ok(TokenRow {
                hash: r.try_get(0)?,
                student: r.try_get(1)?,
            })
        })
        .collect()
}
