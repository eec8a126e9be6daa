//! Commands: the only way to change the state. One type, shared by the server, the log,
//! the store and the clients, so the wire, the log and the replay cannot drift apart.
//! `validate` (in `command/validate.rs`) checks a command's shape before it reaches the
//! state machine.

mod validate;

use serde::{Deserialize, Serialize};
use strum::{EnumDiscriminants, EnumIter, IntoEnumIterator, IntoStaticStr};
use time::OffsetDateTime;

use crate::meeting::Meeting;
use crate::reservation::Reservation;
use crate::rules::RulesVersion;

pub use validate::check_id;

pub type SectionId = String;
pub type StudentId = String;
/// A course: what sections are sections of, and what prerequisites and completions name
/// (`COMSCI-35L` for the sections `COMSCI-35L-1`, `COMSCI-35L-2`, ...).
pub type CourseId = String;

/// Limits on what one command may carry; `validate` enforces them before a command
/// reaches the state machine, so the machine itself never sees nonsense.
pub const ID_BYTES_MAX: usize = 64;
pub const NAME_BYTES_MAX: usize = 200;
pub const SECTION_UNITS_MAX: u32 = 40;
pub const STUDENT_UNITS_MAX: u32 = 400;
pub const CAPACITY_SEATS_MAX: u32 = 100_000;
pub const MEETINGS_PER_SECTION_MAX: usize = 16;
pub const PREREQUISITES_PER_SECTION_MAX: usize = 16;
pub const LINKED_PER_SECTION_MAX: usize = 32;
pub const RESERVATIONS_PER_SECTION_MAX: usize = 8;
pub const COMPLETED_PER_STUDENT_MAX: usize = 200;
/// One transaction moves at most ten million dollars.
pub const AMOUNT_CENTS_MAX: i64 = 1_000_000_000;
pub const DEFAULT_MAX_UNITS: u32 = 20;
/// The most rows one `import` may carry: a university's whole catalog (UCLA lists
/// about 10,000 sections a term) in one logged entry.
pub const IMPORT_ROWS_MAX: usize = 20_000;

/// Every command, listed once; `CommandKind`, derived from it, is the catalogue of
/// their names. Read from a JSON object only (`objects.rs`): an array is refused, not
/// read as the tag and the fields in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, EnumDiscriminants)]
#[strum_discriminants(
    name(CommandKind),
    derive(EnumIter, IntoStaticStr, Hash, PartialOrd, Ord),
    strum(serialize_all = "snake_case"),
    doc = "The kind of a command: its `\"type\"` tag, and the catalogue of every kind."
)]
#[serde(remote = "Self", tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    CreateSection {
        section: SectionId,
        title: String,
        units: u32,
        capacity: u32,
        #[serde(default)]
        waitlist_capacity: u32,
        #[serde(default)]
        meetings: Vec<Meeting>,
        /// The course this is a section of; by default the id without its last
        /// `-part` (`COMSCI-35L-1` is a section of `COMSCI-35L`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        course: Option<CourseId>,
        /// Courses a student must have completed to enroll.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        prerequisites: Vec<CourseId>,
        /// Sections (discussions, labs) of which one must be taken with this one. They
        /// must exist, be empty, and be linked to no other section.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        linked: Vec<SectionId>,
        /// Seats held for a population until an instant.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reserved: Vec<Reservation>,
    },
    SetCapacity {
        section: SectionId,
        capacity: u32,
    },
    CreateStudent {
        student: StudentId,
        name: String,
        #[serde(default = "default_max_units")]
        max_units: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        major: Option<String>,
        /// Class standing, e.g. `senior`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        standing: Option<String>,
        /// Courses already completed.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        completed: Vec<CourseId>,
    },
    /// `at: null` removes the appointment: the student may register at any time.
    SetAppointment {
        student: StudentId,
        #[serde(with = "time::serde::rfc3339::option")]
        at: Option<OffsetDateTime>,
    },
    /// The registrar records that the student completed a course.
    RecordCompletion {
        student: StudentId,
        course: CourseId,
    },
    /// The registrar issues a single-use permission number for the student and section.
    IssuePermission {
        student: StudentId,
        section: SectionId,
    },
    Enroll {
        student: StudentId,
        section: SectionId,
        #[serde(default)]
        waitlist: bool,
        /// The linked section (discussion, lab) to take with `section`, both or neither.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        with: Option<SectionId>,
        /// A permission number issued for this student and `section`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        permission: Option<String>,
    },
    Drop {
        student: StudentId,
        section: SectionId,
    },
    Swap {
        student: StudentId,
        from: SectionId,
        to: SectionId,
        /// The linked section to take with `to`, when `to` has linked sections.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        with: Option<SectionId>,
    },
    Deposit {
        student: StudentId,
        amount_cents: i64,
    },
    Withdraw {
        student: StudentId,
        amount_cents: i64,
    },
    Transfer {
        from: StudentId,
        to: StudentId,
        amount_cents: i64,
    },
    /// The registrar finalizes an upgrade: the commands after this one are decided
    /// under rules version `rules`. Sent once every node runs a binary that knows it.
    UpgradeRules {
        rules: RulesVersion,
    },
    /// The registrar's import of a file: its rows (`create_section`, `create_student`
    /// or `record_completion` commands, `IMPORTABLE`), applied in order as one entry,
    /// all of them or none. A completion already on record is not a refusal. Since
    /// rules version 3.
    Import {
        #[serde(deserialize_with = "import_rows")]
        rows: Vec<Command>,
    },
    /// The registrar opens a registration window (`line.rs`): from now, students' writes
    /// need an admission pass, those who come before `opens_at` are drawn into an order
    /// at `opens_at`, and at most `active_max` admitted students are active at once.
    /// Sent again while open, it changes `active_max` (and `opens_at`, until it comes).
    OpenLine {
        #[serde(with = "time::serde::rfc3339")]
        opens_at: OffsetDateTime,
        active_max: u32,
        /// Opened by the server under lasting overload, not by the registrar.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        automatic: bool,
    },
    /// The registrar closes the window: writes need no pass again. (A struct variant,
    /// so that unknown fields are refused as with every other command.)
    CloseLine {},
    /// The server moves the line of window `window`: tickets reserved up to `tickets`,
    /// the opening's draw (`seed`), places admitted up to `admitted`.
    AdvanceLine {
        window: u64,
        #[serde(
            default,
            deserialize_with = "crate::objects::present",
            skip_serializing_if = "Option::is_none"
        )]
        tickets: Option<u64>,
        #[serde(
            default,
            deserialize_with = "crate::objects::present",
            skip_serializing_if = "Option::is_none"
        )]
        seed: Option<u64>,
        #[serde(
            default,
            deserialize_with = "crate::objects::present",
            skip_serializing_if = "Option::is_none"
        )]
        admitted: Option<u64>,
    },
}

