//! `murphy admin import FILE.csv`: creates sections, or records completed courses,
//! from a CSV file; its header says which.
//!
//! Sections: `section,title,units,capacity,waitlist_capacity,days,start,end`, then
//! optionally any of `course,prerequisites,linked,reserved`; one meeting per row, and
//! rows of the same section add meetings (their other columns must agree). Lists in a
//! cell are separated by spaces: prerequisites are course ids, linked are section ids
//! (created before the sections that link them, whatever the file's order), reserved
//! are `POPULATION=SEATS@UNTIL` (`major:COMSCI=20@2026-11-30T08:00:00Z`).
//! Completions: `student,course`, one completed course per row.
//!
//! Every row is checked before anything is sent, and so is whether a section already
//! exists: a file with any bad row imports nothing, and says which lines.

use std::collections::BTreeMap;

use murphy_core::{Command, Meeting, Reservation};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub const HEADER: [&str; 8] = [
    "section",
    "title",
    "units",
    "capacity",
    "waitlist_capacity",
    "days",
    "start",
    "end",
];

/// Columns a sections file may add after `HEADER`, in any order.
pub const OPTIONAL: [&str; 4] = ["course", "prerequisites", "linked", "reserved"];
/// The header of a completions file.
pub const COMPLETIONS_HEADER: [&str; 2] = ["student", "course"];

/// The commands of a CSV file (`create_section`, lecture after its linked sections; or
/// `record_completion`), or every problem, each with its line.
pub fn parse(text: &str) -> Result<Vec<Command>, Vec<String>> {
    let header: Vec<String> = text
        .lines()
        .next()
        .map(|h| split(h).iter().map(|f| f.trim().to_owned()).collect())
        .unwrap_or_default();
    if header.iter().map(String::as_str).eq(COMPLETIONS_HEADER) {
        return completions(text);
    }
    let columns = columns(&header).map_err(|e| vec![format!("line 1: {e}")])?;
    let lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).skip(1);
    let mut problems = Vec::new();
    // Sections in file order (by first line), so the import follows the file.
    let mut order: Vec<String> = Vec::new();
    let mut sections: BTreeMap<String, (usize, Command)> = BTreeMap::new();
    for (number, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        match row(line, &columns) {
            Err(e) => problems.push(format!("line {number}: {e}")),
            Ok(command) => {
                if let Err(e) = merge(&mut order, &mut sections, number, command) {
                    problems.push(format!("line {number}: {e}"));
                }
            }
        }
    }
    if sections.is_empty() && problems.is_empty() {
        problems.push("the file has no sections after its header".into());
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut commands: Vec<Command> = order.iter().map(|id| sections[id].1.clone()).collect();
    // A section must exist before another links it: linked ones first, in file order.
    commands.sort_by_key(|c| matches!(c, Command::CreateSection { linked, .. } if !linked.is_empty()));
    for command in &commands {
        command.validate().map_err(|e| vec![e.to_string()])?;
    }
    Ok(commands)
}

/// The columns of a sections file: `HEADER`, then optional ones, each at most once.
fn columns(header: &[String]) -> Result<Vec<String>, String> {
    let wanted = || {
        format!(
            "the header must be {} (then any of {}), or {}",
            HEADER.join(","),
            OPTIONAL.join(","),
            COMPLETIONS_HEADER.join(",")
        )
    };
    if header.len() < HEADER.len() || !header[..HEADER.len()].iter().map(String::as_str).eq(HEADER) {
        return Err(wanted());
    }
    let extra = &header[HEADER.len()..];
    for (i, name) in extra.iter().enumerate() {
        if !OPTIONAL.contains(&name.as_str()) || extra[..i].contains(name) {
            return Err(format!("column {name:?}: {}", wanted()));
        }
    }
    Ok(header.to_vec())
}

