//! The materialized tables, read back at start-up: every table in one read-only
//! snapshot (`REPEATABLE READ`), so a step committed meanwhile by the materializer is
//! seen whole or not at all.

use std::collections::HashMap;
use std::sync::Arc;

use ::postgres::{Client, IsolationLevel, Transaction};
use murphy_core::{Permission, ReservedSeats, Section, SessionRow, State, Student};

use super::{schema, small, unsigned};
use crate::codec::instant;
use crate::{Result, StoreError, Tables};

pub(super) fn load(client: &mut Client) -> Result<Tables> {
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let lsn = schema::meta(&mut tx, "lsn")?.unwrap_or(0);
    let catalog_version = schema::meta(&mut tx, "catalog_version")?.unwrap_or(0);
    let rules = crate::codec::rules_version(schema::meta(&mut tx, "rules")?)?;
    let window = crate::line_meta::window(|key| schema::meta(&mut tx, key))?;
    let state = State::restore(lsn, catalog_version, rules, sections(&mut tx)?, students(&mut tx)?)
        .and_then(|state| state.with_line(window))
        .map_err(StoreError::Corrupt)?;
    let sessions = sessions(&mut tx)?;
    tx.commit()?;
    Ok(Tables { state, sessions })
}

fn sections(tx: &mut Transaction<'_>) -> Result<Vec<Section>> {
    let mut enrollments = lines(tx, "enrollments")?;
    let mut waitlists = lines(tx, "waitlists")?;
    let rows = tx.query(
        "SELECT id, title, units, capacity, waitlist_capacity, meetings, course, prerequisites, linked, reserved,
             version FROM sections",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get(0)?;
            Ok(Section {
                title: r.try_get(1)?,
                units: small(r.try_get(2)?)?,
                capacity: small(r.try_get(3)?)?,
                waitlist_capacity: small(r.try_get(4)?)?,
                meetings: serde_json::from_str(r.try_get(5)?)?,
                course: r.try_get::<_, &str>(6)?.into(),
                prerequisites: serde_json::from_str::<Vec<String>>(r.try_get(7)?)?.into(),
                linked: serde_json::from_str::<Vec<String>>(r.try_get(8)?)?.into(),
                linked_to: None,
                reserved: serde_json::from_str::<Vec<ReservedSeats>>(r.try_get(9)?)?,
                version: unsigned(r.try_get(10)?)?,
                enrolled: enrollments.remove(&id).unwrap_or_default(),
                waitlist: waitlists.remove(&id).unwrap_or_default(),
                id,
            })
        })
        .collect()
}

/// Every line of `table`, by section, each in order: one scan, not one per section.
fn lines(tx: &mut Transaction<'_>, table: &str) -> Result<HashMap<String, Vec<Arc<str>>>> {
    let rows = tx.query(
        &format!("SELECT section, student FROM {table} ORDER BY section, place"),
        &[],
    )?;
    let mut lines: HashMap<String, Vec<Arc<str>>> = HashMap::new();
    for row in &rows {
        let student: &str = row.try_get(1)?;
        lines.entry(row.try_get(0)?).or_default().push(student.into());
    }
    Ok(lines)
}

fn students(tx: &mut Transaction<'_>) -> Result<Vec<Student>> {
    let mut permissions = permissions(tx)?;
    let rows = tx.query(
        "SELECT id, name, max_units, appointment, balance_cents, major, standing, completed, waiting_with, version
             FROM students",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get(0)?;
            let completed: Vec<String> = serde_json::from_str(r.try_get(7)?)?;
            Ok(Student {
                permissions: permissions.remove(&id).unwrap_or_default(),
                id,
                name: r.try_get(1)?,
                max_units: small(r.try_get(2)?)?,
                appointment: r.try_get::<_, Option<i64>>(3)?.map(instant).transpose()?,
                balance_cents: r.try_get(4)?,
                major: r.try_get::<_, Option<&str>>(5)?.map(Arc::from),
                standing: r.try_get::<_, Option<&str>>(6)?.map(Arc::from),
                completed: completed.into_iter().map(Arc::from).collect(),
                waiting_with: serde_json::from_str(r.try_get(8)?)?,
                version: unsigned(r.try_get(9)?)?,
                enrolled: Default::default(),
                waitlisted: Default::default(),
                units: 0,
            })
        })
        .collect()
}

/// Every permission number, by student, in the order issued.
fn permissions(tx: &mut Transaction<'_>) -> Result<HashMap<String, Vec<Permission>>> {
    let rows = tx.query(
        "SELECT student, code, section, issued, used FROM permissions ORDER BY issued",
        &[],
    )?;
    let mut by_student: HashMap<String, Vec<Permission>> = HashMap::new();
    for r in &rows {
        by_student.entry(r.try_get(0)?).or_default().push(Permission {
            code: r.try_get(1)?,
            section: r.try_get(2)?,
            issued: unsigned(r.try_get(3)?)?,
            used: r.try_get::<_, Option<i64>>(4)?.map(unsigned).transpose()?,
        });
    }
    Ok(by_student)
}

fn sessions(tx: &mut Transaction<'_>) -> Result<Vec<SessionRow>> {
    let rows = tx.query(
        "SELECT client, owner, seq, last_at, recent, expired_at FROM sessions",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            Ok(SessionRow {
                client: r.try_get(0)?,
                owner: r.try_get(1)?,
                seq: unsigned(r.try_get(2)?)?,
                last_at: instant(r.try_get(3)?)?,
                recent: serde_json::from_str(r.try_get(4)?)?,
                expired_at: r.try_get::<_, Option<i64>>(5)?.map(instant).transpose()?,
            })
        })
        .collect()
}
