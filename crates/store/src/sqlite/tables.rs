//! The materialized tables: written by the materializer in its own transactions, one
//! row per entity changed since its last step (line diffs for enrollments and
//! waitlists), and loaded back at start-up.

use std::collections::HashMap;
use std::sync::Arc;

use murphy_core::{Permission, ReservedSeats, Section, SessionChange, SessionRow, State, Student};
use rusqlite::{Connection, Statement, Transaction, TransactionBehavior, params};

use super::schema;
use crate::codec::{instant, nanos};
use crate::{Materialization, Result, StoreError, Tables, line_meta};

/// Places handed out in one step stay below this many per line, so `place` values of
/// later steps (`lsn * PLACES_PER_STEP_MAX + i`) always sort after earlier ones.
const PLACES_PER_STEP_MAX: i64 = 1_000_000;

pub(super) fn materialize(conn: &mut Connection, m: &Materialization<'_>) -> Result<()> {
    let place_base = i64::try_from(m.after.lsn())
        .ok()
        .and_then(|lsn| lsn.checked_mul(PLACES_PER_STEP_MAX))
        .ok_or_else(|| StoreError::Corrupt(format!("lsn {} is past what places can order", m.after.lsn())))?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut rows = Rows::prepare(&tx)?;
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
        for change in m.sessions {
            rows.session(change)?;
        }
    }
    schema::set_meta(&tx, "lsn", m.after.lsn())?;
    schema::set_meta(&tx, "catalog_version", m.after.catalog_version())?;
    if m.after.rules() != m.before.rules() {
        schema::set_meta(&tx, "rules", u64::from(m.after.rules().number()))?;
    }
    if m.before.line() != m.after.line() {
        for (key, value) in line_meta::rows(m.after.line())? {
            schema::set_meta(&tx, key, value)?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The statements of one materializer step, prepared once for all its rows.
struct Rows<'t> {
    section: Statement<'t>,
    student: Statement<'t>,
    permission: Statement<'t>,
    session: Statement<'t>,
    session_gone: Statement<'t>,
    lines: [Line<'t>; 2],
}

/// The statements of one line table (`enrollments` or `waitlists`).
struct Line<'t> {
    join: Statement<'t>,
    leave: Statement<'t>,
}

impl<'t> Line<'t> {
    fn prepare(tx: &'t Transaction<'_>, table: &str) -> Result<Line<'t>> {
        Ok(Line {
            join: tx.prepare(&format!(
                "INSERT INTO {table} (section, place, student) VALUES (?1, ?2, ?3)"
            ))?,
            leave: tx.prepare(&format!("DELETE FROM {table} WHERE section = ?1 AND student = ?2"))?,
        })
    }

    /// Brings the stored line of `section` from `old` to `new`. Lines lose members
    /// anywhere and gain them at the end, so one walk finds the members kept (in order),
    /// those gone (deleted) and those new at the end (inserted): work proportional to
    /// the change. Any other change still comes out right, with more writes: a member
    /// out of order is deleted and inserted again at its new place.
    fn write(&mut self, section: &str, old: &[Arc<str>], new: &[Arc<str>], place_base: i64) -> Result<()> {
        assert!(
            (new.len() as i64) < PLACES_PER_STEP_MAX,
            "line of {section} too long for its places"
        );
        let mut kept = 0;
        for member in old {
            if new.get(kept) == Some(member) {
                kept += 1;
            } else {
                self.leave.execute(params![section, &**member])?;
            }
        }
        for (i, member) in new[kept..].iter().enumerate() {
            self.join.execute(params![section, place_base + i as i64, &**member])?;
        }
        Ok(())
    }
}

