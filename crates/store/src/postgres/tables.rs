//! The materialized tables, written: the materializer's steps, each in its own
//! transaction (`load.rs` reads them back). A step gathers its rows into one array per
//! column and writes each table with one statement (`unnest`), so it costs a fixed
//! number of round trips however many rows changed.
//!
//! A step is fenced twice: by the lease epoch (a deposed primary's materializer writes
//! nothing) and by the tables' position (`m.before` must be what the tables hold, or
//! its line diffs would land on the wrong rows).

use std::collections::BTreeMap;
use std::sync::Arc;

use ::postgres::types::{ToSql, Type};
use ::postgres::{Client, Transaction};
use murphy_core::{Section, SessionChange, Student};

use super::{signed, unsigned};
use crate::codec::nanos;
use crate::{Materialization, Result, StoreError};

/// Places handed out in one step stay below this many per line, so `place` values of
/// later steps (`lsn * PLACES_PER_STEP_MAX + i`) always sort after earlier ones.
const PLACES_PER_STEP_MAX: i64 = 1_000_000;

/// The rows of `sections`: one vector per column. A new column: a vector here, a line
/// in `Rows::section`, a `$n` in `UPSERT_SECTIONS`, a field in `load_sections`.
#[derive(Default)]
struct SectionRows {
    id: Vec<String>,
    title: Vec<String>,
    units: Vec<i64>,
    capacity: Vec<i64>,
    waitlist_capacity: Vec<i64>,
    meetings: Vec<String>,
    course: Vec<String>,
    /// JSON: course ids, section ids, reservations in force with their holders.
    prerequisites: Vec<String>,
    linked: Vec<String>,
    reserved: Vec<String>,
    version: Vec<i64>,
}

const UPSERT_SECTIONS: &str = "
INSERT INTO sections (id, title, units, capacity, waitlist_capacity, meetings, course, prerequisites, linked,
    reserved, version)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::text[], $11::bigint[])
ON CONFLICT (id) DO UPDATE SET title = excluded.title, units = excluded.units, capacity = excluded.capacity,
    waitlist_capacity = excluded.waitlist_capacity, meetings = excluded.meetings, course = excluded.course,
    prerequisites = excluded.prerequisites, linked = excluded.linked, reserved = excluded.reserved,
    version = excluded.version";

/// The rows of `students`, as `SectionRows`.
#[derive(Default)]
struct StudentRows {
    id: Vec<String>,
    name: Vec<String>,
    max_units: Vec<i64>,
    appointment: Vec<Option<i64>>,
    balance_cents: Vec<i64>,
    major: Vec<Option<String>>,
    standing: Vec<Option<String>>,
    /// JSON: course ids; lecture -> linked section chosen.
    completed: Vec<String>,
    waiting_with: Vec<String>,
    version: Vec<i64>,
}

const UPSERT_STUDENTS: &str = "
INSERT INTO students (id, name, max_units, appointment, balance_cents, major, standing, completed, waiting_with,
    version)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::bigint[])
ON CONFLICT (id) DO UPDATE SET name = excluded.name, max_units = excluded.max_units,
    appointment = excluded.appointment, balance_cents = excluded.balance_cents, major = excluded.major,
    standing = excluded.standing, completed = excluded.completed, waiting_with = excluded.waiting_with,
    version = excluded.version";

/// A student's permission numbers, written with the student (few, never removed).
#[derive(Default)]
struct PermissionRows {
    student: Vec<String>,
    code: Vec<String>,
    section: Vec<String>,
    issued: Vec<i64>,
    used: Vec<Option<i64>>,
}

const UPSERT_PERMISSIONS: &str = "
INSERT INTO permissions (student, code, section, issued, used)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
ON CONFLICT (student, code) DO UPDATE SET section = excluded.section, issued = excluded.issued,
    used = excluded.used";

#[derive(Default)]
struct SessionRows {
    client: Vec<String>,
    owner: Vec<String>,
    seq: Vec<i64>,
    last_at: Vec<i64>,
    recent: Vec<String>,
    expired_at: Vec<Option<i64>>,
    gone: Vec<String>,
}

const UPSERT_SESSIONS: &str = "
INSERT INTO sessions (client, owner, seq, last_at, recent, expired_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[])
ON CONFLICT (client) DO UPDATE SET owner = excluded.owner, seq = excluded.seq, last_at = excluded.last_at,
    recent = excluded.recent, expired_at = excluded.expired_at";

/// The changes of one line table (`enrollments` or `waitlists`).
#[derive(Default)]
struct LineRows {
    leave_section: Vec<String>,
    leave_student: Vec<String>,
    join_section: Vec<String>,
    join_place: Vec<i64>,
    join_student: Vec<String>,
}

#[derive(Default)]
struct Rows {
    sections: SectionRows,
    lines: [LineRows; 2],
    students: StudentRows,
    permissions: PermissionRows,
    sessions: SessionRows,
}