/// One row as a `create_section` with its one meeting.
fn row(line: &str, columns: &[String]) -> Result<Command, String> {
    let fields = split(line);
    if fields.len() != columns.len() {
        return Err(format!("{} columns, expected {}", fields.len(), columns.len()));
    }
    let f = |i: usize| fields[i].trim();
    let number = |i: usize| {
        f(i).parse::<u32>()
            .map_err(|_| format!("{} {:?} is not a whole number", HEADER[i], f(i)))
    };
    let cell = |name: &str| columns.iter().position(|c| c == name).map(f).unwrap_or("");
    let list = |name: &str| cell(name).split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let meeting = Meeting::parse(f(5), f(6), f(7))?;
    let command = Command::CreateSection {
        section: f(0).to_owned(),
        title: f(1).to_owned(),
        units: number(2)?,
        capacity: number(3)?,
        waitlist_capacity: number(4)?,
        meetings: vec![meeting],
        course: Some(cell("course")).filter(|c| !c.is_empty()).map(str::to_owned),
        prerequisites: list("prerequisites"),
        linked: list("linked"),
        reserved: cell("reserved")
            .split_whitespace()
            .map(reservation)
            .collect::<Result<_, _>>()?,
    };
    // The server's own checks (ids, names, limits, start before end), run here so a
    // bad row is caught before anything is sent.
    command.validate().map_err(|e| e.to_string())?;
    Ok(command)
}

/// `major:COMSCI=20@2026-11-30T08:00:00Z`: seats held for a population until an instant.
fn reservation(text: &str) -> Result<Reservation, String> {
    let bad = || format!("reserved {text:?} is not POPULATION=SEATS@UNTIL, e.g. major:COMSCI=20@2026-11-30T08:00:00Z");
    let (population, rest) = text.split_once('=').ok_or_else(bad)?;
    let (seats, until) = rest.split_once('@').ok_or_else(bad)?;
    Ok(Reservation {
        population: population.parse()?,
        seats: seats.parse().map_err(|_| bad())?,
        until: OffsetDateTime::parse(until, &Rfc3339).map_err(|_| bad())?,
    })
}

/// The `record_completion` commands of a `student,course` file.
fn completions(text: &str) -> Result<Vec<Command>, Vec<String>> {
    let mut commands = Vec::new();
    let mut problems = Vec::new();
    for (number, line) in text.lines().enumerate().skip(1).map(|(i, l)| (i + 1, l)) {
        if line.trim().is_empty() {
            continue;
        }
        let fields = split(line);
        let command = match &fields[..] {
            [student, course] => Command::RecordCompletion {
                student: student.trim().to_owned(),
                course: course.trim().to_owned(),
            },
            _ => {
                problems.push(format!("line {number}: {} columns, expected 2", fields.len()));
                continue;
            }
        };
        match command.validate() {
            Ok(()) => commands.push(command),
            Err(e) => problems.push(format!("line {number}: {e}")),
        }
    }
    if commands.is_empty() && problems.is_empty() {
        problems.push("the file has no completions after its header".into());
    }
    if problems.is_empty() {
        Ok(commands)
    } else {
        Err(problems)
    }
}

/// Adds a row's meeting to its section, or starts the section.
fn merge(
    order: &mut Vec<String>,
    sections: &mut BTreeMap<String, (usize, Command)>,
    number: usize,
    command: Command,
) -> Result<(), String> {
    let Command::CreateSection { section, meetings, .. } = &command else {
        unreachable!("rows are create_section")
    };
    let Some((first_line, existing)) = sections.get_mut(section) else {
        order.push(section.clone());
        sections.insert(section.clone(), (number, command));
        return Ok(());
    };
    if without_meetings(existing) != without_meetings(&command) {
        return Err(format!(
            "{section} has other title, units or capacities than on line {first_line}"
        ));
    }
    if let Command::CreateSection { meetings: have, .. } = existing {
        have.extend(meetings.iter().copied());
    }
    Ok(())
}

fn without_meetings(command: &Command) -> Command {
    let mut command = command.clone();
    if let Command::CreateSection { meetings, .. } = &mut command {
        meetings.clear();
    }
    command
}

