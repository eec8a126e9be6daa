//! The waiting room: while a registration window is open, a student's write without an
//! admission is answered with the student's place in line, and nothing of it applied;
//! one place per student however often or wherever asked; those who arrive before the
//! opening are drawn into an order at it; a place whose holder stops asking lapses and
//! holds nobody up; passes survive a restart; a forged or expired pass is refused.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{TestServer, create_section, enroll, functional_limits};
use murphy_client::{Client, Error};
use murphy_core::Command;
use murphy_core::wire::{LineAnswer, LineState};
use murphy_server::Limits;
use time::OffsetDateTime;

/// The room's times shortened for tests: ask again every second; admissions idle
/// after a few seconds.
fn quick() -> Limits {
    Limits {
        line_poll_time_min: Duration::from_secs(1),
        line_poll_time_max: Duration::from_secs(1),
        line_admitted_idle_time_max: Duration::from_secs(6),
        ..functional_limits()
    }
}

async fn open_line(server: &TestServer, opens_at: OffsetDateTime, active_max: u32) -> u64 {
    let answer = server
        .admin
        .commands(vec![Command::OpenLine {
            opens_at,
            active_max,
            automatic: false,
        }])
        .await
        .unwrap();
    match answer.results[0].outcome {
        murphy_core::Outcome::LineOpened { window } => window,
        ref other => panic!("{other:?}"),
    }
}

