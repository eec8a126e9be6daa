//! The suite's model: the truth a backend is compared with, built the way the server's
//! pipeline builds it (apply in memory, append, materialize what changed, coalesced).
//! Its catalog has every kind of entity data a backend must keep: plain sections, a
//! lecture with two linked sections, prerequisites, seats reserved until an instant the
//! runs pass (so releases happen), students with majors, standings and completed
//! courses; its commands add completions, permission numbers (issued and used), pairs
//! enrolled and waited for, and swaps between linked sections.

use std::collections::BTreeMap;

use murphy_core::{
    Changes, Command, LogEntry, Meeting, Population, Reservation, SessionChange, SessionLimits, Sessions, State,
};
use murphy_store::{Backend, Materialization, Records, TokenRow};
use time::{Duration, OffsetDateTime};

pub const SECTIONS: u8 = 4;
pub const STUDENTS: u8 = 10;

pub fn limits() -> SessionLimits {
    SessionLimits::default()
}

pub struct Model {
    pub state: State,
    pub sessions: Sessions,
    tokens: BTreeMap<String, String>,
    /// What the tables hold.
    pub materialized: State,
    changes: Changes,
    session_changes: BTreeMap<String, SessionChange>,
    pub at: OffsetDateTime,
    seqs: BTreeMap<String, u64>,
}

impl Model {
    /// A model whose first batch, appended to `backend`, creates the catalog.
    pub fn set_up(backend: &dyn Backend) -> Model {
        let mut model = Model {
            state: State::default(),
            sessions: Sessions::new(limits()),
            tokens: BTreeMap::new(),
            materialized: State::default(),
            changes: Changes::default(),
            session_changes: BTreeMap::new(),
            at: start(),
            seqs: BTreeMap::new(),
        };
        model.append(backend, &catalog());
        model.append(backend, &linked_sections());
        model
    }

    /// Appends `commands` as one batch outside any session.
    pub fn append(&mut self, backend: &dyn Backend, commands: &[Command]) {
        self.sessions.expire(self.at);
        let entries = entries(&mut self.state, commands, self.at);
        self.commit(backend, entries, Vec::new());
    }

    /// Appends `commands` as the next request of session `client`, owned by `owner`.
    pub fn request(&mut self, backend: &dyn Backend, client: &str, owner: &str, commands: &[Command]) {
        self.sessions.expire(self.at);
        let seq = self.seqs.entry(client.to_owned()).or_insert(0);
        *seq += 1;
        let first_lsn = self.state.lsn() + 1;
        let mut entries = entries(&mut self.state, commands, self.at);
        for e in &mut entries {
            e.client = Some(client.to_owned());
            e.seq = Some(*seq);
            e.owner = Some(owner.to_owned());
        }
        let n = entries.len() as u32;
        self.sessions.record(owner, client, *seq, self.at, first_lsn, n, None);
        self.commit(backend, entries, Vec::new());
    }

    pub fn mint(&mut self, backend: &dyn Backend, student: &str, hash: &str) {
        self.tokens.insert(hash.to_owned(), student.to_owned());
        let token = TokenRow {
            hash: hash.to_owned(),
            student: student.to_owned(),
        };
        self.commit(backend, Vec::new(), vec![token]);
    }

    /// Brings the tables level with the state, in one coalesced step.
    pub fn materialize(&mut self, backend: &dyn Backend) {
        let sessions: Vec<SessionChange> = std::mem::take(&mut self.session_changes).into_values().collect();
        backend
            .materialize(&Materialization {
                before: &self.materialized,
                after: &self.state,
                changes: &self.changes,
                sessions: &sessions,
            })
            .unwrap();
        self.materialized = self.state.clone();
        self.changes = Changes::default();
    }

    /// Moves the clock on.
    pub fn later(&mut self, by: Duration) {
        self.at += by;
    }

    /// Every token minted: (hash, student), sorted.
    pub fn tokens(&self) -> Vec<(String, String)> {
        self.tokens.iter().map(|(h, s)| (h.clone(), s.clone())).collect()
    }

    fn commit(&mut self, backend: &dyn Backend, entries: Vec<LogEntry>, tokens: Vec<TokenRow>) {
        backend.append(&Records { entries, tokens }).unwrap();
        let changes = self.state.take_changes();
        self.changes.sections.extend(changes.sections);
        self.changes.students.extend(changes.students);
        for change in self.sessions.take_changes() {
            self.session_changes.insert(change.client.clone(), change);
        }
        self.at += Duration::milliseconds(1);
    }
}

/// The model's first instant; each commit moves the clock a millisecond on.
fn start() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
}

/// The permission number an `enroll` stands for until it is applied: the student's
/// latest one, whatever the code the log made it.
const LATEST_PERMISSION: &str = "LATEST";

/// Applies `commands` to `state` at `at`, as the log entries they make.
pub fn entries(state: &mut State, commands: &[Command], at: OffsetDateTime) -> Vec<LogEntry> {
    commands
        .iter()
        .map(|c| {
            let command = with_open_window(state, &with_latest_permission(state, c));
            let applied = state.apply(at, &command);
            LogEntry {
                lsn: applied.lsn,
                at,
                rules: applied.rules,
                client: None,
                seq: None,
                owner: None,
                command,
                outcome: applied.outcome,
                effects: applied.effects,
            }
        })
        .collect()
}

