//! `GET /api/v1/me` through the real socket: a student's token says which student it
//! is, the admin token says it is the admin, and a missing or unknown token gets the
//! same `401` problems as every other endpoint.

mod common;

use common::{ADMIN_TOKEN, TestServer};
use murphy_core::wire::MeAnswer;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_says_whom_it_speaks_for() {
    let server = TestServer::start().await;
    let student = server.student("s0007").await;
    assert_eq!(
        student.me().await.expect("a student's token may ask"),
        MeAnswer::Student {
            student: "s0007".into()
        }
    );
    assert_eq!(
        server.admin.me().await.expect("the admin may ask"),
        MeAnswer::Admin { admin: true }
    );

    // The exact JSON of the contract, not only what this client library reads.
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/me", server.url());
    let token = student.token().unwrap().to_owned();
    for (token, body) in [
        (token.as_str(), r#"{"student":"s0007"}"#),
        (ADMIN_TOKEN, r#"{"admin":true}"#),
    ] {
        let response = http
            .get(&url)
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(response.text().await.unwrap(), body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_an_unknown_one_is_a_401_problem() {
    let server = TestServer::start().await;
    let missing = server.client("").me().await.unwrap_err();
    assert_eq!(missing.code(), Some("malformed_token"), "{missing}");
    let unknown = server.client("mst_not-a-real-token").me().await.unwrap_err();
    assert_eq!(unknown.code(), Some("invalid_token"), "{unknown}");

    let response = reqwest::get(format!("{}/api/v1/me", server.url())).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "missing_token", "{body}");
}

/// A student token sending a registrar's command is told it needs the admin token, not
/// that it "acts for someone else" (it names no one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registrars_command_with_a_student_token_is_said_to_need_the_admin_token() {
    let server = TestServer::start().await;
    let student = server.student("s0007").await;
    let command = murphy_core::Command::IssuePermission {
        student: "s0007".into(),
        section: "COMSCI-31-1".into(),
    };
    let request = murphy_core::wire::CommandsRequest {
        client: None,
        seq: None,
        commands: vec![command],
    };
    let refused = student.send(&request).await.unwrap_err();
    let murphy_client::Error::Problem { status, detail, .. } = &refused else {
        panic!("a problem: {refused}")
    };
    assert_eq!(*status, 403);
    assert_eq!(
        detail,
        "command 0 (issue_permission) is the registrar's: it needs the admin token"
    );
}