/// Polls `student`'s place (with `pass`) until `done` says so, for at most `within`.
async fn poll_until(student: &Client, within: Duration, done: impl Fn(&LineAnswer) -> bool) -> LineAnswer {
    let deadline = Instant::now() + within;
    loop {
        let answer = student.line().await.unwrap();
        if done(&answer) {
            return answer;
        }
        assert!(Instant::now() < deadline, "not within {within:?}: {answer:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn with_pass(student: &Client, answer: &LineAnswer) -> Client {
    student.with_pass(answer.pass.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_without_an_admission_gets_its_place_and_applies_nothing() {
    let server = TestServer::start_with(quick()).await;
    server.setup(vec![create_section("CS-1", 10, 0)]).await;
    let joe = server.student("s1").await;
    open_line(&server, OffsetDateTime::now_utc(), 100).await;
    let log_len = server.log_len().await;

    let refused = joe.commands(vec![enroll("s1", "CS-1")]).await.unwrap_err();
    let Error::Problem {
        status: 503,
        code,
        retry_after_seconds: Some(_),
        line: Some(line),
        ..
    } = &refused
    else {
        panic!("{refused:?}");
    };
    assert_eq!(code, "in_line");
    let pass = line.pass.clone().expect("the answer carries the student's pass");
    assert!(
        matches!(line.state, LineState::PreQueue | LineState::Waiting),
        "{line:?}"
    );
    let entries = server.admin.full_log().await.unwrap();
    assert!(
        entries[log_len..]
            .iter()
            .all(|e| matches!(e.command, Command::AdvanceLine { .. })),
        "nothing of the write, only the line's own entries: {:?}",
        &entries[log_len..]
    );

    // Admitted within a few of the room's seconds, then the write is served.
    let joe = joe.with_pass(Some(pass));
    poll_until(&joe, Duration::from_secs(10), |a| a.state == LineState::Admitted).await;
    let answer = joe.commands(vec![enroll("s1", "CS-1")]).await.expect("admitted");
    assert_eq!(answer.results[0].outcome, murphy_core::Outcome::Enrolled);
    // The registrar is never held in line.
    server.setup(vec![create_section("CS-2", 10, 0)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_place_per_student_across_tabs_and_the_prequeue_is_drawn_into_an_order() {
    let server = TestServer::start_with(quick()).await;
    let opens_at = OffsetDateTime::now_utc() + time::Duration::seconds(2);
    open_line(&server, opens_at, 1).await;
    let mut students = Vec::new();
    for i in 0..20 {
        students.push(server.student(&format!("s{i}")).await);
    }
    let first = students[0].join_line(None).await.unwrap();
    assert_eq!(first.state, LineState::PreQueue);
    assert_eq!(first.place, None, "no order before the opening");
    // Another tab, another device (a second client with the same token), a refresh.
    let again = students[0].join_line(None).await.unwrap();
    let device = server
        .client(students[0].token().unwrap())
        .join_line(None)
        .await
        .unwrap();
    assert_eq!(again.pass, first.pass, "the same place");
    assert_eq!(device.pass, first.pass, "the same place on another device");
    let mut passes = vec![first.pass.clone().unwrap()];
    for student in &students[1..] {
        passes.push(student.join_line(None).await.unwrap().pass.unwrap());
    }

    // After the opening's draw: twenty distinct places among the pre-queue's.
    let mut places = BTreeSet::new();
    for (student, pass) in students.iter().zip(&passes) {
        let answer = poll_until(&student.with_pass(Some(pass.clone())), Duration::from_secs(10), |a| {
            a.place.is_some()
        })
        .await;
        assert_eq!(answer.pass.as_ref(), Some(pass), "the same pass after the draw");
        places.insert(answer.place.unwrap());
    }
    assert_eq!(places.len(), 20, "one place each: {places:?}");
    let line = server.admin.full_log().await.unwrap();
    let prequeue = line
        .iter()
        .find_map(|e| match e.command {
            Command::AdvanceLine { seed: Some(_), .. } => Some(e.lsn),
            _ => None,
        })
        .expect("the draw is in the log");
    assert!(prequeue > 0);
    assert!(
        places.iter().all(|&p| p <= 1024),
        "places among the tickets reserved before the opening: {places:?}"
    );
    assert_ne!(
        places.iter().copied().collect::<Vec<_>>(),
        (1..=20).collect::<Vec<u64>>(),
        "drawn, not in arrival order (1 in 20! to fail by chance)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_place_does_not_block_the_line() {
    let server = TestServer::start_with(quick()).await;
    open_line(&server, OffsetDateTime::now_utc(), 1).await;
    let (blocker, gone, stays) = (
        server.student("s0").await,
        server.student("s1").await,
        server.student("s2").await,
    );
    // After the draw, places go in arrival order.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let b = blocker.join_line(None).await.unwrap();
    assert_eq!(b.state, LineState::Waiting, "{b:?}");
    let blocker = with_pass(&blocker, &b);
    poll_until(&blocker, Duration::from_secs(5), |a| a.state == LineState::Admitted).await;
    // The one admission is taken: the next two wait, in order.
    let g = gone.join_line(None).await.unwrap();
    let s = stays.join_line(None).await.unwrap();
    assert!(g.place < s.place, "{g:?} {s:?}");
    let stays = with_pass(&stays, &s);
    // s1 never asks again and lapses (after twice its second, and two more); s2 keeps
    // asking; the blocker idles out of its admission after 6 s, and the next admission
    // is s2's at once. Had s1 not lapsed, it would hold that admission 6 s more.
    let admitted = poll_until(&stays, Duration::from_secs(10), |a| a.state == LineState::Admitted).await;
    assert_eq!(admitted.place, s.place);
    let gone = with_pass(&gone, &g);
    let lapsed = gone.line().await.unwrap();
    assert_eq!(lapsed.state, LineState::Out, "the lapsed place is gone: {lapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_and_admissions_survive_a_restart() {
    let mut server = TestServer::start_with(quick()).await;
    server.setup(vec![create_section("CS-1", 10, 0)]).await;
    let token = server.student("s1").await.token().unwrap().to_owned();
    let window = open_line(&server, OffsetDateTime::now_utc(), 100).await;
    let joined = server.client(&token).join_line(None).await.unwrap();
    let pass = joined.pass.clone().unwrap();
    let admitted = poll_until(
        &server.client(&token).with_pass(Some(pass.clone())),
        Duration::from_secs(10),
        |a| a.state == LineState::Admitted,
    )
    .await;

    server.restart(quick()).await;
    let joe = server.client(&token).with_pass(Some(pass.clone()));
    let after = joe.line().await.unwrap();
    assert_eq!(after.window, Some(window), "the window survives");
    assert_eq!(
        (after.state, after.place),
        (LineState::Admitted, admitted.place),
        "{after:?}"
    );
    assert_eq!(after.pass.as_deref(), Some(pass.as_str()));
    joe.commands(vec![enroll("s1", "CS-1")])
        .await
        .expect("an admitted pass still admits");
    // A newcomer after the restart gets a ticket never handed out before.
    let newcomer = server.student("s2").await.join_line(None).await.unwrap();
    assert_ne!(newcomer.pass, joined.pass);
    assert!(newcomer.place.is_none_or(|p| Some(p) != admitted.place), "{newcomer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_expired_pass_is_refused() {
    let server = TestServer::start_with(Limits {
        line_pass_time_max: Duration::from_secs(2),
        ..quick()
    })
    .await;
    server.setup(vec![create_section("CS-1", 10, 0)]).await;
    let joe = server.student("s1").await;
    let ann = server.student("s2").await;
    open_line(&server, OffsetDateTime::now_utc(), 100).await;
    let pass = joe.join_line(None).await.unwrap().pass.unwrap();

    let better = pass.replacen(".1.", ".0.", 1);
    let refused = |e: Error| e.code().map(str::to_owned);
    for forged in [better, format!("{pass}x"), "mp1.1.1.1.1.00.s1".into()] {
        let forger = joe.with_pass(Some(forged.clone()));
        assert_eq!(
            refused(forger.line().await.unwrap_err()).as_deref(),
            Some("bad_pass"),
            "{forged}"
        );
        let write = forger.commands(vec![enroll("s1", "CS-1")]).await.unwrap_err();
        assert_eq!(refused(write).as_deref(), Some("bad_pass"), "{forged}");
    }
    // Another student's pass is someone else's place.
    let write = ann
        .with_pass(Some(pass.clone()))
        .commands(vec![enroll("s2", "CS-1")])
        .await
        .unwrap_err();
    assert_eq!(write.code(), Some("in_line"), "a pass of s1 does not admit s2");

    tokio::time::sleep(Duration::from_millis(2500)).await;
    let expired = joe.with_pass(Some(pass)).line().await.unwrap_err();
    assert_eq!(refused(expired).as_deref(), Some("pass_expired"));
}
