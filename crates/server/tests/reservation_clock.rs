//! The reservation clock, through the real server and its real clock: seats held for
//! COMSCI majors until an instant two seconds on. Before it, a non-major finds only the
//! unreserved seat, then `reserved`, and another joins the waitlist; a major takes a
//! held seat. After it, the first command applied (whatever it is, here the refused
//! non-major asking again) releases the seats before its own work: the waitlist is
//! promoted first, then the non-major is enrolled, and that log entry says so. The
//! reads tell how many seats are held and until when, before and after.

mod common;

use std::time::Duration;

use common::{TestServer, create_section};
use murphy_core::{Command, Outcome, Population, Promotion, Reservation};
use time::OffsetDateTime;

const SECTION: &str = "COMSCI-35L-9";
const RESERVED_SEATS: u32 = 3;

fn student(id: &str, major: &str) -> Command {
    let mut command = Command::create_student(id, &format!("Student {id}"), 20);
    if let Command::CreateStudent { major: m, .. } = &mut command {
        *m = Some(major.into());
    }
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_major_is_refused_before_the_instant_and_enrolled_after_it() {
    let server = TestServer::start().await;
    let now = OffsetDateTime::now_utc();
    let until = (now + time::Duration::seconds(2)).replace_nanosecond(0).unwrap() + time::Duration::seconds(1);
    let mut section = create_section(SECTION, 4, 5);
    if let Command::CreateSection { reserved, .. } = &mut section {
        reserved.push(Reservation {
            population: Population::Major("COMSCI".into()),
            seats: RESERVED_SEATS,
            until,
        });
    }
    server
        .setup(vec![
            section,
            student("major", "COMSCI"),
            student("x", "HIST"),
            student("y", "HIST"),
            student("z", "HIST"),
        ])
        .await;
    let enroll = |id: &str, waitlist: bool| Command::enroll(id, SECTION, waitlist);
    let outcome = |command: Command| {
        let admin = server.admin.clone();
        async move { admin.commands(vec![command]).await.unwrap().results.remove(0) }
    };

    // Before the instant.
    assert_eq!(
        outcome(enroll("x", false)).await.outcome,
        Outcome::Enrolled,
        "the one unreserved seat"
    );
    assert_eq!(outcome(enroll("y", false)).await.outcome, Outcome::Reserved { until });
    assert_eq!(
        outcome(enroll("z", true)).await.outcome,
        Outcome::Waitlisted { position: 1 }
    );
    assert_eq!(
        outcome(enroll("major", false)).await.outcome,
        Outcome::Enrolled,
        "a held seat"
    );
    let read = server.admin.section(SECTION).await.unwrap();
    assert_eq!((read.enrolled, read.reserved.len()), (2, 1));
    let held = &read.reserved[0];
    assert_eq!(
        (held.seats, held.held, held.until),
        (RESERVED_SEATS, RESERVED_SEATS - 1, until)
    );
    assert!(
        OffsetDateTime::now_utc() < until,
        "the machine was too slow for this test's instant"
    );

    // After it: the first command releases, promotes z, then enrolls y.
    let wait = (until - OffsetDateTime::now_utc()).whole_milliseconds().max(0) as u64;
    tokio::time::sleep(Duration::from_millis(wait + 200)).await;
    let result = outcome(enroll("y", false)).await;
    assert_eq!(result.outcome, Outcome::Enrolled, "open to all after the instant");
    let log = server.admin.full_log().await.unwrap();
    let entry = log.iter().find(|e| e.lsn == result.lsn).unwrap();
    assert!(entry.at >= until);
    let released = &entry.effects.released;
    assert_eq!(released.len(), 1, "{entry:?}");
    assert_eq!(
        (released[0].section.as_str(), released[0].held, released[0].until),
        (SECTION, 2, until)
    );
    assert_eq!(
        entry.effects.promoted,
        vec![Promotion {
            section: SECTION.into(),
            student: "z".into()
        }],
        "the waitlist first, in the same step"
    );
    assert!(
        log.iter()
            .filter(|e| e.lsn < entry.lsn)
            .all(|e| e.effects.released.is_empty()),
        "never before"
    );
    let read = server.admin.section(SECTION).await.unwrap();
    assert_eq!((read.enrolled, read.waitlisted, read.reserved.len()), (4, 0, 0));
}
