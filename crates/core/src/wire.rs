//! The JSON shapes of HTTP API v1 (docs/DESIGN.md §4) that are not commands or outcomes:
//! requests, answers and the read views. Kept apart from the domain types so the
//! contract can stay fixed while the domain grows; server and clients share them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{Command, Meeting, Outcome, Permission, Population, RulesVersion, Section, State, Student};

/// `POST /api/v1/commands`. Read from a JSON object only (`objects.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct CommandsRequest {
    #[serde(
        default,
        deserialize_with = "crate::objects::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub client: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::objects::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub seq: Option<u64>,
    pub commands: Vec<Command>,
}

crate::objects::objects_only!(
    CommandsRequest,
    r#"the request: {"commands": [...]}"#,
    &["client", "seq", "commands"]
);

/// One command's answer: its place in the serial order and its outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandResult {
    pub lsn: u64,
    pub outcome: Outcome,
}

impl CommandResult {
    /// The answer a logged command got.
    pub fn of(entry: &crate::LogEntry) -> CommandResult {
        CommandResult {
            lsn: entry.lsn,
            outcome: entry.outcome.clone(),
        }
    }

    /// The `results` array of an answer to `POST /api/v1/commands`, as JSON: how an
    /// outcome is written for a client, here and nowhere else (a fresh answer and the
    /// answer to a retry read back from the log alike).
    ///
    /// A student is told that seats were freed, never to whom: an outcome that promoted
    /// others (`dropped`, `swapped`, `capacity_set`) has `promoted` empty and
    /// `promoted_count` saying how many. The registrar's answers, and the log, name them.
    pub fn answer_json(results: &[CommandResult], registrar: bool) -> String {
        let promoted = |o: &Outcome| match o {
            Outcome::Dropped { promoted, .. }
            | Outcome::Swapped { promoted, .. }
            | Outcome::CapacitySet { promoted } => promoted.len(),
            _ => 0,
        };
        if registrar || results.iter().all(|r| promoted(&r.outcome) == 0) {
            return serde_json::to_string(results).expect("results serialize");
        }
        let mut value = serde_json::to_value(results).expect("results serialize");
        for (result, json) in results.iter().zip(value.as_array_mut().expect("a list")) {
            let count = promoted(&result.outcome);
            if count > 0 {
                let outcome = &mut json["outcome"];
                outcome["promoted"] = serde_json::Value::Array(Vec::new());
                outcome["promoted_count"] = count.into();
            }
        }
        value.to_string()
    }
}

/// The answer to `POST /api/v1/commands`, one result per command, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandsAnswer {
    pub results: Vec<CommandResult>,
}

/// `GET /api/v1/sections/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionView {
    pub id: String,
    pub title: String,
    pub units: u32,
    pub capacity: u32,
    pub waitlist_capacity: u32,
    /// How many are enrolled and waitlisted (counts; names are private).
    pub enrolled: u32,
    pub waitlisted: u32,
    pub meetings: Vec<Meeting>,
    /// The course it is a section of.
    pub course: String,
    /// Courses to have completed first.
    pub prerequisites: Vec<String>,
    /// Sections of which one is taken with this one (enroll with `with`).
    pub linked: Vec<String>,
    /// The section this one is taken with (its lecture), if it is a linked section.
    pub linked_to: Option<String>,
    /// Reservations in force, with the seats each still holds.
    pub reserved: Vec<ReservedView>,
    pub version: u64,
}

/// Seats reserved for a population until an instant, and how many are still held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReservedView {
    #[serde(rename = "for")]
    pub population: Population,
    pub seats: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    pub held: u32,
}

impl From<&Section> for SectionView {
    fn from(s: &Section) -> Self {
        SectionView {
            id: s.id.clone(),
            title: s.title.clone(),
            units: s.units,
            capacity: s.capacity,
            waitlist_capacity: s.waitlist_capacity,
            enrolled: s.enrolled.len() as u32,
            waitlisted: s.waitlist.len() as u32,
            meetings: s.meetings.clone(),
            course: s.course.to_string(),
            prerequisites: s.prerequisites.to_vec(),
            linked: s.linked.to_vec(),
            linked_to: s.linked_to.as_deref().map(str::to_owned),
            reserved: s
                .reserved
                .iter()
                .map(|r| ReservedView {
                    population: r.rule.population.clone(),
                    seats: r.rule.seats,
                    until: r.rule.until,
                    held: r.held(),
                })
                .collect(),
            version: s.version,
        }
    }
}