impl<'t> Rows<'t> {
    fn prepare(tx: &'t Transaction<'_>) -> Result<Rows<'t>> {
        Ok(Rows {
            section: tx.prepare(
                "INSERT INTO sections (id, title, units, capacity, waitlist_capacity, meetings, course,
                     prerequisites, linked, reserved, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (id) DO UPDATE SET capacity = excluded.capacity,
                     reserved = excluded.reserved, version = excluded.version",
            )?,
            student: tx.prepare(
                "INSERT INTO students (id, name, max_units, appointment, balance_cents, major, standing,
                     completed, waiting_with, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (id) DO UPDATE SET appointment = excluded.appointment,
                     balance_cents = excluded.balance_cents, completed = excluded.completed,
                     waiting_with = excluded.waiting_with, version = excluded.version",
            )?,
            permission: tx.prepare(
                "INSERT OR REPLACE INTO permissions (student, code, section, issued, used)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            session: tx.prepare(
                "INSERT OR REPLACE INTO sessions (client, owner, seq, last_at, recent, expired_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?,
            session_gone: tx.prepare("DELETE FROM sessions WHERE client = ?1")?,
            lines: [Line::prepare(tx, "enrollments")?, Line::prepare(tx, "waitlists")?],
        })
    }

    fn section(&mut self, before: Option<&Section>, s: &Section, place_base: i64) -> Result<()> {
        self.section.execute(params![
            s.id,
            s.title,
            s.units,
            s.capacity,
            s.waitlist_capacity,
            serde_json::to_string(&s.meetings)?,
            &*s.course,
            serde_json::to_string(&*s.prerequisites)?,
            serde_json::to_string(&*s.linked)?,
            serde_json::to_string(&s.reserved)?,
            s.version
        ])?;
        let (old_enrolled, old_waitlist) = before.map_or((&[][..], &[][..]), |b| (&b.enrolled[..], &b.waitlist[..]));
        let [enrollments, waitlists] = &mut self.lines;
        enrollments.write(&s.id, old_enrolled, &s.enrolled, place_base)?;
        waitlists.write(&s.id, old_waitlist, &s.waitlist, place_base)
    }

    /// The student's row and their permission numbers (few, and never removed).
    fn student(&mut self, s: &Student) -> Result<()> {
        let completed: Vec<&str> = s.completed.iter().map(|c| &**c).collect();
        self.student.execute(params![
            s.id,
            s.name,
            s.max_units,
            s.appointment.map(nanos),
            s.balance_cents,
            s.major.as_deref(),
            s.standing.as_deref(),
            serde_json::to_string(&completed)?,
            serde_json::to_string(&s.waiting_with)?,
            s.version
        ])?;
        for p in &s.permissions {
            self.permission
                .execute(params![s.id, p.code, p.section, p.issued, p.used])?;
        }
        Ok(())
    }

    fn session(&mut self, change: &SessionChange) -> Result<()> {
        match &change.row {
            Some(s) => self.session.execute(params![
                s.client,
                s.owner,
                s.seq,
                nanos(s.last_at),
                serde_json::to_string(&s.recent)?,
                s.expired_at.map(nanos),
            ])?,
            None => self.session_gone.execute([&change.client])?,
        };
        Ok(())
    }
}

pub(super) fn load(conn: &Connection) -> Result<Tables> {
    let lsn = schema::meta(conn, "lsn")?.unwrap_or(0);
    let catalog_version = schema::meta(conn, "catalog_version")?.unwrap_or(0);
    let rules = crate::codec::rules_version(schema::meta(conn, "rules")?)?;
    let window = line_meta::window(|key| schema::meta(conn, key))?;
    let state = State::restore(lsn, catalog_version, rules, load_sections(conn)?, load_students(conn)?)
        .and_then(|state| state.with_line(window))
        .map_err(StoreError::Corrupt)?;
    Ok(Tables {
        state,
        sessions: load_sessions(conn)?,
    })
}

