//! `murphy demo`: a small, plausible catalog (COMSCI-35L-1 with its 160 seats among
//! them) and a few hundred students with tokens, seeded once into the data directory,
//! as registration day leaves it: COMSCI-35L-1 already full with two students on its
//! waitlist. The seeding is deterministic, so a fresh demo's log positions, versions
//! and answers are those the README shows (its walk-through test checks them).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use murphy_core::{Command, Meeting};
use murphy_server::Server;

const TOKENS_FILE: &str = "student-tokens.txt";

/// The section registration day has filled, and how many wait for it: whoever joins
/// its waitlist next is 3rd, as in the README.
const FULL_SECTION: &str = "COMSCI-35L-1";
const FULL_SECTION_WAITLISTED: usize = 2;
/// The first students are left with empty schedules for the visitor to play them;
/// the ones after fill `FULL_SECTION`.
const FREE_STUDENTS: usize = 100;

const FULL_SECTION_CAPACITY: u32 = 160;

/// (department, number, title, units)
const COURSES: &[(&str, &str, &str, u32)] = &[
    ("COMSCI", "31", "Introduction to Computer Science I", 4),
    ("COMSCI", "32", "Introduction to Computer Science II", 4),
    ("COMSCI", "33", "Introduction to Computer Organization", 5),
    ("COMSCI", "35L", "Software Construction", 4),
    ("COMSCI", "111", "Operating Systems Principles", 5),
    ("COMSCI", "118", "Computer Network Fundamentals", 4),
    ("COMSCI", "131", "Programming Languages", 4),
    ("COMSCI", "180", "Introduction to Algorithms and Complexity", 4),
    ("MATH", "31A", "Differential and Integral Calculus", 4),
    ("MATH", "33A", "Linear Algebra and Applications", 4),
    ("MATH", "61", "Introduction to Discrete Structures", 4),
    ("PHYSICS", "1A", "Physics for Scientists and Engineers: Mechanics", 5),
    ("ENGCOMP", "3", "English Composition, Rhetoric, and Language", 5),
    ("HIST", "13A", "History of the United States", 5),
    ("STATS", "100A", "Introduction to Probability", 4),
];

/// Lecture slots that do and do not overlap, so time conflicts happen.
const SLOTS: &[(&str, &str, &str)] = &[
    ("MW", "10:00", "11:50"),
    ("TR", "14:00", "15:50"),
    ("MWF", "09:00", "09:50"),
    ("TR", "10:00", "11:50"),
    ("MW", "14:00", "15:50"),
    ("F", "12:00", "13:50"),
];

/// Seeds an empty database; leaves an existing one alone.
pub async fn seed(server: &Server, data_dir: &Path, students: u32) -> anyhow::Result<()> {
    if server.lsn() > 0 {
        say!(
            "demo: reusing the demo already in {} (its log is past where a fresh demo starts); \
             to start over, stop murphy and remove that directory",
            data_dir.display()
        );
        return Ok(());
    }
    server
        .apply_as_admin(catalog())
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
        "demo: {} sections and {students} students; {FULL_SECTION} is full, with {} on its \
         waitlist; student tokens in {}",
        COURSES.len() * 3,
        taken.saturating_sub(FULL_SECTION_CAPACITY as usize),
        path.display()
    );
    Ok(())
}

/// Students after the free ones take `FULL_SECTION`'s seats, then join its waitlist.
/// Returns how many took part (fewer when `--students` is small).
async fn fill(server: &Server, ids: &[String]) -> anyhow::Result<usize> {
    let crowd = FULL_SECTION_CAPACITY as usize + FULL_SECTION_WAITLISTED;
    let enrolls: Vec<Command> = ids
        .iter()
        .skip(FREE_STUDENTS)
        .take(crowd)
        .enumerate()
        .map(|(i, student)| Command::Enroll {
            student: student.clone(),
            section: FULL_SECTION.into(),
            waitlist: i >= FULL_SECTION_CAPACITY as usize,
        })
        .collect();
    let taken = enrolls.len();
    for chunk in enrolls.chunks(100) {
        let results = server
            .apply_as_admin(chunk.to_vec())
            .await
            .with_context(|| format!("filling {FULL_SECTION}"))?;
        if let Some(refused) = results.iter().find(|r| r.outcome.is_refusal()) {
            anyhow::bail!(
                "filling {FULL_SECTION}: log entry {} was refused: {:?}",
                refused.lsn,
                refused.outcome
            );
        }
    }
    Ok(taken)
}

fn catalog() -> Vec<Command> {
    let mut commands = Vec::new();
    for (i, (dept, number, title, units)) in COURSES.iter().enumerate() {
        for lecture in 1..=3u32 {
            let (days, start, end) = SLOTS[(i + lecture as usize) % SLOTS.len()];
            let id = format!("{dept}-{number}-{lecture}");
            let capacity = if id == FULL_SECTION {
                FULL_SECTION_CAPACITY
            } else {
                [30, 60, 120][(i + lecture as usize) % 3]
            };
            commands.push(Command::CreateSection {
                section: id,
                title: title.to_string(),
                units: *units,
                capacity,
                waitlist_capacity: capacity / 5,
                meetings: vec![Meeting::parse(days, start, end).expect("the demo's slots are valid")],
            });
        }
    }
    commands
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
    let n: usize = id[1..].parse().unwrap_or(0);
    let name = format!("{} {}", FIRST[n % FIRST.len()], LAST[(n / FIRST.len()) % LAST.len()]);
    Command::CreateStudent {
        student: id.to_owned(),
        name,
        max_units: 20,
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
