//! Bad input gets a clear 4xx problem and changes nothing: each case below is sent
//! through the real socket, and the log length is compared before and after.

mod common;

use common::{ADMIN_TOKEN, TestServer, create_section};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

struct Case {
    name: &'static str,
    method: Method,
    path: &'static str,
    token: Option<String>,
    body: Vec<u8>,
    status: StatusCode,
    code: &'static str,
}

fn post(name: &'static str, token: &str, body: impl Into<Vec<u8>>, status: StatusCode, code: &'static str) -> Case {
    let token = Some(token.to_owned());
    Case {
        name,
        method: Method::POST,
        path: "/api/v1/commands",
        token,
        body: body.into(),
        status,
        code,
    }
}

fn get(name: &'static str, path: &'static str, token: Option<&str>, status: StatusCode, code: &'static str) -> Case {
    let token = token.map(str::to_owned);
    Case {
        name,
        method: Method::GET,
        path,
        token,
        body: vec![],
        status,
        code,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_gets_a_clear_problem_and_changes_nothing() {
    let server = TestServer::start().await;
    server.setup(vec![create_section("COMSCI-31-1", 10, 0)]).await;
    let joe = server.student("s1").await;
    server.student("s2").await;
    let joe_token = joe.token().unwrap().to_owned();
    let t = joe_token.as_str();
    let enroll = |student: &str, section: &str| {
        format!(r#"{{"commands":[{{"type":"enroll","student":"{student}","section":"{section}"}}]}}"#)
    };
    use StatusCode as S;
    let huge = format!(r#"{{"commands":[], "pad": "{}"}}"#, "x".repeat(1 << 20));
    #[rustfmt::skip]
    let cases = vec![
        post("malformed JSON", t, r#"{"commands": [ "#, S::BAD_REQUEST, "malformed_json"),
        post("not JSON at all", t, "enroll me please", S::BAD_REQUEST, "malformed_json"),
        post("unknown command type", t, r#"{"commands":[{"type":"teleport","student":"s1"}]}"#, S::BAD_REQUEST, "invalid_request"),
        post("wrong type", t, r#"{"commands":[{"type":"deposit","student":"s1","amount_cents":"5"}]}"#, S::BAD_REQUEST, "invalid_request"),
        post("missing field", t, r#"{"commands":[{"type":"enroll","student":"s1"}]}"#, S::BAD_REQUEST, "invalid_request"),
        post("unknown field", t, r#"{"commands":[],"extra":1}"#, S::BAD_REQUEST, "invalid_request"),
        post("no commands", t, r#"{"commands":[]}"#, S::BAD_REQUEST, "invalid_request"),
        post("negative amount", t, r#"{"commands":[{"type":"withdraw","student":"s1","amount_cents":-5}]}"#, S::BAD_REQUEST, "invalid_request"),
        post("bad id", t, enroll("s1", "COMSCI 31"), S::BAD_REQUEST, "invalid_request"),
        post("client without seq", t, r#"{"client":"c","commands":[{"type":"deposit","student":"s1","amount_cents":5}]}"#, S::BAD_REQUEST, "invalid_request"),
        post("huge body", t, huge, S::PAYLOAD_TOO_LARGE, "bad_body"),
        post("unknown section", t, enroll("s1", "NOPE-1"), S::NOT_FOUND, "no_such_section"),
        post("unknown student", ADMIN_TOKEN, enroll("nobody", "COMSCI-31-1"), S::NOT_FOUND, "no_such_student"),
        post("other student's command", t, enroll("s2", "COMSCI-31-1"), S::FORBIDDEN, "forbidden"),
        post("student sends an admin command", t, r#"{"commands":[{"type":"set_capacity","section":"COMSCI-31-1","capacity":99}]}"#, S::FORBIDDEN, "forbidden"),
        post("wrong token", "mst_not-a-token", enroll("s1", "COMSCI-31-1"), S::UNAUTHORIZED, "invalid_token"),
        Case { token: None, ..post("missing token", t, enroll("s1", "COMSCI-31-1"), S::UNAUTHORIZED, "missing_token") },
        get("another student's record", "/api/v1/students/s2", Some(t), S::FORBIDDEN, "forbidden"),
        get("unknown section read", "/api/v1/sections/NOPE-1", Some(t), S::NOT_FOUND, "no_such_section"),
        get("id that is not text", "/api/v1/sections/%FF%FE", Some(t), S::BAD_REQUEST, "invalid_path"),
        get("log as a student", "/api/v1/log", Some(t), S::FORBIDDEN, "forbidden"),
        get("bad log query", "/api/v1/log?after=minus-one", Some(ADMIN_TOKEN), S::BAD_REQUEST, "invalid_query"),
        get("log past any lsn", "/api/v1/log?after=9223372036854775808", Some(ADMIN_TOKEN), S::BAD_REQUEST, "invalid_query"),
        get("unknown route", "/api/v2/sections", Some(t), S::NOT_FOUND, "no_such_route"),
        Case { method: Method::DELETE, ..get("wrong method", "/api/v1/sections", Some(t), S::METHOD_NOT_ALLOWED, "method_not_allowed") },
        Case { method: Method::POST, body: br#"{"student":"s1"}"#.to_vec(), ..get("token as a student", "/api/v1/tokens", Some(t), S::FORBIDDEN, "forbidden") },
        Case { method: Method::POST, body: br#"{"student":"ghost"}"#.to_vec(), ..get("token for nobody", "/api/v1/tokens", Some(ADMIN_TOKEN), S::NOT_FOUND, "no_such_student") },
    ];

    let http = reqwest::Client::new();
    let len_before = server.log_len().await;
    let s1_before = joe.student("s1").await.unwrap();
    for case in cases {
        let mut request = http
            .request(case.method.clone(), format!("{}{}", server.url(), case.path))
            .body(case.body);
        if let Some(token) = &case.token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: no answer: {e}", case.name));
        assert_eq!(response.status(), case.status, "{}", case.name);
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "{}",
            case.name
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], case.code, "{}: {problem}", case.name);
        assert_eq!(problem["status"], case.status.as_u16(), "{}", case.name);
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.len() > 15, "{}: the detail explains: {detail:?}", case.name);
        assert_eq!(
            server.log_len().await,
            len_before,
            "{}: the log is unchanged",
            case.name
        );
    }
    assert_eq!(joe.student("s1").await.unwrap(), s1_before, "s1 is unchanged");
    assert_eq!(server.admin.section("COMSCI-31-1").await.unwrap().capacity, 10);
}
