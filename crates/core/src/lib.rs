//! murphy's domain: the pure state machine of a course registrar.
//!
//! Everything here is deterministic and does no I/O: the arrival time of a command is an
//! input, never read from a clock. The server applies commands with it, the store
//! restores it, the tests replay it.

pub mod command;
pub mod line;
pub mod meeting;
mod objects;
mod order;
pub mod outcome;
pub mod permission;
pub mod reservation;
pub mod rules;
pub mod session;
pub mod state;
pub mod wire;

pub use command::{Command, CommandKind, CourseId, SectionId, StudentId};
pub use meeting::{Days, Meeting, TimeOfDay};
pub use order::natural_cmp;
pub use outcome::{Applied, Effects, LinkProblem, LogEntry, Outcome, OutcomeKind, Promotion, Release, Skip};
pub use permission::Permission;
pub use reservation::{Population, Reservation, ReservedSeats};
pub use rules::{ReplayError, RulesVersion};
pub use session::{Decision, RequestLsns, SessionChange, SessionLimits, SessionRow, Sessions};
pub use state::{Changes, Section, State, Student, Unknown};
