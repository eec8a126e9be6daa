//! Live seat counts over Server-Sent Events: a watcher sees a change right after it is
//! durable, a reconnect with `Last-Event-ID` catches up on what it missed, and a
//! graceful stop ends open streams. The read side at scale (`watchers.rs`): what a
//! stream watches, its pace, its tickets and shares.

mod common;

use std::time::Duration;

use common::sse::Events;
use common::{TestServer, create_section, enroll};
use reqwest::header::AUTHORIZATION;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_sees_each_durable_change_and_catches_up_after_a_reconnect() {
    let mut server = TestServer::start().await;
    server
        .setup(vec![
            create_section("COMSCI-35L-1", 2, 0),
            create_section("MATH-61-1", 2, 0),
        ])
        .await;
    let joe = server.student("s1").await;
    let ana = server.student("s2").await;

    let mut watch = Events::open(&server, "?section=COMSCI-35L-1", joe.token(), None).await;
    assert_eq!(watch.next().await.event, "ready");
    let now = watch.next_section().await;
    assert_eq!((now.id.as_str(), now.enrolled), ("COMSCI-35L-1", 0));

    let lsn = ana.commands(vec![enroll("s2", "COMSCI-35L-1")]).await.unwrap().results[0].lsn;
    let changed = watch.next_section().await;
    assert_eq!((changed.enrolled, changed.version), (1, lsn));

    // Missed while away: a change to each section. A reconnect from the last id seen
    // gets both, in version order, and then stays live.
    let seen = changed.version;
    drop(watch);
    let a = joe.commands(vec![enroll("s1", "COMSCI-35L-1")]).await.unwrap().results[0].lsn;
    let b = joe.commands(vec![enroll("s1", "MATH-61-1")]).await.unwrap().results[0].lsn;
    let mut all = Events::open(&server, "?sections=COMSCI-35L-1,MATH-61-1", ana.token(), Some(seen)).await;
    let ready = all.next().await;
    assert_eq!(
        (ready.event.as_str(), ready.id.as_str()),
        ("ready", ""),
        "no id while catch-up is owed"
    );
    let first = all.next_section().await;
    let second = all.next_section().await;
    assert_eq!(
        (first.id.as_str(), first.version, first.enrolled),
        ("COMSCI-35L-1", a, 2)
    );
    assert_eq!((second.id.as_str(), second.version), ("MATH-61-1", b));

    // A graceful stop ends the open stream instead of waiting for it forever.
    tokio::time::timeout(Duration::from_secs(10), server.stop())
        .await
        .expect("the server stops with a watcher connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_clients_may_pass_the_token_in_the_query_and_strangers_are_refused() {
    let server = TestServer::start().await;
    server.setup(vec![create_section("PHYSICS-1A-1", 5, 0)]).await;
    let joe = server.student("s1").await;
    let query = format!("?section=PHYSICS-1A-1&access_token={}", joe.token().unwrap());
    let mut watch = Events::open(&server, &query, None, None).await;
    assert_eq!(watch.next().await.event, "ready");
    assert_eq!(watch.next_section().await.id, "PHYSICS-1A-1");

    let http = reqwest::Client::new();
    let anonymous = http
        .get(format!("{}/api/v1/events", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let unknown = http
        .get(format!("{}/api/v1/events?section=NOPE-1", server.url()))
        .header(AUTHORIZATION, format!("Bearer {}", joe.token().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

/// A resume from a version the server never reached (its data was reset or restored
/// since) starts over with every current count, then stays live: never silent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_from_a_future_id_starts_over_with_every_count() {
    let server = TestServer::start().await;
    server
        .setup(vec![
            create_section("COMSCI-35L-1", 2, 0),
            create_section("MATH-61-1", 2, 0),
        ])
        .await;
    let joe = server.student("s1").await;
    let both = "?sections=COMSCI-35L-1,MATH-61-1";
    for (last_event_id, query) in [
        (Some(999_999_999), both.to_owned()),
        (None, format!("{both}&after=18446744073709551615")),
    ] {
        let mut watch = Events::open(&server, &query, joe.token(), last_event_id).await;
        assert_eq!(watch.next().await.event, "ready");
        let mut sections = vec![watch.next_section().await.id, watch.next_section().await.id];
        sections.sort();
        assert_eq!(sections, ["COMSCI-35L-1", "MATH-61-1"], "every count, from the start");
        let lsn = joe.commands(vec![enroll("s1", "MATH-61-1")]).await.unwrap().results[0].lsn;
        let live = watch.next_section().await;
        assert_eq!((live.id.as_str(), live.version), ("MATH-61-1", lsn), "then live");
        joe.commands(vec![murphy_core::Command::Drop {
            student: "s1".into(),
            section: "MATH-61-1".into(),
        }])
        .await
        .unwrap();
    }
}
