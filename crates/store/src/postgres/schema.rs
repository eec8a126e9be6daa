//! The `murphy` schema: the log, the tokens, the lease, the materialized tables and
//! the one function that appends, created and versioned at first start. The same
//! records and tables as the SQLite backend (`sqlite/schema.rs`), column for column:
//! instants are nanoseconds since 1970-01-01 UTC, JSON is stored as the text murphy
//! wrote.
//!
//! JSON is `text`, not `jsonb`: the log keeps byte for byte what was appended (jsonb
//! reorders keys, and refuses the `\u0000` escape serde_json writes for a NUL in a
//! name, which would stop every append); `command::jsonb ->> 'type'` still queries it.

use ::postgres::Client;

use super::conn::Target;
use crate::{Result, StoreError};

/// Bumped on any incompatible change of anything below. 3: the log's notifications
/// carry the time of their append's commit.
pub(super) const SCHEMA_VERSION: u64 = 3;
/// The version `create` brings up to this one in place: it differs only in the append
/// function, which is replaced.
const SCHEMA_VERSION_UPGRADABLE: u64 = 2;

/// The first key of murphy's advisory locks (ASCII "murp"); the second names what is
/// locked, so other applications' locks in the same database never collide with ours.
pub(super) const LOCK_TAG: i32 = 0x6d75_7270;
/// The second key of the lock held while creating the schema: `hashtext(schema)`.
const CREATE_LOCK: &str = "SELECT pg_advisory_xact_lock($1, hashtext($2))";

const META: &str = "
CREATE TABLE meta (key text PRIMARY KEY, value bigint NOT NULL);
";

/// One row per command, refusals included, and the tokens. `lsn` is the key: an
/// append adds to the end of one b-tree. `client`, `seq` and `owner` are the session.
/// `rules`, the rules version the command was decided under, is in `ADDITIONS`.
const LOG: &str = "
CREATE TABLE log (
    lsn     bigint PRIMARY KEY,
    at      bigint NOT NULL,
    client  text,
    seq     bigint,
    owner   text,
    command text NOT NULL,
    outcome text NOT NULL,
    effects text
);
CREATE TABLE tokens (hash text PRIMARY KEY, student text NOT NULL);
";

/// The primary's lease: one row. `epoch` is the fencing token (0: never held);
/// `expires_at` is by the database's clock, so the nodes' clocks never matter.
const LEASE: &str = "
CREATE TABLE lease (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    epoch      bigint NOT NULL,
    holder     text,
    expires_at timestamptz,
    pid        integer
);
INSERT INTO lease (epoch) VALUES (0);
";

/// The materialized tables. `place` orders a line (enrollment order, waitlist order);
/// it increases along the line but is not dense, so a join or a leave writes one row.
/// A new column goes here, in `tables.rs` (its row type, the upsert, the load) and in
/// `SCHEMA_VERSION`.
const TABLES: &str = "
CREATE TABLE sections (
    id                text PRIMARY KEY,
    title             text NOT NULL,
    units             bigint NOT NULL,
    capacity          bigint NOT NULL,
    waitlist_capacity bigint NOT NULL,
    meetings          text NOT NULL,
    course            text NOT NULL,
    prerequisites     text NOT NULL,
    linked            text NOT NULL,
    reserved          text NOT NULL,
    version           bigint NOT NULL
);
CREATE TABLE enrollments (
    section text NOT NULL,
    place   bigint NOT NULL,
    student text NOT NULL,
    PRIMARY KEY (section, place),
    UNIQUE (section, student)
);
CREATE TABLE waitlists (
    section text NOT NULL,
    place   bigint NOT NULL,
    student text NOT NULL,
    PRIMARY KEY (section, place),
    UNIQUE (section, student)
);
CREATE TABLE students (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    max_units     bigint NOT NULL,
    appointment   bigint,
    balance_cents bigint NOT NULL,
    major         text,
    standing      text,
    completed     text NOT NULL,
    waiting_with  text NOT NULL,
    version       bigint NOT NULL
);
CREATE TABLE permissions (
    student text NOT NULL,
    code    text NOT NULL,
    section text NOT NULL,
    issued  bigint NOT NULL,
    used    bigint,
    PRIMARY KEY (student, code)
);
CREATE TABLE sessions (
    client     text PRIMARY KEY,
    owner      text NOT NULL,
    seq        bigint NOT NULL,
    last_at    bigint NOT NULL,
    recent     text NOT NULL,
    expired_at bigint
);
";

