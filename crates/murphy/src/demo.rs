//! `murphy demo`: a small, plausible catalog (COMSCI-35L-1 with its 160 seats among
//! them) and a few hundred students with tokens, seeded once into the data directory,
//! as registration day leaves it: COMSCI-35L-1 already full with two students on its
//! waitlist. The registrar's rules are all there at once: lectures taken with a
//! discussion or lab (COMSCI-32-1, COMSCI-32-2, PHYSICS-1A-1), prerequisites
//! (COMSCI-32 needs COMSCI-31, ...), students with majors, standings and completed
//! courses, and COMSCI-35L-3 holding its last 10 seats for COMSCI majors until
//! tomorrow. The seeding is deterministic but for that instant (a day after the seeding,
//! on the hour), so a fresh demo's log positions, versions and answers are those the
//! README shows (its walk-through test checks them).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use murphy_core::{Command, Meeting, Population, Reservation};
use murphy_server::Server;
use time::{Duration, OffsetDateTime};

const TOKENS_FILE: &str = "student-tokens.txt";

/// The section registration day has filled, and how many wait for it: whoever joins
/// its waitlist next is 3rd, as in the README.
const FULL_SECTION: &str = "COMSCI-35L-1";
const FULL_SECTION_WAITLISTED: usize = 2;
/// The first students are left with empty schedules for the visitor to play them;
/// the ones after fill `FULL_SECTION`, then the unreserved seats of `RESERVED_SECTION`.
const FREE_STUDENTS: usize = 100;

const FULL_SECTION_CAPACITY: u32 = 160;

/// The section whose last seats are held for majors, and for which major: filled by
/// others up to its reserved seats.
const RESERVED_SECTION: &str = "COMSCI-35L-3";
const RESERVED_MAJOR: &str = "COMSCI";
const RESERVED_SEATS: u32 = 10;

/// (department, number, title, units, prerequisites)
const COURSES: &[(&str, &str, &str, u32, &[&str])] = &[
    ("COMSCI", "31", "Introduction to Computer Science I", 4, &[]),
    ("COMSCI", "32", "Introduction to Computer Science II", 4, &["COMSCI-31"]),
    (
        "COMSCI",
        "33",
        "Introduction to Computer Organization",
        5,
        &["COMSCI-32"],
    ),
    ("COMSCI", "35L", "Software Construction", 4, &[]),
    (
        "COMSCI",
        "111",
        "Operating Systems Principles",
        5,
        &["COMSCI-33", "COMSCI-35L"],
    ),
    ("COMSCI", "118", "Computer Network Fundamentals", 4, &["COMSCI-111"]),
    (
        "COMSCI",
        "131",
        "Programming Languages",
        4,
        &["COMSCI-33", "COMSCI-35L"],
    ),
    (
        "COMSCI",
        "180",
        "Introduction to Algorithms and Complexity",
        4,
        &["COMSCI-32", "MATH-61"],
    ),
    ("MATH", "31A", "Differential and Integral Calculus", 4, &[]),
    ("MATH", "33A", "Linear Algebra and Applications", 4, &["MATH-31A"]),
    ("MATH", "61", "Introduction to Discrete Structures", 4, &["MATH-31A"]),
    (
        "PHYSICS",
        "1A",
        "Physics for Scientists and Engineers: Mechanics",
        5,
        &["MATH-31A"],
    ),
    ("ENGCOMP", "3", "English Composition, Rhetoric, and Language", 5, &[]),
    ("HIST", "13A", "History of the United States", 5, &[]),
    ("STATS", "100A", "Introduction to Probability", 4, &["MATH-31A"]),
];

/// Lectures taken with one of two discussions or labs, which meet on Fridays.
const LINKED_LECTURES: &[&str] = &["COMSCI-32-1", "COMSCI-32-2", "PHYSICS-1A-1"];
const LINKED_SLOTS: [(&str, &str, &str); 2] = [("F", "10:00", "10:50"), ("F", "11:00", "11:50")];

/// Lecture slots that do and do not overlap, so time conflicts happen.
const SLOTS: &[(&str, &str, &str)] = &[
    ("MW", "10:00", "11:50"),
    ("TR", "14:00", "15:50"),
    ("MWF", "09:00", "09:50"),
    ("TR", "10:00", "11:50"),
    ("MW", "14:00", "15:50"),
    ("F", "12:00", "13:50"),
];

