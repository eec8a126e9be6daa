//! `Command::validate`: the shape of a command, checked before it reaches the state
//! machine (id syntax, sizes, positive amounts, sane meetings, reservations that fit).
//! Every error says what is wrong and what would be accepted.

use std::collections::BTreeSet;

use super::*;
use crate::line::{LINE_ACTIVE_MAX, LINE_SEED_MAX, LINE_TICKETS_MAX};

impl Command {
    /// Checks the shape of a command; the error says what is wrong and what would pass.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Command::CreateSection {
                section,
                title,
                units,
                capacity,
                waitlist_capacity,
                meetings,
                course,
                prerequisites,
                linked,
                reserved,
            } => {
                check_id("section", section)?;
                check_name("title", title)?;
                check_at_most("units", *units, SECTION_UNITS_MAX)?;
                check_at_most("capacity", *capacity, CAPACITY_SEATS_MAX)?;
                check_at_most("waitlist_capacity", *waitlist_capacity, CAPACITY_SEATS_MAX)?;
                check_meetings(meetings)?;
                if let Some(course) = course {
                    check_id("course", course)?;
                }
                check_ids("prerequisites", prerequisites, PREREQUISITES_PER_SECTION_MAX)?;
                check_ids("linked", linked, LINKED_PER_SECTION_MAX)?;
                if linked.contains(section) {
                    return Err(format!("{section} cannot be linked to itself"));
                }
                check_reserved(reserved, *capacity)
            }
            Command::SetCapacity { section, capacity } => {
                check_id("section", section)?;
                check_at_most("capacity", *capacity, CAPACITY_SEATS_MAX)
            }
            Command::CreateStudent {
                student,
                name,
                max_units,
                major,
                standing,
                completed,
            } => {
                check_id("student", student)?;
                check_name("name", name)?;
                check_at_most("max_units", *max_units, STUDENT_UNITS_MAX)?;
                if let Some(major) = major {
                    check_id("major", major)?;
                }
                if let Some(standing) = standing {
                    check_id("standing", standing)?;
                }
                check_ids("completed", completed, COMPLETED_PER_STUDENT_MAX)
            }
            Command::SetAppointment { student, .. } => check_id("student", student),
            Command::RecordCompletion { student, course } => {
                check_id("student", student)?;
                check_id("course", course)
            }
            Command::IssuePermission { student, section } | Command::Drop { student, section } => {
                check_id("student", student)?;
                check_id("section", section)
            }
            Command::Enroll {
                student,
                section,
                with,
                permission,
                ..
            } => {
                check_id("student", student)?;
                check_id("section", section)?;
                check_with(with.as_deref(), &[section])?;
                if let Some(code) = permission {
                    check_id("permission", code)?;
                }
                Ok(())
            }
            Command::Swap {
                student,
                from,
                to,
                with,
            } => {
                check_id("student", student)?;
                check_id("from", from)?;
                check_id("to", to)?;
                if from == to {
                    return Err("swap needs two different sections in from and to".into());
                }
                check_with(with.as_deref(), &[from, to])
            }
            Command::Deposit { student, amount_cents } | Command::Withdraw { student, amount_cents } => {
                check_id("student", student)?;
                check_amount(*amount_cents)
            }
            Command::OpenLine {
                active_max, opens_at, ..
            } => {
                if *active_max == 0 || *active_max > LINE_ACTIVE_MAX {
                    return Err(format!("active_max must be between 1 and {LINE_ACTIVE_MAX}"));
                }
                if !(1970..2200).contains(&opens_at.year()) {
                    return Err("opens_at must be an instant between 1970 and 2199".into());
                }
                Ok(())
            }
            Command::CloseLine {} => Ok(()),
            Command::AdvanceLine {
                tickets,
                seed,
                admitted,
                ..
            } => {
                if tickets.is_none() && seed.is_none() && admitted.is_none() {
                    return Err("advance_line moves something: tickets, seed or admitted".into());
                }
                if [tickets, admitted]
                    .iter()
                    .any(|n| n.is_some_and(|n| n > LINE_TICKETS_MAX))
                {
                    return Err(format!("a window has at most {LINE_TICKETS_MAX} tickets"));
                }
                if seed.is_some_and(|seed| seed > LINE_SEED_MAX) {
                    return Err(format!("a seed is at most {LINE_SEED_MAX}"));
                }
                Ok(())
            }
            Command::Transfer { from, to, amount_cents } => {
                check_id("from", from)?;
                check_id("to", to)?;
                if from == to {
                    return Err("transfer needs two different students in from and to".into());
                }
                check_amount(*amount_cents)
            }
            Command::UpgradeRules { rules } if rules.is_known() => Ok(()),
            Command::UpgradeRules { rules } => Err(format!(
                "rules version {rules} is unknown: this murphy knows versions {} to {}",
                RulesVersion::V1,
                RulesVersion::LATEST
            )),
            Command::Import { rows } => check_import(rows),
        }
    }
}

