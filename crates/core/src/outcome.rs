//! Outcomes: the business answer to each command. Refusals are answers, not errors:
//! they are logged like successes, so the log is also the audit trail.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::command::{Command, SectionId, StudentId};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    Dropped {
        promoted: Vec<StudentId>,
    },
    /// The student moved from `from` to `to`; `promoted` took the freed seat in `from`.
    Swapped {
        promoted: Vec<StudentId>,
    },
    /// The balance after the command and the fee it charged (0 when none).
    Balance {
        cents: i64,
        fee_cents: i64,
    },

    // Refusals, in the order the rules are checked.
    NoSuchSection {
        section: SectionId,
    },
    NoSuchStudent {
        student: StudentId,
    },
    AlreadyExists,
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
    TimeConflict {
        with: SectionId,
    },
    UnitLimit {
        units: u32,
        max_units: u32,
    },
    Full,
    NotEnrolled,
    /// A capacity below the number already enrolled would overbook.
    BelowEnrolled {
        enrolled: u32,
    },
    InsufficientFunds {
        balance_cents: i64,
    },
    /// The balance would pass `BALANCE_CENTS_MAX`.
    BalanceLimit,
}

impl Outcome {
    /// Whether the command was refused (and so changed nothing).
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            Outcome::Created
                | Outcome::CapacitySet { .. }
                | Outcome::AppointmentSet
                | Outcome::Enrolled
                | Outcome::Waitlisted { .. }
                | Outcome::Dropped { .. }
                | Outcome::Swapped { .. }
                | Outcome::Balance { .. }
        )
    }

    /// The snake_case name of the outcome, as in its `"type"` tag.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::CapacitySet { .. } => "capacity_set",
            Outcome::AppointmentSet => "appointment_set",
            Outcome::Enrolled => "enrolled",
            Outcome::Waitlisted { .. } => "waitlisted",
            Outcome::Dropped { .. } => "dropped",
            Outcome::Swapped { .. } => "swapped",
            Outcome::Balance { .. } => "balance",
            Outcome::NoSuchSection { .. } => "no_such_section",
            Outcome::NoSuchStudent { .. } => "no_such_student",
            Outcome::AlreadyExists => "already_exists",
            Outcome::NotOpen { .. } => "not_open",
            Outcome::Hold { .. } => "hold",
            Outcome::AlreadyEnrolled => "already_enrolled",
            Outcome::AlreadyWaitlisted { .. } => "already_waitlisted",
            Outcome::TimeConflict { .. } => "time_conflict",
            Outcome::UnitLimit { .. } => "unit_limit",
            Outcome::Full => "full",
            Outcome::NotEnrolled => "not_enrolled",
            Outcome::BelowEnrolled { .. } => "below_enrolled",
            Outcome::InsufficientFunds { .. } => "insufficient_funds",
            Outcome::BalanceLimit => "balance_limit",
        }
    }
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

/// What a command did besides its own outcome: promotions from waitlists, in the
/// order they happened, and the students skipped on the way.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effects {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub promoted: Vec<Promotion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skip>,
}

impl Effects {
    pub fn is_empty(&self) -> bool {
        self.promoted.is_empty() && self.skipped.is_empty()
    }
}

/// The result of applying one command: its place in the serial order and its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub lsn: u64,
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
