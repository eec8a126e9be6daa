//! `murphy admin import sections.csv`: creates sections from a CSV file.
//!
//! Columns: `section,title,units,capacity,waitlist_capacity,days,start,end`, one
//! meeting per row; rows of the same section add meetings (their other columns must
//! agree). Every row is checked before anything is sent, and so is whether a section
//! already exists: a file with any bad row imports nothing, and says which lines.

use std::collections::BTreeMap;

use murphy_core::{Command, Meeting};

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

/// The `create_section` commands of a CSV file, or every problem, each with its line.
pub fn parse(text: &str) -> Result<Vec<Command>, Vec<String>> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let mut problems = Vec::new();
    match lines.next() {
        Some((_, header)) if split(header).iter().map(|f| f.trim()).eq(HEADER) => {}
        _ => return Err(vec![format!("line 1: the header must be {}", HEADER.join(","))]),
    }
    // Sections in file order (by first line), so the import follows the file.
    let mut order: Vec<String> = Vec::new();
    let mut sections: BTreeMap<String, (usize, Command)> = BTreeMap::new();
    for (number, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        match row(line) {
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
    let commands: Vec<Command> = order.iter().map(|id| sections[id].1.clone()).collect();
    for command in &commands {
        command.validate().map_err(|e| vec![e.to_string()])?;
    }
    Ok(commands)
}

/// One row as a `create_section` with its one meeting.
fn row(line: &str) -> Result<Command, String> {
    let fields = split(line);
    if fields.len() != HEADER.len() {
        return Err(format!("{} columns, expected {}", fields.len(), HEADER.len()));
    }
    let f = |i: usize| fields[i].trim();
    let number = |i: usize| {
        f(i).parse::<u32>()
            .map_err(|_| format!("{} {:?} is not a whole number", HEADER[i], f(i)))
    };
    let meeting = Meeting::parse(f(5), f(6), f(7))?;
    let command = Command::CreateSection {
        section: f(0).to_owned(),
        title: f(1).to_owned(),
        units: number(2)?,
        capacity: number(3)?,
        waitlist_capacity: number(4)?,
        meetings: vec![meeting],
    };
    // The server's own checks (ids, names, limits, start before end), run here so a
    // bad row is caught before anything is sent.
    command.validate().map_err(|e| e.to_string())?;
    Ok(command)
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

    /// The README imports it on a fresh demo; it must stay valid.
    #[test]
    fn the_example_catalog_parses() {
        let commands = parse(include_str!("../../../../examples/catalog.csv")).unwrap();
        assert_eq!(commands.len(), 4, "four sections, two with two meetings");
    }

    #[test]
    fn the_header_is_required() {
        assert!(parse("COMSCI-35L-1,x,4,1,0,M,09:00,10:00\n").unwrap_err()[0].starts_with("line 1"));
    }
}