/// The append, in one statement and so one round trip: checks the epoch (holding the
/// lease row shared, so a takeover waits for the append and an append after a takeover
/// sees the new epoch), checks the LSNs follow the log's end, inserts, and notifies
/// followers at commit: the payload is the new end and the time of the commit, in
/// microseconds since 1970 by the database's clock (taken as the statement ends, just
/// before the commit's flush), for followers to measure their lag from. Its errors:
/// `MF001` fenced (the current epoch in DETAIL), `MG001` a gap.
const APPEND: &str = "
CREATE OR REPLACE FUNCTION append(
    held bigint, lsns bigint[], ats bigint[], clients text[], seqs bigint[], owners text[],
    commands text[], outcomes text[], effects text[], hashes text[], students text[],
    channel text
) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    current bigint;
    last bigint;
BEGIN
    SELECT epoch INTO current FROM lease FOR SHARE;
    IF current IS DISTINCT FROM held THEN
        RAISE EXCEPTION 'fenced: epoch % is stale', held USING ERRCODE = 'MF001', DETAIL = current::text;
    END IF;
    IF cardinality(lsns) > 0 THEN
        SELECT COALESCE(max(lsn), 0) INTO last FROM log;
        IF lsns[1] <> last + 1 THEN
            RAISE EXCEPTION 'append of lsn % after lsn %: the log must have no gaps', lsns[1], last
                USING ERRCODE = 'MG001';
        END IF;
        INSERT INTO log (lsn, at, client, seq, owner, command, outcome, effects)
            SELECT * FROM unnest(lsns, ats, clients, seqs, owners, commands, outcomes, effects);
        PERFORM pg_notify(channel, lsns[cardinality(lsns)]::text || ' '
            || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text);
    END IF;
    IF cardinality(hashes) > 0 THEN
        INSERT INTO tokens (hash, student) SELECT * FROM unnest(hashes, students) ON CONFLICT DO NOTHING;
    END IF;
END $$;
";

/// What was added since `SCHEMA_VERSION`, each a thing a binary of that version
/// ignores, so the version is not bumped and such a binary still appends and reads
/// (a rolling upgrade, and a downgrade before it is finalized): the log's `rules`
/// (`NULL`: version 1, what such a binary decides under), the register of nodes and
/// the rules their binaries know (`nodes`), and the append that writes `rules`,
/// beside the one such a binary calls. Run at every start, under the creation lock.
const ADDITIONS: &str = "
ALTER TABLE log ADD COLUMN IF NOT EXISTS rules integer;
CREATE TABLE IF NOT EXISTS nodes (url text PRIMARY KEY, rules integer NOT NULL, seen_at timestamptz NOT NULL);
ALTER TABLE nodes ADD COLUMN IF NOT EXISTS seen_lsn bigint;
CREATE OR REPLACE FUNCTION append(
    held bigint, lsns bigint[], ats bigint[], rules integer[], clients text[], seqs bigint[], owners text[],
    commands text[], outcomes text[], effects text[], hashes text[], students text[],
    channel text
) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
    current bigint;
    last bigint;
BEGIN
    SELECT epoch INTO current FROM lease FOR SHARE;
    IF current IS DISTINCT FROM held THEN
        RAISE EXCEPTION 'fenced: epoch % is stale', held USING ERRCODE = 'MF001', DETAIL = current::text;
    END IF;
    IF cardinality(lsns) > 0 THEN
        SELECT COALESCE(max(lsn), 0) INTO last FROM log;
        IF lsns[1] <> last + 1 THEN
            RAISE EXCEPTION 'append of lsn % after lsn %: the log must have no gaps', lsns[1], last
                USING ERRCODE = 'MG001';
        END IF;
        INSERT INTO log (lsn, at, rules, client, seq, owner, command, outcome, effects)
            SELECT * FROM unnest(lsns, ats, rules, clients, seqs, owners, commands, outcomes, effects);
        PERFORM pg_notify(channel, lsns[cardinality(lsns)]::text || ' '
            || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint::text);
    END IF;
    IF cardinality(hashes) > 0 THEN
        INSERT INTO tokens (hash, student) SELECT * FROM unnest(hashes, students) ON CONFLICT DO NOTHING;
    END IF;