/// A student's major by their number: s0001 is a COMSCI major, s0002 a MATH one.
const MAJORS: &[&str] = &["PHYSICS", "COMSCI", "MATH", "HIST", "STATS"];
/// Class standings, and the courses completed by each (each includes those before).
const STANDINGS: &[(&str, &[&str])] = &[
    ("freshman", &["MATH-31A"]),
    ("sophomore", &["COMSCI-31", "MATH-61"]),
    ("junior", &["COMSCI-32", "MATH-33A", "COMSCI-35L"]),
    ("senior", &["COMSCI-33", "PHYSICS-1A"]),
];

/// Seeds an empty database; leaves an existing one alone.
pub async fn seed(server: &Server, data_dir: &Path, students: u32) -> anyhow::Result<()> {
    if server.lsn() > 0 {
        say!(
            "demo: reusing the demo already in {} (its log at lsn {}); \
             to start over from a fresh demo, stop murphy and remove that directory",
            data_dir.display(),
            server.lsn()
        );
        return Ok(());
    }
    let catalog = catalog(reservations_until(OffsetDateTime::now_utc()));
    let sections = catalog.len();
    server
        .apply_as_admin(catalog)
        .await
        .context("creating the demo catalog")?;
    let ids: Vec<String> = (1..=students).map(|i| format!("s{i:04}")).collect();
    for chunk in ids.chunks(100) {
        let commands = chunk.iter().map(|id| student(id)).collect();
        server
            .apply_as_admin(commands)
            .await
            .context("creating demo students")?;
    }
    let taken = fill(server, &ids).await?;
    let path = data_dir.join(TOKENS_FILE);
    let mut file = private_file(&path)?;
    for id in &ids {
        writeln!(file, "{id} {}", server.mint_token(id).await?)?;
    }
    say!(
        "demo: {sections} sections and {students} students; {FULL_SECTION} is full, with {} on its \
         waitlist; student tokens in {}",
        taken.saturating_sub(FULL_SECTION_CAPACITY as usize),
        path.display()
    );
    Ok(())
}

/// A day after `now`, on the hour: when the demo's reserved seats open to all.
fn reservations_until(now: OffsetDateTime) -> OffsetDateTime {
    let tomorrow = now + Duration::days(1);
    tomorrow.replace_time(time::Time::from_hms(tomorrow.hour(), 0, 0).expect("an hour is a time"))
}

/// Students after the free ones take `FULL_SECTION`'s seats, then join its waitlist;
/// the next ones who are not `RESERVED_MAJOR` majors take `RESERVED_SECTION`'s
/// unreserved seats. Returns how many went for `FULL_SECTION` (fewer when
/// `--students` is small).
async fn fill(server: &Server, ids: &[String]) -> anyhow::Result<usize> {
    let crowd = FULL_SECTION_CAPACITY as usize + FULL_SECTION_WAITLISTED;
    let full: Vec<Command> = ids
        .iter()
        .skip(FREE_STUDENTS)
        .take(crowd)
        .enumerate()
        .map(|(i, student)| enroll(student, FULL_SECTION, i >= FULL_SECTION_CAPACITY as usize))
        .collect();
    let taken = full.len();
    let unreserved = catalog_capacity(RESERVED_SECTION) - RESERVED_SEATS;
    let others = ids
        .iter()
        .skip(FREE_STUDENTS + crowd)
        .filter(|id| major(id) != RESERVED_MAJOR)
        .take(unreserved as usize)
        .map(|student| enroll(student, RESERVED_SECTION, false));
    let enrolls: Vec<Command> = full.into_iter().chain(others).collect();
    for chunk in enrolls.chunks(100) {
        let results = server
            .apply_as_admin(chunk.to_vec())
            .await
            .context("filling the demo's sections")?;
        if let Some(refused) = results.iter().find(|r| r.outcome.is_refusal()) {
            anyhow::bail!(
                "filling the demo's sections: log entry {} was refused: {:?}",
                refused.lsn,
                refused.outcome
            );
        }
    }
    Ok(taken)
}

fn enroll(student: &str, section: &str, waitlist: bool) -> Command {
    Command::Enroll {
        student: student.to_owned(),
        section: section.into(),
        waitlist,
        with: None,
        permission: None,
    }
}

/// The capacity a lecture of the catalog gets.
fn catalog_capacity(id: &str) -> u32 {
    if id == FULL_SECTION {
        return FULL_SECTION_CAPACITY;
    }
    let (course, lecture) = id.rsplit_once('-').expect("lecture ids end in -N");
    let i = COURSES
        .iter()
        .position(|(dept, number, ..)| format!("{dept}-{number}") == course)
        .expect("a course of the catalog");
    [30, 60, 120][(i + lecture.parse::<usize>().expect("lecture numbers")) % 3]
}

