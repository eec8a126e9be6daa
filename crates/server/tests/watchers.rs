//! Live streams at a university's scale: a stream gets every change of the sections it
//! watches in version order and nothing of others', a student's own sections and
//! place in line come without asking, a section not created yet is watched for, a hot
//! section reaches a watcher as a few events, a reader that does not read delays no
//! write and catches up with the latest values, tickets open one stream each, and
//! streams count against a share per student.

mod common;

use std::time::Duration;

use common::sse::Events;
use common::{TestServer, create_section, enroll, functional_limits};
use murphy_core::Command;
use murphy_core::wire::{StreamTicket, StudentEvent};
use murphy_server::Limits;
use reqwest::header::AUTHORIZATION;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Limits whose pace never holds an event back: for tests that count every change.
fn unpaced() -> Limits {
    Limits {
        stream_events_per_s_max: 100_000,
        stream_sends_per_s_max: 100_000,
        ..functional_limits()
    }
}

fn drop_(student: &str, section: &str) -> Command {
    Command::Drop {
        student: student.into(),
        section: section.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_gets_every_change_of_its_sections_in_order_and_nothing_else() {
    let server = TestServer::start_with(unpaced()).await;
    server
        .setup(vec![
            create_section("A-1", 50, 0),
            create_section("B-1", 50, 0),
            create_section("C-1", 50, 0),
        ])
        .await;
    let mut students = Vec::new();
    for i in 0..6 {
        students.push(server.student(&format!("s{i}")).await);
    }
    let mut watch = Events::open(&server, "?sections=A-1,B-1", Some(common::ADMIN_TOKEN), None).await;
    assert_eq!(watch.next().await.event, "ready");
    let first = [watch.next_section().await, watch.next_section().await];
    assert_eq!(
        [first[0].id.as_str(), first[1].id.as_str()],
        ["A-1", "B-1"],
        "the current values first"
    );

    let mut expected = Vec::new();
    for (i, student) in students.iter().enumerate() {
        let id = format!("s{i}");
        for section in ["A-1", "C-1", "B-1"] {
            let lsn = student.commands(vec![enroll(&id, section)]).await.unwrap().results[0].lsn;
            if section != "C-1" {
                expected.push((section.to_owned(), lsn));
            }
            // One change at a time reaches the watcher as it is: nothing coalesced,
            // and C-1's never (the next event is the next watched change).
            if section != "C-1" {
                let event = watch.next_section().await;
                assert_eq!((event.id.clone(), event.version), (section.to_owned(), lsn));
            }
        }
    }
    assert!(
        watch.within(Duration::from_millis(300)).await.is_none(),
        "nothing of C-1"
    );
    assert_eq!(expected.len(), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_students_own_sections_and_place_in_line_come_without_asking() {
    let server = TestServer::start_with(unpaced()).await;
    server
        .setup(vec![create_section("HOT-1", 1, 5), create_section("LATER-1", 5, 0)])
        .await;
    let first = server.student("s1").await;
    let second = server.student("s2").await;
    let third = server.student("s3").await;
    first.commands(vec![enroll("s1", "HOT-1")]).await.unwrap();
    for (client, id) in [(&second, "s2"), (&third, "s3")] {
        client.commands(vec![Command::enroll(id, "HOT-1", true)]).await.unwrap();
    }
    // s3 names nothing: its own line comes anyway, and its record.
    let mut watch = Events::open(&server, "", third.token(), None).await;
    assert_eq!(watch.next().await.event, "ready");
    assert_eq!(watch.next_section().await.id, "HOT-1");
    let read = third.student("s3").await.unwrap();
    assert_eq!(read.waitlist_positions["HOT-1"], 2);

    // The one ahead leaves the line: s3 moves up, its record's version with it.
    let lsn = second.commands(vec![drop_("s2", "HOT-1")]).await.unwrap().results[0].lsn;
    let mut moved = None;
    while moved.is_none() {
        let event = watch.next().await;
        if event.event == "student" {
            moved = Some(serde_json::from_str::<StudentEvent>(&event.data).unwrap());
        }
    }
    let moved = moved.unwrap();
    assert_eq!((moved.waitlist_positions["HOT-1"], moved.version), (1, lsn));
    assert_eq!(third.student("s3").await.unwrap().version, lsn, "the read agrees");

    // A section the student enters later is watched from then on.
    third.commands(vec![enroll("s3", "LATER-1")]).await.unwrap();
    let lsn = first.commands(vec![enroll("s1", "LATER-1")]).await.unwrap().results[0].lsn;
    loop {
        let event = watch.next_section().await;
        if event.id == "LATER-1" && event.version == lsn {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_section_not_created_yet_is_watched_for() {
    let server = TestServer::start_with(unpaced()).await;
    let mut watch = Events::open(&server, "?sections=NEW-1", Some(common::ADMIN_TOKEN), None).await;
    assert_eq!(watch.next().await.event, "ready");
    server.setup(vec![create_section("NEW-1", 5, 0)]).await;
    let created = watch.next_section().await;
    assert_eq!((created.id.as_str(), created.capacity), ("NEW-1", 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_section_reaches_a_watcher_as_a_few_events_latest_last() {
    let limits = Limits {
        stream_sends_per_s_max: 4,
        stream_events_per_s_max: 20,
        ..functional_limits()
    };
    let server = TestServer::start_with(limits).await;
    server.setup(vec![create_section("HOT-1", 500, 0)]).await;
    let mut watch = Events::open(&server, "?sections=HOT-1", Some(common::ADMIN_TOKEN), None).await;
    assert_eq!(watch.next().await.event, "ready");
    watch.next_section().await;
    let started = std::time::Instant::now();
    let mut last = 0;
    for chunk in 0..20 {
        let commands: Vec<Command> = (0..10)
            .flat_map(|i| {
                let id = format!("h{chunk}-{i}");
                [common::create_student(&id), enroll(&id, "HOT-1")]
            })
            .collect();
        last = server
            .admin
            .commands(commands)
            .await
            .unwrap()
            .results
            .last()
            .unwrap()
            .lsn;
    }
    let mut events = 0;
    loop {
        let event = watch.next_section().await;
        events += 1;
        if event.version == last {
            assert_eq!(event.enrolled, 200, "the latest value");
            break;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        f64::from(events) <= 4.0 * seconds + 2.0,
        "{events} events in {seconds:.2} s: sends are paced at 4 a second"
    );
}

/// A stream read through a raw socket with a small receive buffer, so the test
/// decides when to read and the server's writes soon find the connection full.
async fn raw_stream(server: &TestServer, query: &str) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut socket = socket.connect(server.addr).await.unwrap();
    let request = format!(
        "GET /api/v1/events{query} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\r\n",
        server.addr,
        common::ADMIN_TOKEN
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    socket
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_does_not_read_delays_no_write_and_catches_up_with_the_latest_values() {
    let server = TestServer::start_with(unpaced()).await;
    // Each section a course of its own: a student takes five of them.
    let sections: Vec<String> = (0..50).map(|i| format!("S{i}-1")).collect();
    server
        .setup(sections.iter().map(|id| create_section(id, 500, 0)).collect())
        .await;
    let mut socket = raw_stream(&server, &format!("?sections={}", sections.join(","))).await;
    // The reader reads nothing while 1,000 changes are made, 50 to a commit. The
    // writes are answered all the same: nobody waits for a watcher. (That the stream
    // holds no queue for a reader that cannot take its bytes, whatever the buffers
    // between, is `feed.rs`'s unit test.)
    let mut last = 0;
    for i in 0..20 {
        let mut commands = Vec::new();
        for k in 0..10 {
            let id = format!("r{i}-{k}");
            commands.push(common::create_student(&id));
            commands.extend(sections[k * 5..k * 5 + 5].iter().map(|s| enroll(&id, s)));
        }
        let results = tokio::time::timeout(Duration::from_secs(10), server.admin.commands(commands))
            .await
            .expect("writes are answered while a watcher sleeps")
            .unwrap()
            .results;
        last = results.last().unwrap().lsn;
    }
    // Now it reads, until the last change's event: every section's latest value.
    let mut text = String::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !text.contains(&format!("id: {last}\n")) {
        let n = tokio::time::timeout_at(deadline, socket.read(&mut buffer))
            .await
            .expect("the latest values within 10 s")
            .unwrap();
        assert!(n > 0, "the stream stays open");
        text.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    // Had the stream queued every change for the reader, 5,000 events would come; it
    // holds only the versions it sent, and sends what is latest when it can.
    let events = text.matches("event: section").count();
    assert!(
        events < 2500,
        "{events} events for 5,000 changes: they were queued for the reader"
    );
    let tail = &text[text.len().saturating_sub(50 * 200)..];
    for id in &sections {
        let latest = format!("\"id\":\"{id}\",\"capacity\":500,\"enrolled\":20,");
        assert!(text.contains(&latest), "{id}'s latest count came");
    }
    assert!(tail.contains(&format!("id: {last}\n")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_opens_one_stream_and_keeps_the_token_out_of_the_url() {
    let server = TestServer::start().await;
    server.setup(vec![create_section("A-1", 5, 0)]).await;
    let joe = server.student("s1").await;
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/api/v1/events/ticket", server.url()))
        .header(AUTHORIZATION, format!("Bearer {}", joe.token().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let ticket: StreamTicket = response.json().await.unwrap();
    assert!(!ticket.ticket.contains(joe.token().unwrap()) && ticket.expires_in_s > 0);
    let url = format!("{}/api/v1/events?sections=A-1&ticket={}", server.url(), ticket.ticket);
    let mut watch = Events::of(http.get(&url).send().await.unwrap()).await;
    assert_eq!(watch.next().await.event, "ready");
    assert_eq!(watch.next_section().await.id, "A-1");

    let again = http.get(&url).send().await.unwrap();
    assert_eq!(again.status(), 401, "a ticket opens one stream");
    let problem: murphy_core::wire::ProblemBody = again.json().await.unwrap();
    assert_eq!(problem.code, "invalid_ticket");
    let anonymous = http
        .post(format!("{}/api/v1/events/ticket", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401, "a ticket needs a token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_count_against_a_share_per_student_and_a_total() {
    let limits = Limits {
        streams_per_owner_max: 2,
        streams_max: 3,
        ..functional_limits()
    };
    let server = TestServer::start_with(limits).await;
    server.setup(vec![create_section("A-1", 5, 0)]).await;
    let joe = server.student("s1").await;
    let ana = server.student("s2").await;
    let open = |token: String| {
        let url = format!("{}/api/v1/events?sections=A-1", server.url());
        async move {
            reqwest::Client::new()
                .get(url)
                .header(AUTHORIZATION, format!("Bearer {token}"))
                .send()
                .await
                .unwrap()
        }
    };
    let joe_token = joe.token().unwrap().to_owned();
    let first = Events::of(open(joe_token.clone()).await).await;
    let _second = Events::of(open(joe_token.clone()).await).await;
    let third = open(joe_token.clone()).await;
    assert_eq!(third.status(), 429, "a student's share is 2");
    let problem: murphy_core::wire::ProblemBody = third.json().await.unwrap();
    assert_eq!(problem.code, "stream_share_used");

    let _anas = Events::of(open(ana.token().unwrap().to_owned()).await).await;
    let full = open(ana.token().unwrap().to_owned()).await;
    assert_eq!(full.status(), 503, "3 streams in all");
    assert!(full.headers().contains_key("retry-after"));

    // A stream closed gives its place back.
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        let response = open(joe_token.clone()).await;
        if response.status() == 200 {
            again = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "the place came back");
}
