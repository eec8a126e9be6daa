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
        get("log after past any u64", "/api/v1/log?after=18446744073709551616", Some(ADMIN_TOKEN), S::BAD_REQUEST, "invalid_query"),
        get("events after past any u64", "/api/v1/events?after=18446744073709551616", Some(t), S::BAD_REQUEST, "invalid_query"),
        post("commands as arrays", t, r#"{"commands":[["deposit","s1",8]]}"#, S::BAD_REQUEST, "invalid_request"),
        post("the request as an array", t, r#"[null,null,[{"type":"deposit","student":"s1","amount_cents":8}]]"#, S::BAD_REQUEST, "invalid_request"),
        post("a meeting as an array", ADMIN_TOKEN, r#"{"commands":[{"type":"create_section","section":"A-1","title":"A","units":4,"capacity":9,"meetings":[["MW","14:00","15:50"]]}]}"#, S::BAD_REQUEST, "invalid_request"),
        post("a name of zero-width spaces", ADMIN_TOKEN, "{\"commands\":[{\"type\":\"create_student\",\"student\":\"s9\",\"name\":\"\u{200b}\u{2060} \\u200d\"}]}", S::BAD_REQUEST, "invalid_request"),
        post("a title of fillers", ADMIN_TOKEN, r#"{"commands":[{"type":"create_section","section":"A-1","title":"\u3164\ufeff","units":4,"capacity":9}]}"#, S::BAD_REQUEST, "invalid_request"),
        get("unknown route", "/api/v2/sections", Some(t), S::NOT_FOUND, "no_such_route"),
        Case { method: Method::DELETE, ..get("wrong method", "/api/v1/sections", Some(t), S::METHOD_NOT_ALLOWED, "method_not_allowed") },
        Case { method: Method::POST, body: br#"{"student":"s1"}"#.to_vec(), ..get("token as a student", "/api/v1/tokens", Some(t), S::FORBIDDEN, "forbidden") },
        Case { method: Method::POST, body: br#"["s1"]"#.to_vec(), ..get("token request as an array", "/api/v1/tokens", Some(ADMIN_TOKEN), S::BAD_REQUEST, "invalid_request") },
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_scheme_is_case_insensitive_and_one_authorization_is_allowed() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    let me = |value: Vec<String>| {
        let mut request = http.get(format!("{}/api/v1/me", server.url()));
        for v in value {
            request = request.header(AUTHORIZATION, v);
        }
        request.send()
    };
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let response = me(vec![format!("{scheme} {ADMIN_TOKEN}")]).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{scheme}");
        assert_eq!(response.json::<Value>().await.unwrap()["admin"], true, "{scheme}");
    }
    let response = me(vec![format!("Basic {ADMIN_TOKEN}")]).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "malformed_token");

    // Two headers, even two that agree, are refused: which one counts would be a guess.
    for second in [ADMIN_TOKEN, "mst_other"] {
        let response = me(vec![format!("Bearer {ADMIN_TOKEN}"), format!("Bearer {second}")])
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "invalid_header", "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("more than one Authorization")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_takes_every_after_the_events_take() {
    let server = TestServer::start().await;
    server.setup(vec![create_section("COMSCI-31-1", 10, 0)]).await;
    let http = reqwest::Client::new();
    let get = |path: String| {
        http.get(format!("{}{path}", server.url()))
            .header(AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
            .send()
    };
    for after in ["9223372036854775807", "9223372036854775808", "18446744073709551615"] {
        let response = get(format!("/api/v1/log?after={after}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "log after {after}");
        assert_eq!(response.text().await.unwrap(), "", "no entries after {after}");
        let response = get(format!("/api/v1/events?after={after}")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "events after {after}");
    }
    let response = get("/api/v1/log?after=0".into()).await.unwrap();
    assert_eq!(response.text().await.unwrap().lines().count(), 1);
}

/// A `Content-Length` over the limit is answered `413` before the body is read: the
/// client sends only its headers and gets the answer at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_declared_over_the_limit_is_refused_at_once() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // The default limits: the 413 comes before writes are shed, too.
    let server = TestServer::start_with(murphy_server::Limits::default()).await;
    let defaults = murphy_server::Limits::default();
    let limit = defaults.request_body_bytes_max;
    // The registrar's commands may be an import of a whole file: a limit of their own.
    for (path, limit) in [
        ("/api/v1/commands", defaults.import_body_bytes_max),
        ("/api/v1/tokens", limit),
        ("/api/v1/sections", limit),
    ] {
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: murphy\r\nauthorization: Bearer {ADMIN_TOKEN}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n",
            limit + 1
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut answer))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer while the body is unsent"))
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(answer.contains("\"code\":\"bad_body\""), "{path}: {answer}");
        assert!(
            answer.contains(&format!("over the server's limit of {limit}")),
            "{answer}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{path}: answered in {:?}",
            started.elapsed()
        );
    }
    // At the limit, the body is read as usual.
    let body = format!(r#"{{"student":"{}"}}"#, "x".repeat(limit - 14));
    assert_eq!(body.len(), limit);
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/tokens", server.url()))
        .header(AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "read, then refused as an id"
    );
}
