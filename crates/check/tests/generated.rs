//! A generated registration run (a few crowded sections, waitlists, swaps, drops,
//! holds, capacity changes, multi-command requests, lost answers and their retries,
//! requests overlapping in time, and the registrar's rules: a lecture taken with one of
//! two discussions, a prerequisite, permission numbers, seats held for majors until an
//! instant the run passes) must check clean; and editing any one refusal or grant in
//! its log must be caught.

mod common;

use common::*;
use murphy_core::{Command, Outcome, Population, Reservation};
use time::OffsetDateTime;

const SECTIONS: usize = 5;
const STUDENTS: usize = 16;
const REQUESTS: usize = 1_500;

/// xorshift64*: deterministic, and no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

fn sec(i: usize) -> String {
    format!("SEC-{i}")
}

fn stu(i: usize) -> String {
    format!("s{i}")
}

fn pair(student: &str, rng: &mut Rng) -> Command {
    Command::Enroll {
        student: student.into(),
        section: "LEC".into(),
        waitlist: rng.one_in(2),
        with: Some(["LEC-A", "LEC-B"][rng.below(2)].into()),
        permission: rng.one_in(4).then(|| "ASKED".into()),
    }
}

/// The registrar's moves: pairs (some with a permission number), swaps between the
/// discussions, drops of the lecture, permission numbers issued.
fn registrar_command(student: String, rng: &mut Rng) -> Command {
    match rng.below(4) {
        0 if rng.one_in(5) => enroll(&student, "LEC"),
        0 => pair(&student, rng),
        1 => {
            let from = rng.below(2);
            swap(&student, ["LEC-A", "LEC-B"][from], ["LEC-A", "LEC-B"][1 - from])
        }
        2 => drop(&student, "LEC"),
        _ => Command::IssuePermission {
            student,
            section: "LEC".into(),
        },
    }
}

fn command(rng: &mut Rng) -> Command {
    let (student, section) = (stu(rng.below(STUDENTS)), sec(rng.below(SECTIONS)));
    if rng.one_in(4) {
        return registrar_command(student, rng);
    }
    match rng.below(12) {
        0..=4 => {
            if rng.one_in(2) {
                enroll_or_wait(&student, &section)
            } else {
                enroll(&student, &section)
            }
        }
        5 | 6 => drop(&student, &section),
        7 | 8 => {
            let to = sec((rng.below(SECTIONS - 1) + 1 + section[4..].parse::<usize>().unwrap()) % SECTIONS);
            swap(&student, &section, &to)
        }
        9 => withdraw(&student, 1 + rng.below(3_000) as i64),
        10 => deposit(&student, 1 + rng.below(6_000) as i64),
        _ => set_capacity(&section, 1 + rng.below(4) as u32),
    }
}

/// Request k is applied k-th, sent a little before and answered a little after its
/// slot: requests overlap in time, yet real time never contradicts the log order.
fn generated_run(seed: u64) -> Run {
    let mut rng = Rng(seed);
    let mut run = Run::new();
    let meetings = [
        vec![meeting("MW", "09:00", "10:00")],
        vec![meeting("W", "09:30", "10:30")],
        vec![meeting("TR", "09:00", "10:00")],
        vec![],
        vec![meeting("F", "12:00", "13:00")],
    ];
    let mut sections: Vec<Command> = (0..SECTIONS)
        .map(|i| section(&sec(i), 1 + (i as u32 % 3), i as u32 % 3, meetings[i].clone()))
        .collect();
    registrar_catalog(&mut sections);
    run.admin(&sections);
    run.admin(&(0..STUDENTS).map(registrar_student).collect::<Vec<_>>());
    let slot_ns = 1_000;
    let mut pending_retries = Vec::new();
    for k in 0..REQUESTS {
        let slot = run.clock_ns + slot_ns * (k as u64 + 1);
        let sent = slot - rng.below(900) as u64;
        let answered = slot + rng.below(900) as u64;
        let commands: Vec<Command> = (0..1 + rng.below(2))
            .map(|_| with_code(&run, command(&mut rng)))
            .collect();
        let client = format!("c{}", rng.below(8));
        let seq = run.next_seq(&client);
        let results = run.apply(Some(&client), Some(seq), &commands);
        if rng.one_in(10) {
            // The answer was lost; the retry comes a few slots later.
            run.record(&client, Some(seq), &commands, sent, None, None);
            pending_retries.push((client, seq, commands, results, slot + 3 * slot_ns));
        } else {
            run.record(&client, Some(seq), &commands, sent, Some(answered), Some(results));
        }
    }
    for (client, seq, commands, results, sent) in pending_retries {
        run.record(&client, Some(seq), &commands, sent, Some(sent + 500), Some(results));
    }
    run
}

