//! Outcomes: the business answer to each command. Refusals are answers, not errors:
//! they are logged like successes, so the log is also the audit trail.

use serde::{Deserialize, Serialize};
use strum::{EnumDiscriminants, EnumIter, IntoEnumIterator, IntoStaticStr};
use time::OffsetDateTime;

use crate::command::{Command, CourseId, SectionId, StudentId};
use crate::reservation::Population;
use crate::rules::RulesVersion;

/// Every outcome, listed once: successes first, then refusals in the order the rules
/// check them (the first rule a command breaks is its answer). `OutcomeKind`, derived
/// from this enum, is the catalogue the API document, the command line's and the web
/// page's sentences and their tests are checked against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, EnumDiscriminants)]
#[strum_discriminants(
    name(OutcomeKind),
    derive(EnumIter, IntoStaticStr, Hash, PartialOrd, Ord),
    strum(serialize_all = "snake_case"),
    doc = "The kind of an outcome: its `\"type\"` tag, and the catalogue of every kind."
)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Outcome {
    Created,
    /// The capacity changed; `promoted` took the new seats from the waitlist.
    CapacitySet {
        promoted: Vec<StudentId>,
    },
    AppointmentSet,
    Enrolled,
    /// 1-based place in the waitlist.
    Waitlisted {
        position: u32,
    },
    /// `promoted` took the freed seat from the waitlist (empty when nobody was promoted).
    /// `linked`: the linked section (discussion, lab) dropped with a lecture.
    Dropped {
        promoted: Vec<StudentId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        linked: Option<SectionId>,
    },
    /// The student moved from `from` to `to`; `promoted` took the freed seat in `from`.
    /// `linked`: the linked section left with `from`, when `from` is a lecture.
    Swapped {
        promoted: Vec<StudentId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        linked: Option<SectionId>,
    },
    /// The balance after the command and the fee it charged (0 when none).
    Balance {
        cents: i64,
        fee_cents: i64,
    },
    /// `record_completion` added the course to the student's record.
    CompletionRecorded,
    /// `issue_permission`: the single-use code for the student and section.
    Permission {
        code: String,
    },
    /// `upgrade_rules`: the commands after this one are decided under `to`.
    RulesUpgraded {
        from: RulesVersion,
        to: RulesVersion,
    },
    /// `import`: every row applied; `already_recorded` of them were completions already
    /// on record, which changed nothing. Since rules version 3.
    Imported {
        rows: u32,
        already_recorded: u32,
    },
    /// `open_line`: the window's id (its LSN), which passes name.
    LineOpened {
        window: u64,
    },
    LineClosed,
    /// `advance_line`: the line's tickets and admitted places after it.
    LineMoved {
        tickets: u64,
        admitted: u64,
    },

    // Refusals, in the order the rules check them.
    NoSuchSection {
        section: SectionId,
    },
    NoSuchStudent {
        student: StudentId,
    },
    AlreadyExists,
    /// The section is taken together with one of `choices` (name it in `with`), or the
    /// section named in `with` is not one of them, or the move would leave a lecture
    /// without its linked section.
    NeedsLinked {
        choices: Vec<SectionId>,
    },
    /// The permission number is unknown, not this student's or section's, or used.
    BadPermission,
    NotOpen {
        #[serde(with = "time::serde::rfc3339")]
        opens_at: OffsetDateTime,
    },
    /// A negative balance is a hold: no enrolling or promotion until it is paid.
    Hold {
        balance_cents: i64,
    },
    AlreadyEnrolled,
    AlreadyWaitlisted {
        position: u32,
    },
    /// A drop or swap of a section the student neither holds nor waits for.
    NotEnrolled,
    /// The student already holds or waits for `held`, a section of the same `course`
    /// (a lecture with its linked section is one holding). Since rules version 2.
    DuplicateCourse {
        course: CourseId,
        held: SectionId,
    },
    /// A course the section requires that the student has not completed.
    MissingPrerequisite {
        course: CourseId,
    },
    TimeConflict {
        with: SectionId,
    },
    UnitLimit {
        units: u32,
        max_units: u32,
    },
    Full,
    /// Only seats reserved for a population the student is not in are left; they open
    /// to all at `until`.
    Reserved {
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
    /// A capacity below the number already enrolled would overbook.
    BelowEnrolled {
        enrolled: u32,
    },
    /// A capacity below the enrolled plus the seats still held by reservations would
    /// take reserved seats away.
    BelowReserved {
        enrolled: u32,
        held: u32,
    },
    /// `section` cannot be linked to the new section.
    CannotLink {
        section: SectionId,
        reason: LinkProblem,
    },
    InsufficientFunds {
        balance_cents: i64,
    },
    /// The balance would pass `BALANCE_CENTS_MAX`.
    BalanceLimit,
    /// `upgrade_rules` to a version the log is already at, or past: `rules` is where it is.
    AlreadyUpgraded {
        rules: RulesVersion,
    },
    /// `import`: row `row` (1-based) was refused with `refusal`, so no row was applied.
    /// Since rules version 3.
    ImportRefused {
        row: u32,
        refusal: Box<Outcome>,
    },
    /// No registration window is open (or not the one named).
    NoLine,
}

impl Outcome {
    /// Whether the command was refused (and so changed nothing).
    pub fn is_refusal(&self) -> bool {
        self.kind().is_refusal()
    }

    /// The outcome's kind; `kind().name()` is its `"type"` tag.
    pub fn kind(&self) -> OutcomeKind {
        self.into()
    }
}

impl OutcomeKind {
    /// Every kind, successes first, then refusals in the order the rules check them.
    pub fn all() -> impl Iterator<Item = OutcomeKind> {
        OutcomeKind::iter()
    }

    /// The snake_case name, as in the outcome's `"type"` tag.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Whether outcomes of this kind are refusals: answers that changed nothing.
    pub fn is_refusal(self) -> bool {
        use OutcomeKind::*;
        match self {
            Created | CapacitySet | AppointmentSet | Enrolled | Waitlisted | Dropped | Swapped | Balance
            | CompletionRecorded | Permission | RulesUpgraded | Imported | LineOpened | LineClosed | LineMoved => false,
            NoSuchSection | NoSuchStudent | AlreadyExists | NeedsLinked | BadPermission | NotOpen | Hold
            | AlreadyEnrolled | AlreadyWaitlisted | NotEnrolled | DuplicateCourse | MissingPrerequisite
            | TimeConflict | UnitLimit | Full | Reserved | BelowEnrolled | BelowReserved | CannotLink
            | InsufficientFunds | BalanceLimit | AlreadyUpgraded | ImportRefused | NoLine => true,
        }
    }

    /// The rules version that introduced this kind: no command decided under an older
    /// one has an outcome of it.
    pub fn since(self) -> RulesVersion {
        match self {
            OutcomeKind::DuplicateCourse => RulesVersion::V2,
            OutcomeKind::Imported | OutcomeKind::ImportRefused => RulesVersion::V3,
            OutcomeKind::LineOpened | OutcomeKind::LineClosed | OutcomeKind::LineMoved | OutcomeKind::NoLine => {
                RulesVersion::V3
            }
            _ => RulesVersion::V1,
        }
    }
}

impl std::fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a section cannot be linked to a new one: a linked section belongs to one
/// lecture, is not a lecture itself, starts empty, and can be taken with its lecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkProblem {
    /// It has linked sections of its own.
    HasLinks,
    /// It is already linked to another section.
    LinkedElsewhere,
    /// Students are enrolled or waiting in it.
    NotEmpty,
    /// It meets at the same time as the new section.
    MeetsAtTheSameTime,
}

