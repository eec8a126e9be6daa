//! The lecture's race for the last seat, at registration-day scale: 400 students, 160
//! seats, 400 concurrent requests over 400 connections. Exactly 160 win, every time, and
//! the log is a serial order that explains every answer.

mod common;

use std::collections::HashMap;

use common::{TestServer, create_section, create_student, enroll};
use murphy_client::Client;
use murphy_core::{Outcome, State};

const SEATS: u32 = 160;
const STUDENTS: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_capacity_students_win_the_race_and_the_log_explains_it() {
    let server = TestServer::start().await;
    let mut setup = vec![create_section("COMSCI-35L-1", SEATS, 0)];
    setup.extend((0..STUDENTS).map(|i| create_student(&format!("s{i:04}"))));
    server.setup(setup).await;
    let log_before = server.log_len().await;

    // One reqwest client per student: separate connections, as separate browsers.
    let mut racers = Vec::new();
    for i in 0..STUDENTS {
        let id = format!("s{i:04}");
        let admin = Client::new(server.url(), Some(common::ADMIN_TOKEN.into()));
        racers.push(tokio::spawn(async move {
            let answer = admin
                .commands(vec![enroll(&id, "COMSCI-35L-1")])
                .await
                .expect("an answer");
            let result = answer.results.into_iter().next().expect("one result");
            (id, result.lsn, result.outcome)
        }));
    }
    let mut answers = HashMap::new();
    for racer in racers {
        let (id, lsn, outcome) = racer.await.unwrap();
        answers.insert(lsn, (id, outcome));
    }

    let won = answers.values().filter(|(_, o)| *o == Outcome::Enrolled).count();
    let full = answers.values().filter(|(_, o)| *o == Outcome::Full).count();
    assert_eq!((won, full), (SEATS as usize, STUDENTS - SEATS as usize));
    assert_eq!(answers.len(), STUDENTS, "every answer has its own LSN");
    assert_eq!(server.admin.section("COMSCI-35L-1").await.unwrap().enrolled, SEATS);

    // The log: 400 enroll entries, and replaying it through core gives the same answers.
    let log = server.admin.full_log().await.unwrap();
    assert_eq!(log.len(), log_before + STUDENTS);
    let mut state = State::default();
    for entry in &log {
        let applied = state.apply(entry.at, &entry.command);
        assert_eq!(
            (applied.lsn, &applied.outcome),
            (entry.lsn, &entry.outcome),
            "replay diverges"
        );
    }
    for entry in &log[log_before..] {
        let (id, outcome) = &answers[&entry.lsn];
        assert_eq!(&entry.outcome, outcome, "the log says what {id} was told");
    }
    // First come, first served: the winners are exactly the first 160 in the serial order.
    let first_losing = log[log_before..]
        .iter()
        .position(|e| e.outcome == Outcome::Full)
        .unwrap();
    assert_eq!(first_losing, SEATS as usize);
    state.check_invariants().unwrap();
}
