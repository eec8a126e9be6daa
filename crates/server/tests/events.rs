//! Live seat counts over Server-Sent Events: a watcher sees a change right after it is
//! durable, a reconnect with `Last-Event-ID` catches up on what it missed, browsers can
//! pass the token in the query, and a graceful stop ends open streams.

mod common;

use std::time::Duration;

use common::{TestServer, create_section, enroll};
use murphy_core::wire::SectionEvent;
use reqwest::header::AUTHORIZATION;

/// One parsed event: its name, id and data.
#[derive(Debug)]
struct Sse {
    event: String,
    id: String,
    data: String,
}

/// Reads events off a streaming response.
struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(server: &TestServer, query: &str, token: Option<&str>, last_event_id: Option<u64>) -> Events {
        let mut request = reqwest::Client::new().get(format!("{}/api/v1/events{query}", server.url()));
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        Events {
            response,
            buffer: String::new(),
        }
    }

    async fn next(&mut self) -> Sse {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim().to_owned())
                        .unwrap_or_default()
                };
                if block.lines().all(|l| l.starts_with(':')) {
                    continue; // a heartbeat comment
                }
                return Sse {
                    event: field("event:"),
                    id: field("id:"),
                    data: field("data:"),
                };
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.response.chunk())
                .await
                .expect("an event within 5 s")
                .unwrap()
                .expect("the stream stays open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    async fn next_section(&mut self) -> SectionEvent {
        let event = self.next().await;
        assert_eq!(event.event, "section", "{event:?}");
        let section: SectionEvent = serde_json::from_str(&event.data).unwrap();
        assert_eq!(event.id, section.version.to_string(), "the id is the version");
        section
    }
}

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
    let mut all = Events::open(&server, "", ana.token(), Some(seen)).await;
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
async fn browsers_may_pass_the_token_in_the_query_and_strangers_are_refused() {
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
    for (last_event_id, query) in [(Some(999_999_999), ""), (None, "?after=18446744073709551615")] {
        let mut watch = Events::open(&server, query, joe.token(), last_event_id).await;
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
