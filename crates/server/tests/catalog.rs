//! The catalog made for browsing (`GET /api/v1/sections`): filters, pages walked with
//! their cursor while sections are added, an ETag per page that a write to another
//! page leaves alone, compressed answers, and queries refused with a sentence.

mod common;

use std::io::Read;

use common::{TestServer, create_section, enroll};
use murphy_client::{Client, Fetched};
use murphy_core::wire::{SectionsAnswer, SectionsQuery};
use murphy_core::{Command, Meeting};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY};

fn section(id: &str, title: &str, capacity: u32, meetings: Vec<Meeting>) -> Command {
    Command::create_section(id, title, 4, capacity, 0, meetings)
}

fn meets(days: &str, start: &str, end: &str) -> Vec<Meeting> {
    vec![Meeting::parse(days, start, end).unwrap()]
}

async fn page(client: &Client, query: SectionsQuery) -> (SectionsAnswer, String) {
    match client.sections_page(&query, None).await.unwrap() {
        Fetched::Modified { value, etag } => (value, etag),
        Fetched::NotModified => unreachable!("an unconditional GET is never 304"),
    }
}

fn ids(answer: &SectionsAnswer) -> Vec<&str> {
    answer.sections.iter().map(|s| s.id.as_str()).collect()
}

fn query() -> SectionsQuery {
    SectionsQuery::default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_find_what_they_say_in_natural_order() {
    let server = TestServer::start().await;
    server
        .setup(vec![
            section("COMSCI-111-1", "Operating Systems", 1, meets("MW", "10:00", "11:50")),
            section(
                "COMSCI-31-1",
                "Introduction to Computer Science I",
                5,
                meets("TR", "14:00", "15:50"),
            ),
            section(
                "COMSCI-35L-1",
                "Software Construction",
                5,
                meets("MWF", "08:00", "08:50"),
            ),
            section("COMSCIX-1-1", "Not a COMSCI course", 5, vec![]),
            section(
                "MATH-31A-1",
                "Differential and Integral Calculus",
                5,
                meets("MWF", "09:00", "09:50"),
            ),
        ])
        .await;
    let joe = server.student("s1").await;

    let by_course = page(
        &joe,
        SectionsQuery {
            course: Some("comsci".into()),
            ..query()
        },
    )
    .await
    .0;
    assert_eq!(
        ids(&by_course),
        ["COMSCI-31-1", "COMSCI-35L-1", "COMSCI-111-1"],
        "a department, naturally ordered"
    );
    let one_course = page(
        &joe,
        SectionsQuery {
            course: Some("COMSCI-35L".into()),
            ..query()
        },
    )
    .await
    .0;
    assert_eq!(ids(&one_course), ["COMSCI-35L-1"]);

    let words = page(
        &joe,
        SectionsQuery {
            q: Some("  calculus INTEGRAL ".into()),
            ..query()
        },
    )
    .await
    .0;
    assert_eq!(ids(&words), ["MATH-31A-1"], "every word, any case, in the title");
    let by_id = page(
        &joe,
        SectionsQuery {
            q: Some("35l".into()),
            ..query()
        },
    )
    .await
    .0;
    assert_eq!(ids(&by_id), ["COMSCI-35L-1"], "a word of the id");

    let mwf = page(
        &joe,
        SectionsQuery {
            days: Some("MWF".into()),
            ..query()
        },
    )
    .await
    .0;
    assert_eq!(
        ids(&mwf),
        ["COMSCI-35L-1", "COMSCI-111-1", "COMSCIX-1-1", "MATH-31A-1"],
        "MW fits MWF; no meetings fit anything"
    );
    let mornings = page(
        &joe,
        SectionsQuery {
            start: Some("08:30".into()),
            end: Some("12:00".into()),
            ..query()
        },
    )
    .await
    .0;
    assert_eq!(ids(&mornings), ["COMSCI-111-1", "COMSCIX-1-1", "MATH-31A-1"]);

    let answer = joe.commands(vec![enroll("s1", "COMSCI-111-1")]).await.unwrap();
    assert!(!answer.results[0].outcome.is_refusal());
    let open = page(
        &joe,
        SectionsQuery {
            course: Some("COMSCI".into()),
            open: Some(true),
            ..query()
        },
    )
    .await
    .0;
    assert_eq!(
        ids(&open),
        ["COMSCI-31-1", "COMSCI-35L-1"],
        "the full section is not open"
    );
    assert_eq!(open.version, open.sections.iter().map(|s| s.version).max().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_walked_by_cursor_see_every_section_once_while_sections_are_added() {
    let server = TestServer::start().await;
    server
        .setup((1..=25).map(|i| create_section(&format!("SEC-{i}"), 5, 0)).collect())
        .await;
    let joe = server.student("s1").await;

    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let (answer, _) = page(
            &joe,
            SectionsQuery {
                limit: Some(10),
                cursor: cursor.clone(),
                ..query()
            },
        )
        .await;
        assert!(answer.sections.len() <= 10);
        seen.extend(ids(&answer).iter().map(|s| s.to_string()));
        pages += 1;
        if pages == 1 {
            // Added behind the cursor and ahead of it: the walk goes on where it was,
            // and finds the one ahead.
            server
                .setup(vec![create_section("SEC-0", 5, 0), create_section("SEC-99", 5, 0)])
                .await;
        }
        match answer.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<String> = (1..=25).map(|i| format!("SEC-{i}")).collect();
    expected.push("SEC-99".into());
    assert_eq!(seen, expected, "each once, in natural order");
    assert_eq!(pages, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pages_etag_is_unchanged_by_a_write_to_another_pages_section() {
    let server = TestServer::start().await;
    server
        .setup((1..=6).map(|i| create_section(&format!("SEC-{i}"), 5, 0)).collect())
        .await;
    let joe = server.student("s1").await;
    let first = SectionsQuery {
        limit: Some(3),
        ..query()
    };
    let (page_one, etag_one) = page(&joe, first.clone()).await;
    let second = SectionsQuery {
        cursor: page_one.next.clone(),
        ..first.clone()
    };
    let (_, etag_two) = page(&joe, second.clone()).await;
    assert_ne!(etag_one, etag_two);

    joe.commands(vec![enroll("s1", "SEC-5")]).await.unwrap();
    assert_eq!(
        joe.sections_page(&first, Some(&etag_one)).await.unwrap(),
        Fetched::NotModified,
        "page one is as it was"
    );
    let Fetched::Modified { value, etag } = joe.sections_page(&second, Some(&etag_two)).await.unwrap() else {
        panic!("page two changed");
    };
    assert_ne!(etag, etag_two);
    assert_eq!(value.sections.iter().find(|s| s.id == "SEC-5").unwrap().enrolled, 1);

    // SEC-2 and SEC-5 are sections of one course: a student holds one of them.
    let drop = Command::Drop {
        student: "s1".into(),
        section: "SEC-5".into(),
    };
    joe.commands(vec![drop, enroll("s1", "SEC-2")]).await.unwrap();
    assert!(matches!(
        joe.sections_page(&first, Some(&etag_one)).await.unwrap(),
        Fetched::Modified { .. }
    ));
}

/// Raw GET of `path` accepting `coding`: status, headers, and the body decoded.
async fn get_coded(
    server: &TestServer,
    token: &str,
    path: &str,
    coding: &str,
) -> (reqwest::header::HeaderMap, Vec<u8>, usize) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", server.url()))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(ACCEPT_ENCODING, coding)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    let wire = response.bytes().await.unwrap().to_vec();
    let mut body = Vec::new();
    match headers.get(CONTENT_ENCODING).map(|v| v.to_str().unwrap()) {
        None => body = wire.clone(),
        Some("gzip") => {
            flate2::read::GzDecoder::new(&wire[..]).read_to_end(&mut body).unwrap();
        }
        Some("br") => {
            brotli::Decompressor::new(&wire[..], 4096)
                .read_to_end(&mut body)
                .unwrap();
        }
        Some(other) => panic!("unexpected coding {other}"),
    }
    (headers, body, wire.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_compressed_as_the_client_accepts_and_revalidate_in_any_coding() {
    let server = TestServer::start().await;
    server
        .setup(
            (1..=1000)
                .map(|i| {
                    section(
                        &format!("DEPT-{i}-1"),
                        &format!("A course of department number {}", i % 7),
                        50,
                        meets("MW", "10:00", "10:50"),
                    )
                })
                .collect(),
        )
        .await;
    let token = "test-admin-token";
    let (plain_headers, plain, plain_bytes) = get_coded(&server, token, "/api/v1/sections", "identity").await;
    assert!(plain_headers.get(CONTENT_ENCODING).is_none());
    for coding in ["gzip", "br"] {
        let (headers, body, wire_bytes) = get_coded(&server, token, "/api/v1/sections", coding).await;
        assert_eq!(headers[CONTENT_ENCODING], coding);
        assert_eq!(headers[VARY], "accept-encoding");
        assert_eq!(body, plain, "{coding} decodes to the same catalog");
        assert!(
            wire_bytes * 5 <= plain_bytes,
            "{coding}: {wire_bytes} bytes of {plain_bytes}"
        );
        let etag = headers[ETAG].to_str().unwrap().to_owned();
        assert!(
            etag.ends_with(&format!("-{coding}\"")),
            "{etag}: each coding its own tag"
        );
        // The same content in another coding revalidates: the client has it.
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/sections", server.url()))
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .header(IF_NONE_MATCH, plain_headers[ETAG].clone())
            .header(ACCEPT_ENCODING, coding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    }
    let (headers, body, wire_bytes) = get_coded(&server, token, "/api/v1/sections?limit=100", "gzip").await;
    assert_eq!(headers[CONTENT_ENCODING], "gzip");
    let answer: SectionsAnswer = serde_json::from_slice(&body).unwrap();
    assert_eq!((answer.sections.len(), answer.next.is_some()), (100, true));
    assert!(wire_bytes <= 8 * 1024, "a page of 100 sections is {wire_bytes} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_are_refused_with_a_sentence() {
    let server = TestServer::start().await;
    server.setup(vec![create_section("SEC-1", 5, 0)]).await;
    for query in [
        "limit=0",
        "limit=100000",
        "limit=ten",
        "days=MX",
        "start=25:00",
        "cursor=a-cursor-far-longer-than-any-murphy-gives-a-cursor-far-longer-than-any-murphy-gives-a-cursor-far-longer-than-any-murphy-gives-a-cursor-far-longer-than-any-murphy-gives-a-cursor-far-longer-than-any-murphy-gives",
        "open=maybe",
        "colour=blue",
    ] {
        let response = reqwest::Client::new()
            .get(format!("{}/api/v1/sections?{query}", server.url()))
            .header(AUTHORIZATION, "Bearer test-admin-token")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let problem: murphy_core::wire::ProblemBody = response.json().await.unwrap();
        assert_eq!(problem.code, "invalid_query", "{query}");
        assert!(problem.detail.len() > 20, "{query}: {}", problem.detail);
    }
}