/// The kinds an `import` may carry: the registrar's commands that create.
pub const IMPORTABLE: [CommandKind; 3] = [
    CommandKind::CreateSection,
    CommandKind::CreateStudent,
    CommandKind::RecordCompletion,
];

crate::objects::objects_only!(Command, "a command, tagged by \"type\"", &[]);

/// An import's rows, each read as a top-level command is. A tagged command's fields
/// reach its variant buffered, and serde reads a buffered tag `0` as the first variant
/// (`{"type": 0}` would be a `create_section`): each row is read again from a JSON
/// value, where a tag must be a name. An import is rare and bounded by its body limit,
/// so the second pass costs nothing that matters.
fn import_rows<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<Command>, D::Error> {
    use serde::de::Error;
    let rows = Vec::<serde_json::Value>::deserialize(deserializer)?;
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| serde_json::from_value(row).map_err(|e| D::Error::custom(format!("row {}: {e}", i + 1))))
        .collect()
}

fn default_max_units() -> u32 {
    DEFAULT_MAX_UNITS
}

/// An id or name a command refers to, and whether it names a section or a student.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ref<'a> {
    Section(&'a str),
    Student(&'a str),
}

/// Plain commands, with none of the registrar's options (no course, prerequisites,
/// links or reservations; no major, standing or completions; no linked section or
/// permission number): what most callers build.
impl Command {
    pub fn create_section(
        section: &str,
        title: &str,
        units: u32,
        capacity: u32,
        waitlist_capacity: u32,
        meetings: Vec<Meeting>,
    ) -> Command {
        Command::CreateSection {
            section: section.to_owned(),
            title: title.to_owned(),
            units,
            capacity,
            waitlist_capacity,
            meetings,
            course: None,
            prerequisites: Vec::new(),
            linked: Vec::new(),
            reserved: Vec::new(),
        }
    }

    pub fn create_student(student: &str, name: &str, max_units: u32) -> Command {
        Command::CreateStudent {
            student: student.to_owned(),
            name: name.to_owned(),
            max_units,
            major: None,
            standing: None,
            completed: Vec::new(),
        }
    }

    pub fn enroll(student: &str, section: &str, waitlist: bool) -> Command {
        Command::Enroll {
            student: student.to_owned(),
            section: section.to_owned(),
            waitlist,
            with: None,
            permission: None,
        }
    }

    pub fn swap(student: &str, from: &str, to: &str) -> Command {
        Command::Swap {
            student: student.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            with: None,
        }
    }
}

impl CommandKind {
    /// Every kind, in the order `Command` lists them.
    pub fn all() -> impl Iterator<Item = CommandKind> {
        CommandKind::iter()
    }

    /// The snake_case name, as in the command's `"type"` tag.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// The rules version from which commands of this kind may be written to the log.
    /// A binary that knows only older versions cannot replay them, so a new kind is
    /// refused before the log until the cluster's version reaches this one.
    /// `upgrade_rules` is the exception that makes the rule: written under the old
    /// version, it is the entry past which an older binary must not go, and it knows.
    pub fn since(self) -> RulesVersion {
        use CommandKind::*;
        match self {
            CreateSection | SetCapacity | CreateStudent | SetAppointment | RecordCompletion | IssuePermission
            | Enroll | Drop | Swap | Deposit | Withdraw | Transfer | UpgradeRules => RulesVersion::V1,
            Import | OpenLine | CloseLine | AdvanceLine => RulesVersion::V3,
        }
    }
}

impl std::fmt::Display for CommandKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Command {
    /// The command's kind; `kind().name()` is its `"type"` tag.
    pub fn kind(&self) -> CommandKind {
        self.into()
    }

    /// The student on whose behalf the command acts: a student token may send only
    /// commands that act for itself. `None` for the registrar's (admin) commands.
    pub fn acting_student(&self) -> Option<&str> {
        match self {
            Command::Enroll { student, .. }
            | Command::Drop { student, .. }
            | Command::Swap { student, .. }
            | Command::Deposit { student, .. }
            | Command::Withdraw { student, .. } => Some(student),
            Command::Transfer { from, .. } => Some(from),
            Command::CreateSection { .. }
            | Command::SetCapacity { .. }
            | Command::CreateStudent { .. }
            | Command::SetAppointment { .. }
            | Command::RecordCompletion { .. }
            | Command::IssuePermission { .. }
            | Command::UpgradeRules { .. }
            | Command::Import { .. }
            | Command::OpenLine { .. }
            | Command::CloseLine {}
            | Command::AdvanceLine { .. } => None,
        }
    }

    /// The commands this one applies: an import's rows, or the command itself.
    pub fn rows(&self) -> &[Command] {
        match self {
            Command::Import { rows } => rows,
            command => std::slice::from_ref(command),
        }
    }

    /// What the command creates, if it creates something (an import: see `rows`).
    pub fn creates(&self) -> Option<Ref<'_>> {
        match self {
            Command::CreateSection { section, .. } => Some(Ref::Section(section)),
            Command::CreateStudent { student, .. } => Some(Ref::Student(student)),
            _ => None,
        }
    }

    /// Everything the command refers to that must already exist (an import: its rows'
    /// references, though a row may refer to what an earlier row creates).
    pub fn references(&self) -> Vec<Ref<'_>> {
        use Ref::{Section, Student};
        match self {
            Command::Import { rows } => rows.iter().flat_map(Command::references).collect(),
            Command::CreateSection { linked, .. } => linked.iter().map(|id| Section(id)).collect(),
            Command::CreateStudent { .. }
            | Command::UpgradeRules { .. }
            | Command::OpenLine { .. }
            | Command::CloseLine {}
            | Command::AdvanceLine { .. } => vec![],
            Command::SetCapacity { section, .. } => vec![Section(section)],
            Command::SetAppointment { student, .. }
            | Command::RecordCompletion { student, .. }
            | Command::Deposit { student, .. }
            | Command::Withdraw { student, .. } => vec![Student(student)],
            Command::IssuePermission { student, section } | Command::Drop { student, section } => {
                vec![Student(student), Section(section)]
            }
            Command::Enroll {
                student, section, with, ..
            } => {
                let mut refs = vec![Student(student), Section(section)];
                refs.extend(with.as_deref().map(Section));
                refs
            }
            Command::Swap {
                student,
                from,
                to,
                with,
            } => {
                let mut refs = vec![Student(student), Section(from), Section(to)];
                refs.extend(with.as_deref().map(Section));
                refs
            }
            Command::Transfer { from, to, .. } => vec![Student(from), Student(to)],
        }
    }
}

/// The course a section belongs to when its `create_section` names none: the id without
/// its last `-part` (`COMSCI-35L-1` -> `COMSCI-35L`), or the whole id without a dash.
pub fn default_course(section: &str) -> &str {
    section.rsplit_once('-').map_or(section, |(course, _)| course)
}