fn load_sections(conn: &Connection) -> Result<Vec<Section>> {
    let mut enrollments = load_lines(conn, "enrollments")?;
    let mut waitlists = load_lines(conn, "waitlists")?;
    let mut stmt = conn.prepare(
        "SELECT id, title, units, capacity, waitlist_capacity, meetings, course, prerequisites, linked,
             reserved, version FROM sections ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut sections = Vec::new();
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let json = |i: usize| r.get::<_, String>(i);
        sections.push(Section {
            title: r.get(1)?,
            units: r.get(2)?,
            capacity: r.get(3)?,
            waitlist_capacity: r.get(4)?,
            meetings: serde_json::from_str(&json(5)?)?,
            course: r.get::<_, String>(6)?.into(),
            prerequisites: serde_json::from_str::<Vec<String>>(&json(7)?)?.into(),
            linked: serde_json::from_str::<Vec<String>>(&json(8)?)?.into(),
            linked_to: None,
            reserved: serde_json::from_str::<Vec<ReservedSeats>>(&json(9)?)?,
            version: r.get(10)?,
            enrolled: enrollments.remove(&id).unwrap_or_default(),
            waitlist: waitlists.remove(&id).unwrap_or_default(),
            id,
        });
    }
    Ok(sections)
}

/// Every line of `table`, by section, each in order: one scan, not one per section.
fn load_lines(conn: &Connection, table: &str) -> Result<HashMap<String, Vec<Arc<str>>>> {
    let mut stmt = conn.prepare(&format!("SELECT section, student FROM {table} ORDER BY section, place"))?;
    let mut lines: HashMap<String, Vec<Arc<str>>> = HashMap::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let student: String = row.get(1)?;
        lines.entry(row.get(0)?).or_default().push(student.into());
    }
    Ok(lines)
}

fn load_students(conn: &Connection) -> Result<Vec<Student>> {
    let mut permissions = load_permissions(conn)?;
    let mut stmt = conn.prepare(
        "SELECT id, name, max_units, appointment, balance_cents, major, standing, completed, waiting_with,
             version FROM students ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut students = Vec::new();
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let completed: Vec<String> = serde_json::from_str(&r.get::<_, String>(7)?)?;
        students.push(Student {
            name: r.get(1)?,
            max_units: r.get(2)?,
            appointment: r.get::<_, Option<i64>>(3)?.map(instant).transpose()?,
            balance_cents: r.get(4)?,
            major: r.get::<_, Option<String>>(5)?.map(Arc::from),
            standing: r.get::<_, Option<String>>(6)?.map(Arc::from),
            completed: completed.into_iter().map(Arc::from).collect(),
            waiting_with: serde_json::from_str(&r.get::<_, String>(8)?)?,
            version: r.get(9)?,
            permissions: permissions.remove(&id).unwrap_or_default(),
            enrolled: Default::default(),
            waitlisted: Default::default(),
            units: 0,
            id,
        });
    }
    Ok(students)
}

/// Every permission number, by student, in the order issued.
fn load_permissions(conn: &Connection) -> Result<HashMap<String, Vec<Permission>>> {
    let mut stmt = conn.prepare("SELECT student, code, section, issued, used FROM permissions ORDER BY issued")?;
    let mut by_student: HashMap<String, Vec<Permission>> = HashMap::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        by_student.entry(r.get(0)?).or_default().push(Permission {
            code: r.get(1)?,
            section: r.get(2)?,
            issued: r.get(3)?,
            used: r.get(4)?,
        });
    }
    Ok(by_student)
}

fn load_sessions(conn: &Connection) -> Result<Vec<SessionRow>> {
    let mut stmt = conn.prepare("SELECT client, owner, seq, last_at, recent, expired_at FROM sessions")?;
    let mut rows = stmt.query([])?;
    let mut sessions = Vec::new();
    while let Some(r) = rows.next()? {
        sessions.push(SessionRow {
            client: r.get(0)?,
            owner: r.get(1)?,
            seq: r.get(2)?,
            last_at: instant(r.get(3)?)?,
            recent: serde_json::from_str(&r.get::<_, String>(4)?)?,
            expired_at: r.get::<_, Option<i64>>(5)?.map(instant).transpose()?,
        });
    }
    Ok(sessions)
}