/// 1 to `IMPORT_ROWS_MAX` rows, each of an `IMPORTABLE` kind and valid itself.
fn check_import(rows: &[Command]) -> Result<(), String> {
    if rows.is_empty() || rows.len() > IMPORT_ROWS_MAX {
        return Err(format!(
            "an import carries 1 to {IMPORT_ROWS_MAX} rows; this one has {}",
            rows.len()
        ));
    }
    for (i, row) in rows.iter().enumerate() {
        let number = i + 1;
        if !IMPORTABLE.contains(&row.kind()) {
            let kinds: Vec<&str> = IMPORTABLE.iter().map(|k| k.name()).collect();
            return Err(format!(
                "row {number} is {}; an import's rows are {}",
                row.kind(),
                kinds.join(", ")
            ));
        }
        row.validate().map_err(|e| format!("row {number}: {e}"))?;
    }
    Ok(())
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

/// A list of distinct ids, at most `max` of them.
fn check_ids(field: &str, ids: &[String], max: usize) -> Result<(), String> {
    if ids.len() > max {
        return Err(format!("{field} lists {} ids; the most allowed is {max}", ids.len()));
    }
    let mut seen = BTreeSet::new();
    for id in ids {
        check_id(field, id)?;
        if !seen.insert(id) {
            return Err(format!("{field} lists {id} twice"));
        }
    }
    Ok(())
}

fn check_with(with: Option<&str>, not: &[&String]) -> Result<(), String> {
    let Some(with) = with else { return Ok(()) };
    check_id("with", with)?;
    if not.iter().any(|s| s.as_str() == with) {
        return Err(format!(
            "with {with:?} names a section of the command itself: name the linked section to take with it"
        ));
    }
    Ok(())
}

fn check_meetings(meetings: &[Meeting]) -> Result<(), String> {
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

/// Reservations of distinct populations, each of at least one seat, together within
/// the capacity.
fn check_reserved(reserved: &[Reservation], capacity: u32) -> Result<(), String> {
    if reserved.len() > RESERVATIONS_PER_SECTION_MAX {
        return Err(format!(
            "a section has at most {RESERVATIONS_PER_SECTION_MAX} reservations"
        ));
    }
    let mut seats: u64 = 0;
    for (i, r) in reserved.iter().enumerate() {
        if r.seats == 0 {
            return Err(format!(
                "the reservation for {} holds no seats: give it 1 or more",
                r.population
            ));
        }
        if reserved[..i].iter().any(|o| o.population == r.population) {
            return Err(format!("{} has two reservations: give it one", r.population));
        }
        seats += u64::from(r.seats);
    }
    if seats > u64::from(capacity) {
        return Err(format!(
            "the reservations hold {seats} seats, more than the capacity of {capacity}"
        ));
    }
    Ok(())
}

fn check_name(field: &str, name: &str) -> Result<(), String> {
    if name.len() > NAME_BYTES_MAX || name.chars().any(char::is_control) {
        return Err(format!(
            "{field} must be 1 to {NAME_BYTES_MAX} bytes of text without control characters"
        ));
    }
    if name.chars().all(is_invisible) {
        return Err(format!(
            "{field} {name:?} shows nothing: it must have a visible character, not only spaces or \
             invisible ones (zero-width, format or filler characters)"
        ));
    }
    Ok(())
}

/// Characters that show nothing where a name is printed: white space, control
/// characters, Unicode's default-ignorable code points (zero-width spaces and joiners,
/// bidirectional and other format controls, variation selectors, the Hangul fillers),
/// and the blank Braille pattern, a well-known stand-in for a blank name.
fn is_invisible(c: char) -> bool {
    /// Default_Ignorable_Code_Point (Unicode 15.1, DerivedCoreProperties.txt).
    const DEFAULT_IGNORABLE: &[(char, char)] = &[
        ('\u{00AD}', '\u{00AD}'),
        ('\u{034F}', '\u{034F}'),
        ('\u{061C}', '\u{061C}'),
        ('\u{115F}', '\u{1160}'),
        ('\u{17B4}', '\u{17B5}'),
        ('\u{180B}', '\u{180F}'),
        ('\u{200B}', '\u{200F}'),
        ('\u{202A}', '\u{202E}'),
        ('\u{2060}', '\u{206F}'),
        ('\u{3164}', '\u{3164}'),
        ('\u{FE00}', '\u{FE0F}'),
        ('\u{FEFF}', '\u{FEFF}'),
        ('\u{FFA0}', '\u{FFA0}'),
        ('\u{FFF0}', '\u{FFF8}'),
        ('\u{1BCA0}', '\u{1BCA3}'),
        ('\u{1D173}', '\u{1D17A}'),
        ('\u{E0000}', '\u{E0FFF}'),
    ];
    c.is_whitespace()
        || c.is_control()
        || c == '\u{2800}'
        || DEFAULT_IGNORABLE.iter().any(|&(from, to)| (from..=to).contains(&c))
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

    fn parse(text: &str) -> Command {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn parses_the_design_examples() {
        let enroll = parse(r#"{"type":"enroll","student":"s1","section":"COMSCI-35L-1","waitlist":true}"#);
        assert_eq!(
            enroll,
            Command::Enroll {
                student: "s1".into(),
                section: "COMSCI-35L-1".into(),
                waitlist: true,
                with: None,
                permission: None,
            }
        );
        let create = parse(
            r#"{"type":"create_section","section":"COMSCI-35L-1","title":"Software Construction","units":4,
               "capacity":160,"waitlist_capacity":20,"meetings":[{"days":"MW","start":"14:00","end":"15:50"}]}"#,
        );
        assert!(create.validate().is_ok());
        let appt = parse(r#"{"type":"set_appointment","student":"s0001","at":"2026-11-30T08:00:00Z"}"#);
        assert!(matches!(appt, Command::SetAppointment { at: Some(_), .. }));
    }

    #[test]
    fn parses_the_registrar_shapes_of_the_issue() {
        let lecture = parse(
            r#"{"type":"create_section","section":"COMSCI-32-1","title":"CS II","units":4,"capacity":100,
               "prerequisites":["COMSCI-31"],"linked":["COMSCI-32-1A","COMSCI-32-1B"],
               "reserved":[{"for":"major:COMSCI","seats":20,"until":"2026-11-30T08:00:00Z"}]}"#,
        );
        assert!(lecture.validate().is_ok(), "{:?}", lecture.validate());
        let student = parse(
            r#"{"type":"create_student","student":"s1","name":"Joe","major":"COMSCI","standing":"senior",
               "completed":["COMSCI-31"]}"#,
        );
        assert!(student.validate().is_ok());
        let enroll = parse(
            r#"{"type":"enroll","student":"s1","section":"COMSCI-32-1","with":"COMSCI-32-1A","permission":"7K3M-Q2XD"}"#,
        );
        assert!(enroll.validate().is_ok());
        // What was not sent is not written back: old log lines keep their shape.
        let plain = parse(r#"{"type":"enroll","student":"s1","section":"X-1","waitlist":false}"#);
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"type":"enroll","student":"s1","section":"X-1","waitlist":false}"#
        );
        assert_eq!(default_course("COMSCI-35L-1"), "COMSCI-35L");
        assert_eq!(default_course("SOLO"), "SOLO");
    }

    #[test]
    fn refuses_unknown_fields_and_types() {
        assert!(serde_json::from_str::<Command>(r#"{"type":"enroll","student":"s","section":"x","extra":1}"#).is_err());
        assert!(serde_json::from_str::<Command>(r#"{"type":"teleport","student":"s"}"#).is_err());
        assert!(serde_json::from_str::<Command>(r#"{"type":"deposit","student":"s","amount_cents":"5"}"#).is_err());
        let bad_population = r#"{"type":"create_section","section":"A-1","title":"A","units":4,"capacity":9,
            "reserved":[{"for":"minor:X","seats":2,"until":"2026-11-30T08:00:00Z"}]}"#;
        assert!(serde_json::from_str::<Command>(bad_population).is_err());
    }

    #[test]
    fn validate_explains_what_is_wrong() {
        let bad = Command::Deposit {
            student: "s1".into(),
            amount_cents: 0,
        };
        assert!(bad.validate().unwrap_err().contains("between 1 and"));
        let bad = parse(r#"{"type":"enroll","student":"s 1","section":"x"}"#);
        assert!(bad.validate().unwrap_err().contains("not a valid id"));
        let bad = parse(r#"{"type":"swap","student":"s","from":"a","to":"a"}"#);
        assert!(bad.validate().is_err());
        let bad = parse(r#"{"type":"enroll","student":"s","section":"a","with":"a"}"#);
        assert!(bad.validate().unwrap_err().contains("linked section"));
    }

    #[test]
    fn names_that_show_nothing_are_refused() {
        let named = |name: &str| Command::create_student("s1", name, 20).validate();
        for blank in [
            "",
            "   ",
            "\u{200B}",
            "\u{200B}\u{200C}\u{200D}\u{2060}\u{FEFF}",
            " \u{00A0}\u{3000}\u{2028}",
            "\u{3164}\u{115F}\u{FFA0}",
            "\u{2800}",
            "\u{FE0F}\u{E0020}\u{202E}\u{180E}",
        ] {
            assert!(
                named(blank).unwrap_err().contains("visible character"),
                "{blank:?} is refused"
            );
        }
        assert!(named("a\u{0007}b").unwrap_err().contains("control characters"));
        for fine in ["Joe Bruin", "José", "\u{1F600}", "Zoë\u{200D}", "李"] {
            assert_eq!(named(fine), Ok(()), "{fine:?} is a name");
        }
        let title = Command::create_section("A-1", "\u{200B} \u{200B}", 4, 10, 0, vec![]);
        assert!(title.validate().unwrap_err().contains("title"));
    }

    #[test]
    fn reservations_and_links_must_make_sense() {
        let section = |extra: &str| {
            parse(&format!(
                r#"{{"type":"create_section","section":"A-1","title":"A","units":4,"capacity":10{extra}}}"#
            ))
        };
        let until = r#""until":"2026-11-30T08:00:00Z""#;
        let too_many = section(&format!(r#","reserved":[{{"for":"major:X","seats":11,{until}}}]"#));
        assert!(too_many.validate().unwrap_err().contains("more than the capacity"));
        let none = section(&format!(r#","reserved":[{{"for":"major:X","seats":0,{until}}}]"#));
        assert!(none.validate().unwrap_err().contains("holds no seats"));
        let twice = section(&format!(
            r#","reserved":[{{"for":"major:X","seats":1,{until}}},{{"for":"major:X","seats":1,{until}}}]"#
        ));
        assert!(twice.validate().unwrap_err().contains("two reservations"));
        assert!(
            section(r#","linked":["A-1"]"#)
                .validate()
                .unwrap_err()
                .contains("itself")
        );
        assert!(
            section(r#","linked":["B","B"]"#)
                .validate()
                .unwrap_err()
                .contains("twice")
        );
        assert!(section(r#","prerequisites":["C 1"]"#).validate().is_err());
    }
}