/// One event of `GET /api/v1/events`: a section's seat counts after a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionEvent {
    pub id: String,
    pub capacity: u32,
    pub enrolled: u32,
    pub waitlisted: u32,
    /// Seats still held by reservations (open to their populations only).
    pub held: u32,
    pub version: u64,
}

impl From<&Section> for SectionEvent {
    fn from(s: &Section) -> Self {
        SectionEvent {
            id: s.id.clone(),
            capacity: s.capacity,
            enrolled: s.enrolled.len() as u32,
            waitlisted: s.waitlist.len() as u32,
            held: s.held(),
            version: s.version,
        }
    }
}

/// One `student` event of `GET /api/v1/events`: the caller's own record changed (a
/// promotion, a place in a line moved); its places, and the version to read it at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentEvent {
    pub id: String,
    pub waitlist_positions: BTreeMap<String, u32>,
    pub version: u64,
}

/// `POST /api/v1/events/ticket`: a single-use pass that opens one live stream, so a
/// browser's `EventSource` (which cannot send headers) never puts a token in a URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamTicket {
    pub ticket: String,
    /// Seconds it stays good, unused.
    pub expires_in_s: u64,
}

/// The query of `GET /api/v1/sections`. Without any of it, the whole catalog; with a
/// filter, `limit` or `cursor`, a page: the sections that match, in natural id order
/// (`COMSCI-31` before `COMSCI-111`), at most `limit` of them, after `cursor`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionsQuery {
    /// A course (`COMSCI-35L`) or a department (`COMSCI`), any case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub course: Option<String>,
    /// Words that must all appear in the id or the title, any case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// `true`: only sections with a seat anyone may take (free and not held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// Only sections meeting on these days alone, e.g. `MWF`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<String>,
    /// Only sections whose meetings all start at or after this time (`HH:MM`)...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// ...and end at or before this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// At most this many sections; `next` in the answer when more follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// `GET /api/v1/sections`: the whole catalog, or one page of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionsAnswer {
    /// The catalog's version; for a page, its newest section's.
    pub version: u64,
    pub sections: Vec<SectionView>,
    /// When more sections match, the `cursor=` of the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// `GET /api/v1/students/{id}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudentView {
    pub id: String,
    pub name: String,
    pub enrolled: Vec<String>,
    pub waitlisted: Vec<String>,
    /// Each waitlist's 1-based place: `{"COMSCI-35L-1": 3}` is third in line. A place
    /// moving (someone ahead left or was promoted) changes the student's version.
    pub waitlist_positions: BTreeMap<String, u32>,
    pub units: u32,
    pub max_units: u32,
    pub balance_cents: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub appointment: Option<OffsetDateTime>,
    pub major: Option<String>,
    pub standing: Option<String>,
    /// Courses completed, in order.
    pub completed: Vec<String>,
    /// For each lecture waited for, the linked section chosen with it.
    pub waitlisted_with: BTreeMap<String, String>,
    /// Permission numbers issued to the student, used or not.
    pub permissions: Vec<Permission>,
    pub version: u64,
}

impl StudentView {
    /// `s` as the API shows it; `state` holds the lines its places are read from.
    pub fn new(s: &Student, state: &State) -> Self {
        StudentView {
            id: s.id.clone(),
            name: s.name.clone(),
            enrolled: s.enrolled.iter().cloned().collect(),
            waitlisted: s.waitlisted.iter().cloned().collect(),
            waitlist_positions: state.waitlist_positions(s),
            units: s.units,
            max_units: s.max_units,
            balance_cents: s.balance_cents,
            appointment: s.appointment,
            major: s.major.as_deref().map(str::to_owned),
            standing: s.standing.as_deref().map(str::to_owned),
            completed: s.completed.iter().map(|c| c.to_string()).collect(),
            waitlisted_with: s.waiting_with.clone(),
            permissions: s.permissions.clone(),
            version: s.version,
        }
    }
}