/// Reserved seats opened to all because their instant came: done by the first command
/// applied at or after it, before the command itself (see `State::apply`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub section: SectionId,
    #[serde(rename = "for")]
    pub population: Population,
    pub seats: u32,
    /// How many of them were still held (not taken by the population) and so opened.
    pub held: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
}

/// A seat taken from a waitlist as a side effect of a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promotion {
    pub section: SectionId,
    pub student: StudentId,
}

/// A waitlisted student passed over for a free seat, and why; they keep their place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    pub section: SectionId,
    pub student: StudentId,
    pub reason: Outcome,
}

/// What a command did besides its own outcome: reserved seats released (first, as
/// their instant had come), promotions from waitlists, in the order they happened, and
/// the students skipped on the way.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effects {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub released: Vec<Release>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promoted: Vec<Promotion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skip>,
}

impl Effects {
    pub fn is_empty(&self) -> bool {
        self.released.is_empty() && self.promoted.is_empty() && self.skipped.is_empty()
    }
}

/// The result of applying one command: its place in the serial order, the rules it
/// was decided under, and its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub lsn: u64,
    pub rules: RulesVersion,
    pub outcome: Outcome,
    pub effects: Effects,
}

/// One entry of the log: the serial order that explains every answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub lsn: u64,
    /// Arrival time at the server: the clock is an input to the state machine.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The rules version the command was decided under, and is replayed under. An
    /// entry written before versions were recorded has none: version 1.
    #[serde(default)]
    pub rules: RulesVersion,
    pub client: Option<String>,
    pub seq: Option<u64>,
    /// Who the session `client` belongs to (a student id, or `@admin`): every session
    /// fact is in the log, so start-up rebuilds the sessions from it. `None` outside a
    /// session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub command: Command,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Effects::is_empty")]
    pub effects: Effects,
}