END $$;
";

/// The channel appends notify on, with the new end of the log and the commit's time as
/// payload.
pub(super) fn channel(schema: &str) -> String {
    format!("{schema}_log")
}

/// Whether `schema` is a plain lower-case identifier: it is spliced into SQL.
pub(super) fn valid_name(schema: &str) -> bool {
    let mut chars = schema.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && schema.len() <= 48
}

/// Creates the schema if it is not there, under a lock so that nodes starting together
/// create it once; brings one of `SCHEMA_VERSION_UPGRADABLE` up to date; refuses a
/// database that is not UTF-8 or a schema of another version.
pub(super) fn create(client: &mut Client, target: &Target) -> Result<()> {
    let encoding: String = client.query_one("SHOW server_encoding", &[])?.get(0);
    if encoding != "UTF8" {
        return Err(target.unavailable(&format!(
            "the database's encoding is {encoding}; murphy needs UTF8 (CREATE DATABASE ... ENCODING 'UTF8')"
        )));
    }
    let schema = &target.schema;
    let mut tx = client.transaction()?;
    tx.execute(CREATE_LOCK, &[&LOCK_TAG, schema])?;
    let meta = format!("{schema}.meta");
    let exists: bool = tx.query_one("SELECT to_regclass($1) IS NOT NULL", &[&meta])?.get(0);
    if !exists {
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET LOCAL search_path TO \"{schema}\";"
        ))?;
        tx.batch_execute(&[META, LOG, LEASE, TABLES, APPEND].concat())?;
        let version = i64::try_from(SCHEMA_VERSION).expect("a small version");
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', $1), ('lsn', 0), ('catalog_version', 0)",
            &[&version],
        )?;
    }
    let mut found: Option<i64> = tx
        .query_opt(&format!("SELECT value FROM {meta} WHERE key = 'schema_version'"), &[])?
        .map(|r| r.get(0));
    if found == Some(SCHEMA_VERSION_UPGRADABLE as i64) {
        tx.batch_execute(&format!("SET LOCAL search_path TO \"{schema}\"; {APPEND}"))?;
        let version = i64::try_from(SCHEMA_VERSION).expect("a small version");
        tx.execute(
            &format!("UPDATE {meta} SET value = $1 WHERE key = 'schema_version'"),
            &[&version],
        )?;
        found = Some(version);
    }
    if found == Some(SCHEMA_VERSION as i64) {
        tx.batch_execute(&format!("SET LOCAL search_path TO \"{schema}\"; {ADDITIONS}"))?;
    }
    tx.commit()?;
    match found {
        Some(v) if v == SCHEMA_VERSION as i64 => Ok(()),
        other => Err(StoreError::Corrupt(format!(
            "the PostgreSQL schema {schema} at {} has schema version {}; this murphy reads version {SCHEMA_VERSION}",
            target.location,
            other.map_or("none".into(), |v| v.to_string())
        ))),
    }
}

/// The meta value under `key`, if set.
pub(super) fn meta(client: &mut impl ::postgres::GenericClient, key: &str) -> Result<Option<u64>> {
    let row = client.query_opt("SELECT value FROM meta WHERE key = $1", &[&key])?;
    row.map(|r| super::unsigned(r.get(0))).transpose()
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    /// The schema name is spliced into SQL: only plain lower-case identifiers pass.
    #[test]
    fn only_plain_identifiers_name_a_schema() {
        for good in ["murphy", "_m", "t123_456_7"] {
            assert!(valid_name(good), "{good}");
        }
        let long = "a".repeat(49);
        for bad in [
            "",
            "Murphy",
            "1m",
            "m-x",
            "m\"; DROP TABLE log; --",
            "m x",
            long.as_str(),
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