/// `POST /api/v1/tokens`. Read from a JSON object only (`objects.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct TokenRequest {
    pub student: String,
}

crate::objects::objects_only!(TokenRequest, r#"{"student": id}"#, &["student"]);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAnswer {
    pub student: String,
    pub token: String,
}

/// An `application/problem+json` body (RFC 9457) with murphy's `code` extension, and
/// `line` for the problem `in_line` (a write without an admission, while a registration
/// window is open).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProblemBody {
    pub status: u16,
    pub title: String,
    pub code: String,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<LineAnswer>,
}

/// `GET /api/v1/me`: whom a token speaks for, so a client never asks for a student id
/// the token already says. `{"student": "s0001"}` or `{"admin": true}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MeAnswer {
    Student { student: String },
    Admin { admin: bool },
}

/// `GET /api/v1/cluster`: a node's place in its cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterView {
    /// This node's URL, as the others reach it (`null` for a node alone).
    pub node: Option<String>,
    /// `alone` (SQLite), `primary` or `secondary`.
    pub role: String,
    /// The primary's lease epoch, as this node knows it (0 alone).
    pub epoch: u64,
    /// The version (LSN) this node serves reads at.
    pub version: u64,
    /// The primary's URL, when known.
    pub primary: Option<String>,
    /// Log entries this node has yet to apply (a secondary's replication lag).
    pub replication_behind_commands: u64,
    /// The rules version the log is at, as this node has read it: what the next
    /// command is decided under.
    pub rules: RulesVersion,
    /// The newest rules version this node's binary knows.
    pub rules_version_max: RulesVersion,
}

/// Where a student stands in the waiting room (`line.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineState {
    /// No registration window is open: writes need no pass.
    Closed,
    /// A window is open and the student holds no place (never joined, or the place
    /// lapsed, or the admission expired after idling): `POST /api/v1/line` joins.
    Out,
    /// Joined before the opening: the order of the pre-queue is drawn at `opens_at`.
    PreQueue,
    Waiting,
    /// Writes with the pass are served.
    Admitted,
}

/// When admission should come, in seconds from now: a range, not a promise.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EtaRange {
    pub min_s: u64,
    pub max_s: u64,
}

/// `POST /api/v1/line` and `GET /api/v1/line`: a student's place in the waiting room,
/// and the problem `in_line` a write without an admission pass gets (its `line`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LineAnswer {
    pub state: LineState,
    /// The window (the LSN of the `open_line` that opened it), while one is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<u64>,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub opens_at: Option<OffsetDateTime>,
    /// The signed pass: send it as the `Murphy-Pass` header with writes and polls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<String>,
    /// The place in line (1 is first), from the opening on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<u64>,
    /// Students still waiting ahead (those who left are not counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ahead: Option<u64>,
    /// Places up to this one are admitted: the number now being admitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admitted_through: Option<u64>,
    /// Students admitted per second, lately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admit_rate_per_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<EtaRange>,
    /// When to ask again, in seconds; a place not asked for in twice this lapses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_poll_after_s: Option<u64>,
    /// Admitted students active now, and how many may be at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_max: Option<u32>,
}

impl LineAnswer {
    /// The answer while no window is open.
    pub fn closed() -> LineAnswer {
        LineAnswer {
            state: LineState::Closed,
            window: None,
            opens_at: None,
            pass: None,
            place: None,
            ahead: None,
            admitted_through: None,
            admit_rate_per_s: None,
            eta: None,
            next_poll_after_s: None,
            active: None,
            active_max: None,
        }
    }
}

/// `POST /api/v1/line`: whom to place. A student token places its own student and may
/// send no body; the admin token names the student. Read from a JSON object only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct LineRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<String>,
}

crate::objects::objects_only!(LineRequest, r#"{"student": id}"#, &["student"]);
