//! The suite's model: the truth a backend is compared with, built the way the server's
//! pipeline builds it (apply in memory, append, materialize what changed, coalesced).

use std::collections::BTreeMap;

use murphy_core::{Changes, Command, LogEntry, Meeting, SessionChange, SessionLimits, Sessions, State};
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
            at: OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
            seqs: BTreeMap::new(),
        };
        model.append(backend, &catalog());
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

/// Applies `commands` to `state` at `at`, as the log entries they make.
pub fn entries(state: &mut State, commands: &[Command], at: OffsetDateTime) -> Vec<LogEntry> {
    commands
        .iter()
        .map(|c| {
            let applied = state.apply(at, c);
            LogEntry {
                lsn: applied.lsn,
                at,
                client: None,
                seq: None,
                owner: None,
                command: c.clone(),
                outcome: applied.outcome,
                effects: applied.effects,
            }
        })
        .collect()
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
            Command::CreateSection {
                section: format!("S{i}"),
                title: format!("Section {i}"),
                units: 4,
                capacity: 2,
                waitlist_capacity: 3,
                meetings: vec![Meeting::parse(days, start, end).unwrap()],
            }
        })
        .collect();
    commands.extend((0..STUDENTS).map(|i| Command::CreateStudent {
        student: format!("p{i}"),
        name: format!("Student {i}"),
        max_units: 12,
    }));
    commands
}

pub fn enroll(student: &str, section: &str) -> Command {
    Command::Enroll {
        student: student.into(),
        section: section.into(),
        waitlist: false,
    }
}

/// A command from five random numbers: every kind that changes sections or students.
pub fn command((kind, student, section, other, amount): (u8, u8, u8, u8, i64)) -> Command {
    let (student, section) = (format!("p{}", student % STUDENTS), format!("S{}", section % SECTIONS));
    let to = format!(
        "S{}",
        (section.as_bytes()[1] - b'0' + 1 + other % (SECTIONS - 1)) % SECTIONS
    );
    match kind % 7 {
        0 | 1 => Command::Enroll {
            student,
            section,
            waitlist: other % 2 == 0,
        },
        2 => Command::Drop { student, section },
        3 => Command::Swap {
            student,
            from: section,
            to,
        },
        4 => Command::Deposit {
            student,
            amount_cents: amount,
        },
        5 => Command::Withdraw {
            student,
            amount_cents: amount,
        },
        _ => Command::SetCapacity {
            section,
            capacity: u32::from(other % 4) + 1,
        },
    }
}
