//! Commands: the only way to change the state. One type, shared by the server, the log,
//! the store and the clients, so the wire, the log and the replay cannot drift apart.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::meeting::Meeting;

pub type SectionId = String;
pub type StudentId = String;

/// Limits on what one command may carry; `validate` enforces them before a command
/// reaches the state machine, so the machine itself never sees nonsense.
pub const ID_BYTES_MAX: usize = 64;
pub const NAME_BYTES_MAX: usize = 200;
pub const SECTION_UNITS_MAX: u32 = 40;
pub const STUDENT_UNITS_MAX: u32 = 400;
pub const CAPACITY_SEATS_MAX: u32 = 100_000;
pub const MEETINGS_PER_SECTION_MAX: usize = 16;
/// One transaction moves at most ten million dollars.
pub const AMOUNT_CENTS_MAX: i64 = 1_000_000_000;
pub const DEFAULT_MAX_UNITS: u32 = 20;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
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
    },
    /// `at: null` removes the appointment: the student may register at any time.
    SetAppointment {
        student: StudentId,
        #[serde(with = "time::serde::rfc3339::option")]
        at: Option<OffsetDateTime>,
    },
    Enroll {
        student: StudentId,
        section: SectionId,
        #[serde(default)]
        waitlist: bool,
    },
    Drop {
        student: StudentId,
        section: SectionId,
    },
    Swap {
        student: StudentId,
        from: SectionId,
        to: SectionId,
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
}

fn default_max_units() -> u32 {
    DEFAULT_MAX_UNITS
}

/// An id or name a command refers to, and whether it names a section or a student.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ref<'a> {
    Section(&'a str),
    Student(&'a str),
}

impl Command {
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
            | Command::SetAppointment { .. } => None,
        }
    }

    /// What the command creates, if it creates something.
    pub fn creates(&self) -> Option<Ref<'_>> {
        match self {
            Command::CreateSection { section, .. } => Some(Ref::Section(section)),
            Command::CreateStudent { student, .. } => Some(Ref::Student(student)),
            _ => None,
        }
    }

    /// Everything the command refers to that must already exist.
    pub fn references(&self) -> Vec<Ref<'_>> {
        use Ref::{Section, Student};
        match self {
            Command::CreateSection { .. } | Command::CreateStudent { .. } => vec![],
            Command::SetCapacity { section, .. } => vec![Section(section)],
            Command::SetAppointment { student, .. }
            | Command::Deposit { student, .. }
            | Command::Withdraw { student, .. } => vec![Student(student)],
            Command::Enroll { student, section, .. } | Command::Drop { student, section } => {
                vec![Student(student), Section(section)]
            }
            Command::Swap { student, from, to } => vec![Student(student), Section(from), Section(to)],
            Command::Transfer { from, to, .. } => vec![Student(from), Student(to)],
        }
    }

    /// Checks the shape of a command: id syntax, sizes, positive amounts, sane meetings.
    /// Every error says what is wrong and what would be accepted.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Command::CreateSection {
                section,
                title,
                units,
                capacity,
                waitlist_capacity,
                meetings,
            } => {
                check_id("section", section)?;
                check_name("title", title)?;
                check_at_most("units", *units, SECTION_UNITS_MAX)?;
                check_at_most("capacity", *capacity, CAPACITY_SEATS_MAX)?;
                check_at_most("waitlist_capacity", *waitlist_capacity, CAPACITY_SEATS_MAX)?;
                if meetings.len() > MEETINGS_PER_SECTION_MAX {
                    return Err(format!("a section has at most {MEETINGS_PER_SECTION_MAX} meetings"));
                }
                for m in meetings {
                    if m.start >= m.end {
                        return Err(format!("meeting {}-{}: start must be before end", m.start, m.end));
                    }
                }
                Ok(())
            }
            Command::SetCapacity { section, capacity } => {
                check_id("section", section)?;
                check_at_most("capacity", *capacity, CAPACITY_SEATS_MAX)
            }
            Command::CreateStudent {
                student,
                name,
                max_units,
            } => {
                check_id("student", student)?;
                check_name("name", name)?;
                check_at_most("max_units", *max_units, STUDENT_UNITS_MAX)
            }
            Command::SetAppointment { student, .. } => check_id("student", student),
            Command::Enroll { student, section, .. } | Command::Drop { student, section } => {
                check_id("student", student)?;
                check_id("section", section)
            }
            Command::Swap { student, from, to } => {
                check_id("student", student)?;
                check_id("from", from)?;
                check_id("to", to)?;
                if from == to {
                    return Err("swap needs two different sections in from and to".into());
                }
                Ok(())
            }
            Command::Deposit { student, amount_cents } | Command::Withdraw { student, amount_cents } => {
                check_id("student", student)?;
                check_amount(*amount_cents)
            }
            Command::Transfer { from, to, amount_cents } => {
                check_id("from", from)?;
                check_id("to", to)?;
                if from == to {
                    return Err("transfer needs two different students in from and to".into());
                }
                check_amount(*amount_cents)
            }
        }
    }
}