/// Every section: three lectures per course, each linked lecture after its two linked
/// sections (which must exist first).
fn catalog(until: OffsetDateTime) -> Vec<Command> {
    let mut commands = Vec::new();
    for (i, (dept, number, title, units, prerequisites)) in COURSES.iter().enumerate() {
        for lecture in 1..=3usize {
            let (days, start, end) = SLOTS[(i + lecture) % SLOTS.len()];
            let id = format!("{dept}-{number}-{lecture}");
            let capacity = catalog_capacity(&id);
            let mut linked = Vec::new();
            if LINKED_LECTURES.contains(&id.as_str()) {
                for (letter, slot) in ["A", "B"].into_iter().zip(LINKED_SLOTS) {
                    let part = format!("{id}{letter}");
                    let kind = if *dept == "PHYSICS" { "lab" } else { "discussion" };
                    let part_title = format!("{title}: {kind} {letter}");
                    commands.push(section(&part, &part_title, 0, capacity / 2, slot));
                    linked.push(part);
                }
            }
            let mut command = section(&id, title, *units, capacity, (days, start, end));
            if let Command::CreateSection {
                prerequisites: p,
                linked: l,
                reserved,
                ..
            } = &mut command
            {
                *p = prerequisites.iter().map(|c| c.to_string()).collect();
                *l = linked;
                if id == RESERVED_SECTION {
                    reserved.push(Reservation {
                        population: Population::Major(RESERVED_MAJOR.into()),
                        seats: RESERVED_SEATS,
                        until,
                    });
                }
            }
            commands.push(command);
        }
    }
    commands
}

fn section(id: &str, title: &str, units: u32, capacity: u32, (days, start, end): (&str, &str, &str)) -> Command {
    Command::CreateSection {
        section: id.to_owned(),
        title: title.to_owned(),
        units,
        capacity,
        waitlist_capacity: capacity / 5,
        meetings: vec![Meeting::parse(days, start, end).expect("the demo's slots are valid")],
        course: None,
        prerequisites: vec![],
        linked: vec![],
        reserved: vec![],
    }
}

/// A student's number, from their id (`s0042` is 42).
fn number(id: &str) -> usize {
    id[1..].parse().unwrap_or(0)
}

fn major(id: &str) -> &'static str {
    MAJORS[number(id) % MAJORS.len()]
}

fn student(id: &str) -> Command {
    const FIRST: &[&str] = &[
        "Joe",
        "Josephine",
        "Ana",
        "Wei",
        "Priya",
        "Diego",
        "Fatima",
        "Noah",
        "Mei",
        "Omar",
    ];
    const LAST: &[&str] = &[
        "Bruin", "Nguyen", "Garcia", "Kim", "Patel", "Cohen", "Okafor", "Smith", "Silva", "Chen",
    ];
    let n = number(id);
    let name = format!("{} {}", FIRST[n % FIRST.len()], LAST[(n / FIRST.len()) % LAST.len()]);
    let level = (n / MAJORS.len()) % STANDINGS.len();
    let completed = STANDINGS[..=level]
        .iter()
        .flat_map(|(_, courses)| courses.iter().map(|c| c.to_string()))
        .collect();
    Command::CreateStudent {
        student: id.to_owned(),
        name,
        max_units: 20,
        major: Some(major(id).into()),
        standing: Some(STANDINGS[level].0.into()),
        completed,
    }
}

fn private_file(path: &Path) -> anyhow::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog must apply cleanly, in order, and use every rule.
    #[test]
    fn the_catalog_applies_and_uses_every_rule() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let mut state = murphy_core::State::default();
        for command in catalog(reservations_until(now)) {
            command.validate().unwrap();
            let outcome = state.apply(now, &command).outcome;
            assert_eq!(outcome, murphy_core::Outcome::Created, "{command:?}");
        }
        let sections: Vec<_> = state.sections().collect();
        assert!(sections.iter().filter(|s| !s.linked.is_empty()).count() >= 3);
        assert!(sections.iter().any(|s| !s.prerequisites.is_empty()));
        let reserved = state.section(RESERVED_SECTION).unwrap();
        assert_eq!(reserved.held(), RESERVED_SEATS);
        assert_eq!(reserved.reserved[0].rule.until, reservations_until(now));
        assert!(reservations_until(now) > now);
        let Command::CreateStudent { major, completed, .. } = student("s0001") else {
            panic!()
        };
        assert_eq!(
            (major.as_deref(), completed),
            (Some("COMSCI"), vec!["MATH-31A".to_string()])
        );
    }
}
