//! The race for a lecture and its discussions, through the real server: 300 students,
//! 100 lecture seats, 4 discussions of 25 seats, 300 concurrent requests over 300
//! connections, each for the lecture with one discussion (some willing to wait).
//! Exactly 100 pairs win, every time: never a lecture seat without a discussion seat,
//! every discussion within its 25, first come first served per discussion, and the log
//! explains every answer. Then drops promote waiting pairs, both seats in one step.

mod common;

use std::collections::HashMap;

use common::{ADMIN_TOKEN, TestServer, create_section, create_student};
use murphy_client::Client;
use murphy_core::{Command, LogEntry, Outcome, State};

const LECTURE: &str = "COMSCI-32-1";
const DISCUSSIONS: [&str; 4] = ["COMSCI-32-1A", "COMSCI-32-1B", "COMSCI-32-1C", "COMSCI-32-1D"];
const LECTURE_SEATS: u32 = 100;
const DISCUSSION_SEATS: u32 = 25;
const STUDENTS: usize = 300;
/// Places in the lecture's line, for the students who ask to wait.
const WAITLIST_PLACES: u32 = 20;

fn pair(student: &str, with: &str, waitlist: bool) -> Command {
    Command::Enroll {
        student: student.into(),
        section: LECTURE.into(),
        waitlist,
        with: Some(with.into()),
        permission: None,
    }
}

/// The catalog: the discussions first, then the lecture that links them.
fn catalog() -> Vec<Command> {
    let mut commands: Vec<Command> = DISCUSSIONS
        .iter()
        .map(|d| create_section(d, DISCUSSION_SEATS, 0))
        .collect();
    let mut lecture = create_section(LECTURE, LECTURE_SEATS, WAITLIST_PLACES);
    if let Command::CreateSection { linked, units, .. } = &mut lecture {
        *linked = DISCUSSIONS.iter().map(|d| d.to_string()).collect();
        *units = 4;
    }
    commands.push(lecture);
    commands.extend((0..STUDENTS).map(|i| create_student(&format!("s{i:04}"))));
    commands
}

/// Replays the whole log through core: every outcome again, every invariant after.
fn replay(log: &[LogEntry]) -> State {
    let mut state = State::default();
    for entry in log {
        let applied = state.apply(entry.at, &entry.command);
        assert_eq!(
            (applied.lsn, &applied.outcome, &applied.effects),
            (entry.lsn, &entry.outcome, &entry.effects),
            "replay diverges"
        );
    }
    state
        .check_invariants()
        .expect("the replayed state keeps every invariant");
    state
}

/// Every student in the lecture holds exactly one discussion, and the other way round.
fn assert_pairs(state: &State) {
    for student in state.students() {
        let discussions = DISCUSSIONS.iter().filter(|d| student.enrolled.contains(**d)).count();
        let lecture = usize::from(student.enrolled.contains(LECTURE));
        assert_eq!(
            discussions, lecture,
            "{} holds {discussions} discussions, lecture {lecture}",
            student.id
        );
    }
    for d in DISCUSSIONS {
        assert!(
            state.section(d).unwrap().enrolled.len() as u32 <= DISCUSSION_SEATS,
            "{d} overbooked"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_100_pairs_win_and_never_a_lecture_without_a_discussion() {
    let server = TestServer::start().await;
    server.setup(catalog()).await;
    let log_before = server.log_len().await;

    // One client per student: separate connections, as separate browsers.
    let mut racers = Vec::new();
    for i in 0..STUDENTS {
        let (id, with) = (format!("s{i:04}"), DISCUSSIONS[i % DISCUSSIONS.len()]);
        let client = Client::new(server.url(), Some(ADMIN_TOKEN.into()));
        racers.push(tokio::spawn(async move {
            let answer = client
                .commands(vec![pair(&id, with, i % 10 == 0)])
                .await
                .expect("an answer");
            let result = answer.results.into_iter().next().expect("one result");
            (id, with, result.lsn, result.outcome)
        }));
    }
    let mut answers = HashMap::new();
    for racer in racers {
        let (id, with, lsn, outcome) = racer.await.unwrap();
        assert!(
            matches!(outcome, Outcome::Enrolled | Outcome::Full | Outcome::Waitlisted { .. }),
            "{id}: {outcome:?}"
        );
        answers.insert(lsn, (id, with, outcome));
    }
    assert_eq!(answers.len(), STUDENTS, "every answer has its own LSN");
    let won = answers.values().filter(|(_, _, o)| *o == Outcome::Enrolled).count();
    assert_eq!(won, LECTURE_SEATS as usize, "exactly 100 pairs");
    assert_eq!(server.admin.section(LECTURE).await.unwrap().enrolled, LECTURE_SEATS);
    for d in DISCUSSIONS {
        assert_eq!(server.admin.section(d).await.unwrap().enrolled, DISCUSSION_SEATS, "{d}");
    }

    // The log explains every answer, and within each discussion the winners are the
    // first 25 to ask for it, in the serial order.
    let log = server.admin.full_log().await.unwrap();
    let state = replay(&log);
    assert_pairs(&state);
    for d in DISCUSSIONS {
        let asked: Vec<&Outcome> = log[log_before..]
            .iter()
            .filter(|e| matches!(&e.command, Command::Enroll { with: Some(w), .. } if w == d))
            .map(|e| &answers[&e.lsn].2)
            .collect();
        let first_losing = asked.iter().position(|o| **o != Outcome::Enrolled).unwrap();
        assert_eq!(first_losing, DISCUSSION_SEATS as usize, "{d}: first come, first served");
    }

    // Winners drop their pairs: each freed pair goes to the first waiter for that very
    // discussion, both seats in the same step, or stays free.
    let waiting = state.section(LECTURE).unwrap().waitlist.len();
    assert!(waiting > 0, "some asked to wait");
    let leavers: Vec<String> = state
        .section(LECTURE)
        .unwrap()
        .enrolled
        .iter()
        .take(10)
        .map(|s| s.to_string())
        .collect();
    let drops: Vec<Command> = leavers
        .iter()
        .map(|s| Command::Drop {
            student: s.clone(),
            section: LECTURE.into(),
        })
        .collect();
    let results = server.admin.commands(drops).await.unwrap().results;
    assert!(
        results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Dropped { linked: Some(_), .. }))
    );
    let log = server.admin.full_log().await.unwrap();
    let state = replay(&log);
    assert_pairs(&state);
    let promoted: usize = results
        .iter()
        .map(|r| match &r.outcome {
            Outcome::Dropped { promoted, .. } => promoted.len(),
            _ => 0,
        })
        .sum();
    assert!(promoted > 0, "a waiting pair was promoted");
    assert_eq!(
        state.section(LECTURE).unwrap().enrolled.len(),
        LECTURE_SEATS as usize - leavers.len() + promoted
    );
}