/// Ids are short and printable so they are safe in URLs, logs and terminals.
pub fn check_id(field: &str, id: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
    if id.is_empty() || id.len() > ID_BYTES_MAX || !id.chars().all(ok_char) {
        return Err(format!(
            "{field} {id:?} is not a valid id: use 1 to {ID_BYTES_MAX} letters, digits, '-', '_', '.' or ':'"
        ));
    }
    Ok(())
}

fn check_name(field: &str, name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.len() > NAME_BYTES_MAX || name.chars().any(char::is_control) {
        return Err(format!(
            "{field} must be 1 to {NAME_BYTES_MAX} bytes of text without control characters"
        ));
    }
    Ok(())
}

fn check_at_most(field: &str, value: u32, max: u32) -> Result<(), String> {
    if value > max {
        return Err(format!("{field} is {value}; the most allowed is {max}"));
    }
    Ok(())
}

fn check_amount(cents: i64) -> Result<(), String> {
    if cents <= 0 || cents > AMOUNT_CENTS_MAX {
        return Err(format!(
            "amount_cents is {cents}; it must be between 1 and {AMOUNT_CENTS_MAX}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_design_examples() {
        let enroll: Command =
            serde_json::from_str(r#"{"type":"enroll","student":"s1","section":"COMSCI-35L-1","waitlist":true}"#)
                .unwrap();
        assert_eq!(
            enroll,
            Command::Enroll {
                student: "s1".into(),
                section: "COMSCI-35L-1".into(),
                waitlist: true
            }
        );
        let create: Command = serde_json::from_str(
            r#"{"type":"create_section","section":"COMSCI-35L-1","title":"Software Construction","units":4,
               "capacity":160,"waitlist_capacity":20,"meetings":[{"days":"MW","start":"14:00","end":"15:50"}]}"#,
        )
        .unwrap();
        assert!(create.validate().is_ok());
        let appt: Command =
            serde_json::from_str(r#"{"type":"set_appointment","student":"s0001","at":"2026-11-30T08:00:00Z"}"#)
                .unwrap();
        assert!(matches!(appt, Command::SetAppointment { at: Some(_), .. }));
    }

    #[test]
    fn refuses_unknown_fields_and_types() {
        assert!(serde_json::from_str::<Command>(r#"{"type":"enroll","student":"s","section":"x","extra":1}"#).is_err());
        assert!(serde_json::from_str::<Command>(r#"{"type":"teleport","student":"s"}"#).is_err());
        assert!(serde_json::from_str::<Command>(r#"{"type":"deposit","student":"s","amount_cents":"5"}"#).is_err());
    }

    #[test]
    fn validate_explains_what_is_wrong() {
        let bad = Command::Deposit {
            student: "s1".into(),
            amount_cents: 0,
        };
        assert!(bad.validate().unwrap_err().contains("between 1 and"));
        let bad = Command::Enroll {
            student: "s 1".into(),
            section: "x".into(),
            waitlist: false,
        };
        assert!(bad.validate().unwrap_err().contains("not a valid id"));
        let bad = Command::Swap {
            student: "s".into(),
            from: "a".into(),
            to: "a".into(),
        };
        assert!(bad.validate().is_err());
    }
}