/// SEC-2 holds its two seats for majors of M for the first half of the run; LEC (two
/// seats, requiring C1) is taken with LEC-A or LEC-B (one seat each), created first.
fn registrar_catalog(sections: &mut Vec<Command>) {
    let half_way = OffsetDateTime::from_unix_timestamp(1_767_225_600 + REQUESTS as i64 / 2).unwrap();
    if let Command::CreateSection { capacity, reserved, .. } = &mut sections[2] {
        *capacity = 3;
        reserved.push(Reservation {
            population: Population::Major("M".into()),
            seats: 2,
            until: half_way,
        });
    }
    let mut lecture = section("LEC", 2, 3, vec![meeting("F", "08:00", "09:00")]);
    if let Command::CreateSection {
        linked, prerequisites, ..
    } = &mut lecture
    {
        *linked = vec!["LEC-A".into(), "LEC-B".into()];
        prerequisites.push("C1".into());
    }
    sections.push(section("LEC-A", 1, 0, vec![meeting("F", "14:00", "15:00")]));
    sections.push(section("LEC-B", 1, 0, vec![meeting("F", "15:00", "16:00")]));
    sections.push(lecture);
}

/// A quarter of the students are majors of M; two thirds have completed C1.
fn registrar_student(i: usize) -> Command {
    let mut command = student(&stu(i));
    if let Command::CreateStudent { major, completed, .. } = &mut command {
        *major = Some(if i.is_multiple_of(4) { "M" } else { "N" }.into());
        if i % 3 != 2 {
            completed.push("C1".into());
        }
    }
    command
}

/// A pair asked with a permission number uses the student's latest code, or one that
/// was never issued when they have none.
fn with_code(run: &Run, mut command: Command) -> Command {
    if let Command::Enroll {
        student,
        permission: permission @ Some(_),
        ..
    } = &mut command
    {
        let latest = run.state.student(student).and_then(|s| s.permissions.last());
        *permission = Some(latest.map_or_else(|| "NEVER-ISSUED".into(), |p| p.code.clone()));
    }
    command
}

#[test]
fn a_generated_run_is_clean() {
    for seed in [1, 7, 42] {
        let run = generated_run(seed);
        let report = run.check();
        assert!(report.is_clean(), "seed {seed}:\n{report}");
        assert_eq!(report.invariants.checked, run.log.len() as u64);
        let outcomes = |kind: &str| run.log.iter().filter(|e| e.outcome.kind().name() == kind).count();
        // The run must reach the cases the checks are about.
        for kind in [
            "enrolled",
            "full",
            "waitlisted",
            "dropped",
            "swapped",
            "hold",
            "time_conflict",
        ] {
            assert!(outcomes(kind) > 5, "seed {seed}: only {} {kind}", outcomes(kind));
        }
        for kind in [
            "reserved",
            "missing_prerequisite",
            "permission",
            "bad_permission",
            "needs_linked",
        ] {
            assert!(outcomes(kind) > 0, "seed {seed}: no {kind}");
        }
        let pairs = run.log.iter().filter(|e| {
            matches!(
                (&e.command, &e.outcome),
                (Command::Enroll { with: Some(_), .. }, Outcome::Enrolled)
            )
        });
        assert!(pairs.count() > 2, "seed {seed}: few pairs enrolled");
        assert!(
            run.log.iter().any(|e| !e.effects.released.is_empty()),
            "seed {seed}: no release"
        );
        assert!(
            run.log.iter().any(|e| !e.effects.promoted.is_empty()),
            "seed {seed}: no promotion"
        );
        assert!(report.fcfs.checked > 50, "{report}");
    }
}

/// Turning one refusal into a grant, or a grant into a refusal, anywhere in the log
/// (and in the client's answer, so only the log's own story is wrong) is caught.
#[test]
fn every_edited_outcome_in_a_generated_run_is_caught() {
    let clean = generated_run(5);
    let edits: Vec<(u64, Outcome)> = clean
        .log
        .iter()
        .filter_map(|e| match e.outcome {
            Outcome::Full => Some((e.lsn, Outcome::Enrolled)),
            Outcome::Enrolled => Some((e.lsn, Outcome::Full)),
            _ => None,
        })
        .step_by(15)
        .collect();
    assert!(edits.len() > 10, "{} edits", edits.len());
    for (lsn, outcome) in edits {
        let mut run = clean.clone();
        run.rewrite_outcome(lsn, outcome.clone());
        let report = run.check();
        assert!(
            report.invariants.violations >= 1,
            "LSN {lsn} as {outcome:?} went unnoticed:\n{report}"
        );
        assert!(
            report.invariants.examples[0].starts_with(&format!("LSN {lsn} ")),
            "{report}"
        );
        assert_eq!(
            report.lost_writes.violations + report.real_time.violations,
            0,
            "{report}"
        );
    }
}
