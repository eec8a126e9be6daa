//! Cache validation (the lecture's unique state ID): every read carries its version as
//! a strong ETag; `If-None-Match` with the current one gets `304` and no body; a change
//! gets `200` and the new version; a refusal changes no version.

mod common;

use common::{TestServer, create_section, enroll};
use murphy_client::Fetched;
use murphy_core::Outcome;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, ETAG, IF_NONE_MATCH};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etags_validate_until_the_section_changes() {
    let server = TestServer::start().await;
    server.setup(vec![create_section("PHYSICS-1A-1", 1, 0)]).await;
    let joe = server.student("s1").await;
    let ana = server.student("s2").await;

    let Fetched::Modified { value, etag } = joe.section_if_none_match("PHYSICS-1A-1", None).await.unwrap() else {
        panic!("an unconditional GET returns the section");
    };
    assert_eq!(etag, format!("\"{}\"", value.version));

    // The raw exchange: 304, no body, same ETag.
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/sections/PHYSICS-1A-1", server.url()))
        .header(AUTHORIZATION, format!("Bearer {}", joe.token().unwrap()))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(response.headers().get(ETAG).unwrap().to_str().unwrap(), etag);
    assert!(response.bytes().await.unwrap().is_empty(), "304 carries no body");

    // A change: 200 with the new version.
    let enrolled = joe.commands(vec![enroll("s1", "PHYSICS-1A-1")]).await.unwrap();
    assert_eq!(enrolled.results[0].outcome, Outcome::Enrolled);
    let Fetched::Modified {
        value: after,
        etag: new_etag,
    } = joe.section_if_none_match("PHYSICS-1A-1", Some(&etag)).await.unwrap()
    else {
        panic!("a changed section is sent again");
    };
    assert_eq!((after.enrolled, after.version), (1, enrolled.results[0].lsn));
    assert_ne!(new_etag, etag);

    // A refusal changes nothing, so the cached copy stays valid.
    let refused = ana.commands(vec![enroll("s2", "PHYSICS-1A-1")]).await.unwrap();
    assert_eq!(refused.results[0].outcome, Outcome::Full);
    assert_eq!(
        ana.section_if_none_match("PHYSICS-1A-1", Some(&new_etag))
            .await
            .unwrap(),
        Fetched::NotModified
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_and_student_records_validate_too() {
    let server = TestServer::start().await;
    server
        .setup(vec![
            create_section("MATH-61-1", 5, 0),
            create_section("MATH-61-2", 5, 0),
        ])
        .await;
    let joe = server.student("s1").await;
    let http = reqwest::Client::new();
    let get = |path: &str, etag: Option<&str>| {
        let mut request = http
            .get(format!("{}{path}", server.url()))
            .header(AUTHORIZATION, format!("Bearer {}", joe.token().unwrap()));
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        request.send()
    };
    for path in ["/api/v1/sections", "/api/v1/students/s1"] {
        let first = get(path, None).await.unwrap();
        let etag = first.headers().get(ETAG).unwrap().to_str().unwrap().to_owned();
        assert_eq!(
            get(path, Some(&etag)).await.unwrap().status(),
            StatusCode::NOT_MODIFIED,
            "{path}"
        );
    }
    let catalog = joe.sections().await.unwrap();
    assert_eq!(catalog.sections.len(), 2);
    joe.commands(vec![enroll("s1", "MATH-61-2")]).await.unwrap();
    let after = joe.sections().await.unwrap();
    assert!(after.version > catalog.version);
    assert_eq!(after.sections[1].enrolled, 1);
}