/// An `advance_line` of window `OPEN_WINDOW` moves the window open then.
pub const OPEN_WINDOW: u64 = u64::MAX;

fn with_open_window(state: &State, command: &Command) -> Command {
    let mut command = command.clone();
    if let Command::AdvanceLine { window, .. } = &mut command
        && *window == OPEN_WINDOW
        && let Some(open) = state.line()
    {
        *window = open.id;
    }
    command
}

/// An enroll naming `LATEST_PERMISSION` names the student's latest code instead.
fn with_latest_permission(state: &State, command: &Command) -> Command {
    let mut command = command.clone();
    if let Command::Enroll {
        student,
        permission: Some(code),
        ..
    } = &mut command
        && code == LATEST_PERMISSION
        && let Some(latest) = state.student(student).and_then(|s| s.permissions.last())
    {
        *code = latest.code.clone();
    }
    command
}

fn catalog() -> Vec<Command> {
    let slots = [
        ("MW", "10:00", "11:00"),
        ("MW", "10:30", "11:30"),
        ("TR", "10:00", "11:00"),
        ("F", "09:00", "10:00"),
    ];
    let mut commands: Vec<Command> = (0..SECTIONS)
        .map(|i| {
            let (days, start, end) = slots[i as usize];
            let meetings = vec![Meeting::parse(days, start, end).unwrap()];
            Command::create_section(&format!("S{i}"), &format!("Section {i}"), 4, 2, 3, meetings)
        })
        .collect();
    registrar_sections(&mut commands);
    commands.extend((0..STUDENTS).map(|i| Command::CreateStudent {
        student: format!("p{i}"),
        name: format!("Student {i}"),
        max_units: 12,
        major: Some(["M", "N"][usize::from(i % 2)].into()),
        standing: (i % 3 == 0).then(|| "senior".into()),
        completed: if i % 2 == 0 { vec!["C9".into()] } else { vec![] },
    }));
    commands
}

/// S1 holds a seat for majors of M for the first 20 ms; S3 requires course C9; the
/// lecture L is taken with L-A or L-B (and requires C9 too).
fn registrar_sections(commands: &mut [Command]) {
    if let Command::CreateSection { reserved, .. } = &mut commands[1] {
        reserved.push(Reservation {
            population: Population::Major("M".into()),
            seats: 1,
            until: start() + Duration::milliseconds(20),
        });
    }
    if let Command::CreateSection { prerequisites, .. } = &mut commands[3] {
        prerequisites.push("C9".into());
    }
}

/// The lecture and its linked sections, linked ones first.
fn linked_sections() -> Vec<Command> {
    let part = |id: &str, days| {
        let meetings = vec![Meeting::parse(days, "13:00", "14:00").unwrap()];
        Command::create_section(id, "Discussion", 0, 1, 0, meetings)
    };
    let mut lecture = Command::create_section("L", "Lecture", 2, 2, 2, vec![]);
    if let Command::CreateSection {
        linked, prerequisites, ..
    } = &mut lecture
    {
        *linked = vec!["L-A".into(), "L-B".into()];
        prerequisites.push("C9".into());
    }
    vec![part("L-A", "M"), part("L-B", "T"), lecture]
}

pub fn enroll(student: &str, section: &str) -> Command {
    Command::enroll(student, section, false)
}

/// A command from five random numbers: every kind that changes sections, students or
/// the waiting room's window.
pub fn command((kind, student, section, other, amount): (u8, u8, u8, u8, i64)) -> Command {
    let (student, section) = (format!("p{}", student % STUDENTS), format!("S{}", section % SECTIONS));
    let to = format!(
        "S{}",
        (section.as_bytes()[1] - b'0' + 1 + other % (SECTIONS - 1)) % SECTIONS
    );
    let part = ["L-A", "L-B"][usize::from(other % 2)];
    match kind % 14 {
        0 | 1 => Command::enroll(&student, &section, other % 2 == 0),
        2 => Command::Drop { student, section },
        3 => Command::swap(&student, &section, &to),
        4 => Command::Deposit {
            student,
            amount_cents: amount,
        },
        5 => Command::Withdraw {
            student,
            amount_cents: amount,
        },
        6 => Command::SetCapacity {
            section,
            capacity: u32::from(other % 4) + 1,
        },
        7 => Command::Enroll {
            student,
            section: "L".into(),
            waitlist: other % 3 != 0,
            with: Some(part.into()),
            permission: (other % 5 == 0).then(|| LATEST_PERMISSION.into()),
        },
        8 => Command::swap(&student, ["L-A", "L-B"][usize::from(other % 2 == 0)], part),
        9 => Command::Drop {
            student,
            section: if other % 2 == 0 { "L".into() } else { section },
        },
        10 => Command::RecordCompletion {
            student,
            course: "C9".into(),
        },
        12 if other % 3 == 0 => Command::CloseLine {},
        12 => Command::OpenLine {
            opens_at: start() + Duration::seconds(i64::from(other)),
            active_max: u32::from(other) + 1,
            automatic: other % 2 == 0,
        },
        13 => Command::AdvanceLine {
            window: OPEN_WINDOW,
            tickets: Some(amount.unsigned_abs() % 5000),
            seed: (other % 4 == 0).then_some(u64::from(other) << 40),
            admitted: Some(u64::from(other) * 37),
        },
        _ => Command::IssuePermission {
            student,
            section: if other % 2 == 0 { "L".into() } else { section },
        },
    }
}