pub(super) fn materialize(client: &mut Client, held: u64, m: &Materialization<'_>) -> Result<()> {
    let place_base = i64::try_from(m.after.lsn())
        .ok()
        .and_then(|lsn| lsn.checked_mul(PLACES_PER_STEP_MAX))
        .ok_or_else(|| StoreError::Corrupt(format!("lsn {} is past what places can order", m.after.lsn())))?;
    let mut rows = Rows::default();
    for id in &m.changes.sections {
        let section = m
            .after
            .section(id)
            .ok_or_else(|| StoreError::Corrupt(format!("changed section {id} is gone")))?;
        rows.section(m.before.section(id), section, place_base)?;
    }
    for id in &m.changes.students {
        let student = m
            .after
            .student(id)
            .ok_or_else(|| StoreError::Corrupt(format!("changed student {id} is gone")))?;
        rows.student(student)?;
    }
    // The latest change of each session wins, as if written one after the other.
    let sessions: BTreeMap<&str, &SessionChange> = m.sessions.iter().map(|c| (c.client.as_str(), c)).collect();
    for change in sessions.into_values() {
        rows.session(change)?;
    }
    let mut tx = client.transaction()?;
    fence(&mut tx, held, m.before.lsn())?;
    rows.write(&mut tx)?;
    let set_meta = "UPDATE meta SET value = $2 WHERE key = $1";
    tx.execute(set_meta, &[&"lsn", &signed(m.after.lsn())?])?;
    tx.execute(set_meta, &[&"catalog_version", &signed(m.after.catalog_version())?])?;
    if m.after.rules() != m.before.rules() {
        // Added after the schema's first version: inserted the first time.
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('rules', $1) ON CONFLICT (key) DO UPDATE SET value = $1",
            &[&i64::from(m.after.rules().number())],
        )?;
    }
    if m.before.line() != m.after.line() {
        let upsert = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2";
        for (key, value) in crate::line_meta::rows(m.after.line())? {
            tx.execute(upsert, &[&key, &signed(value)?])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Holds the lease row shared (a takeover waits for this step) and the tables'
/// position exclusively, and checks both: this node's epoch, and tables at `before`.
fn fence(tx: &mut Transaction<'_>, held: u64, before: u64) -> Result<()> {
    let current = unsigned(tx.query_one("SELECT epoch FROM lease FOR SHARE", &[])?.get(0))?;
    if held == 0 || current != held {
        return Err(StoreError::Fenced {
            held: (held > 0).then_some(held),
            current: Some(current),
        });
    }
    let at = unsigned(
        tx.query_one("SELECT value FROM meta WHERE key = 'lsn' FOR UPDATE", &[])?
            .get(0),
    )?;
    if at != before {
        return Err(StoreError::Corrupt(format!(
            "the tables are at lsn {at}, not at lsn {before} where this step starts: another node wrote them"
        )));
    }
    Ok(())
}

impl LineRows {
    /// Brings the stored line of `section` from `old` to `new`: lines lose members
    /// anywhere and gain them at the end, so one walk finds the members kept (in
    /// order), those gone (deleted) and those new at the end (inserted). A member out
    /// of order is deleted and inserted again at its new place.
    fn diff(&mut self, section: &str, old: &[Arc<str>], new: &[Arc<str>], place_base: i64) {
        assert!(
            (new.len() as i64) < PLACES_PER_STEP_MAX,
            "line of {section} too long for its places"
        );
        let mut kept = 0;
        for member in old {
            if new.get(kept) == Some(member) {
                kept += 1;
            } else {
                self.leave_section.push(section.to_owned());
                self.leave_student.push(member.to_string());
            }
        }
        for (i, member) in new[kept..].iter().enumerate() {
            self.join_section.push(section.to_owned());
            self.join_place.push(place_base + i as i64);
            self.join_student.push(member.to_string());
        }
    }

    fn write(&self, tx: &mut Transaction<'_>, table: &str) -> Result<()> {
        let leave =
            format!("DELETE FROM {table} WHERE (section, student) IN (SELECT * FROM unnest($1::text[], $2::text[]))");
        let (sections, students) = (&self.leave_section, &self.leave_student);
        execute(tx, &leave, sections.len(), &[(sections, TEXTS), (students, TEXTS)])?;
        let join = format!(
            "INSERT INTO {table} (section, place, student) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])"
        );
        let (sections, places, students) = (&self.join_section, &self.join_place, &self.join_student);
        execute(
            tx,
            &join,
            sections.len(),
            &[(sections, TEXTS), (places, INTS), (students, TEXTS)],
        )
    }
}

impl Rows {
    fn section(&mut self, before: Option<&Section>, s: &Section, place_base: i64) -> Result<()> {
        let rows = &mut self.sections;
        rows.id.push(s.id.to_string());
        rows.title.push(s.title.clone());
        rows.units.push(s.units.into());
        rows.capacity.push(s.capacity.into());
        rows.waitlist_capacity.push(s.waitlist_capacity.into());
        rows.meetings.push(serde_json::to_string(&s.meetings)?);
        rows.course.push(s.course.to_string());
        rows.prerequisites.push(serde_json::to_string(&*s.prerequisites)?);
        rows.linked.push(serde_json::to_string(&*s.linked)?);
        rows.reserved.push(serde_json::to_string(&s.reserved)?);
        rows.version.push(signed(s.version)?);
        let (old_enrolled, old_waitlist) = before.map_or((&[][..], &[][..]), |b| (&b.enrolled[..], &b.waitlist[..]));
        let [enrollments, waitlists] = &mut self.lines;
        enrollments.diff(&s.id, old_enrolled, &s.enrolled, place_base);
        waitlists.diff(&s.id, old_waitlist, &s.waitlist, place_base);
        Ok(())
    }

    fn student(&mut self, s: &Student) -> Result<()> {
        let rows = &mut self.students;
        rows.id.push(s.id.to_string());
        rows.name.push(s.name.clone());
        rows.max_units.push(s.max_units.into());
        rows.appointment.push(s.appointment.map(nanos));
        rows.balance_cents.push(s.balance_cents);
        rows.major.push(s.major.as_deref().map(str::to_owned));
        rows.standing.push(s.standing.as_deref().map(str::to_owned));
        let completed: Vec<&str> = s.completed.iter().map(|c| &**c).collect();
        rows.completed.push(serde_json::to_string(&completed)?);
        rows.waiting_with.push(serde_json::to_string(&s.waiting_with)?);
        rows.version.push(signed(s.version)?);
        let permissions = &mut self.permissions;
        for p in &s.permissions {
            permissions.student.push(s.id.to_string());
            permissions.code.push(p.code.clone());
            permissions.section.push(p.section.clone());
            permissions.issued.push(signed(p.issued)?);
            permissions.used.push(p.used.map(signed).transpose()?);
        }
        Ok(())
    }

    fn session(&mut self, change: &SessionChange) -> Result<()> {
        let rows = &mut self.sessions;
        let Some(s) = &change.row else {
            rows.gone.push(change.client.clone());
            return Ok(());
        };
        rows.client.push(s.client.clone());
        rows.owner.push(s.owner.clone());
        rows.seq.push(signed(s.seq)?);
        rows.last_at.push(nanos(s.last_at));
        rows.recent.push(serde_json::to_string(&s.recent)?);
        rows.expired_at.push(s.expired_at.map(nanos));
        Ok(())
    }

    fn write(&self, tx: &mut Transaction<'_>) -> Result<()> {
        let s = &self.sections;
        execute(
            tx,
            UPSERT_SECTIONS,
            s.id.len(),
            &[
                (&s.id, TEXTS),
                (&s.title, TEXTS),
                (&s.units, INTS),
                (&s.capacity, INTS),
                (&s.waitlist_capacity, INTS),
                (&s.meetings, TEXTS),
                (&s.course, TEXTS),
                (&s.prerequisites, TEXTS),
                (&s.linked, TEXTS),
                (&s.reserved, TEXTS),
                (&s.version, INTS),
            ],
        )?;
        let [enrollments, waitlists] = &self.lines;
        enrollments.write(tx, "enrollments")?;
        waitlists.write(tx, "waitlists")?;
        let s = &self.students;
        execute(
            tx,
            UPSERT_STUDENTS,
            s.id.len(),
            &[
                (&s.id, TEXTS),
                (&s.name, TEXTS),
                (&s.max_units, INTS),
                (&s.appointment, INTS),
                (&s.balance_cents, INTS),
                (&s.major, TEXTS),
                (&s.standing, TEXTS),
                (&s.completed, TEXTS),
                (&s.waiting_with, TEXTS),
                (&s.version, INTS),
            ],
        )?;
        let p = &self.permissions;
        execute(
            tx,
            UPSERT_PERMISSIONS,
            p.student.len(),
            &[
                (&p.student, TEXTS),
                (&p.code, TEXTS),
                (&p.section, TEXTS),
                (&p.issued, INTS),
                (&p.used, INTS),
            ],
        )?;
        let s = &self.sessions;
        execute(
            tx,
            UPSERT_SESSIONS,
            s.client.len(),
            &[
                (&s.client, TEXTS),
                (&s.owner, TEXTS),
                (&s.seq, INTS),
                (&s.last_at, INTS),
                (&s.recent, TEXTS),
                (&s.expired_at, INTS),
            ],
        )?;
        let gone = "DELETE FROM sessions WHERE client = ANY($1::text[])";
        execute(tx, gone, s.gone.len(), &[(&s.gone, TEXTS)])
    }
}

const TEXTS: Type = Type::TEXT_ARRAY;
const INTS: Type = Type::INT8_ARRAY;

/// Runs one statement over `rows` rows given as arrays, skipped when there are none.
/// The types are given, so it goes out in one round trip (no statement to prepare).
fn execute(tx: &mut Transaction<'_>, sql: &str, rows: usize, params: &[(&(dyn ToSql + Sync), Type)]) -> Result<()> {
    if rows > 0 {
        tx.execute_typed(sql, params)?;
    }
    Ok(())
}