/// Splits a CSV line: commas separate, double quotes may wrap a field holding commas,
/// and `""` inside quotes is one quote (RFC 4180, one line per record).
fn split(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let field = fields.last_mut().expect("one field at least");
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            _ => field.push(c),
        }
    }
    fields
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub fn create(id: &str) -> Command {
        Command::CreateSection {
            section: id.into(),
            title: "Software Construction".into(),
            units: 4,
            capacity: 160,
            waitlist_capacity: 20,
            meetings: vec![Meeting::parse("MW", "14:00", "15:50").unwrap()],
            course: None,
            prerequisites: vec![],
            linked: vec![],
            reserved: vec![],
        }
    }

    const HEAD: &str = "section,title,units,capacity,waitlist_capacity,days,start,end\n";

    #[test]
    fn rows_of_one_section_add_meetings() {
        let text = format!(
            "{HEAD}COMSCI-35L-1,Software Construction,4,160,20,MW,14:00,15:50\n\
             \"MATH-31A-1\",\"Calculus, Differential\",4,200,0,MWF,09:00,09:50\n\
             MATH-31A-1,\"Calculus, Differential\",4,200,0,R,09:00,09:50\n"
        );
        let commands = parse(&text).unwrap();
        assert_eq!(commands[0], create("COMSCI-35L-1"));
        let Command::CreateSection { title, meetings, .. } = &commands[1] else {
            panic!()
        };
        assert_eq!((title.as_str(), meetings.len()), ("Calculus, Differential", 2));
    }

    #[test]
    fn bad_rows_are_reported_by_line() {
        let text = format!(
            "{HEAD}COMSCI-35L-1,Software Construction,4,160,20,MW,14:00,15:50\n\
             MATH-31A-1,Calculus,four,200,0,MWF,09:00,09:50\n\
             \n\
             MATH-32A-1,Calculus,4,200,0,MX,09:00,09:50\n\
             COMSCI-35L-1,Software Construction,5,160,20,F,14:00,15:50\n"
        );
        let problems = parse(&text).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("line 3: units \"four\""), "{problems:?}");
        assert!(problems[1].starts_with("line 5: days"), "{problems:?}");
        assert!(
            problems[2].starts_with("line 6: COMSCI-35L-1 has other"),
            "{problems:?}"
        );
    }

    /// The README imports them on a fresh demo; they must stay valid.
    #[test]
    fn the_example_files_parse() {
        let commands = parse(include_str!("../../../../examples/catalog.csv")).unwrap();
        assert_eq!(commands.len(), 6, "six sections, two with two meetings");
        let Command::CreateSection {
            section,
            linked,
            prerequisites,
            reserved,
            ..
        } = commands.last().unwrap()
        else {
            panic!()
        };
        assert_eq!(section, "COMSCI-M152A-1", "the lecture comes after its linked labs");
        assert_eq!((linked.len(), prerequisites.len(), reserved.len()), (2, 1, 1));
        let completions = parse(include_str!("../../../../examples/completions.csv")).unwrap();
        assert!(
            completions
                .iter()
                .all(|c| matches!(c, Command::RecordCompletion { .. }))
        );
    }

    #[test]
    fn the_new_columns_fill_the_new_fields() {
        let text = "section,title,units,capacity,waitlist_capacity,days,start,end,reserved,linked,course\n\
                    A-1,Lab,0,10,0,F,09:00,10:00,,,\n\
                    B-1,Lecture,4,10,2,M,09:00,10:00,major:X=3@2026-11-30T08:00:00Z standing:senior=2@2026-12-01T00:00:00Z,A-1,B\n";
        let commands = parse(text).unwrap();
        let Command::CreateSection {
            reserved,
            linked,
            course,
            ..
        } = &commands[1]
        else {
            panic!()
        };
        assert_eq!((reserved.len(), reserved[1].seats), (2, 2));
        assert_eq!(
            (linked.clone(), course.clone()),
            (vec!["A-1".to_string()], Some("B".into()))
        );
        let bad = text.replace("major:X=3@", "major:X=three@");
        assert!(
            parse(&bad).unwrap_err()[0].starts_with("line 3: reserved"),
            "{:?}",
            parse(&bad)
        );
        let unknown = text.replace("course\n", "room\n");
        assert!(parse(&unknown).unwrap_err()[0].starts_with("line 1: column \"room\""));
    }

    #[test]
    fn completions_are_checked_row_by_row() {
        let commands = parse("student,course\ns1,COMSCI-31\n\ns2, MATH-31A\n").unwrap();
        assert_eq!(commands.len(), 2);
        let problems = parse("student,course\ns1\ns 2,MATH-31A\n").unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("line 2: 1 columns"), "{problems:?}");
    }

    #[test]
    fn the_header_is_required() {
        assert!(parse("COMSCI-35L-1,x,4,1,0,M,09:00,10:00\n").unwrap_err()[0].starts_with("line 1"));
    }
}
