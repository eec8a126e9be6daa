//! A student's answers tell nothing about other students: a drop that promoted someone
//! from the waitlist says a seat was freed and how many were promoted, never who (the
//! registrar's answers and the log do); a transfer the sender cannot pay is refused
//! alike whether the payee is a student or not.

mod common;

use common::{TestServer, create_section, create_student, enroll};
use murphy_core::Command;
use serde_json::{Value, json};

async fn post(server: &TestServer, token: &str, body: Value) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(format!("{}/api/v1/commands", server.url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_tells_the_student_how_many_were_promoted_never_who() {
    let server = TestServer::start().await;
    server.setup(vec![create_section("MATH-1-1", 1, 5)]).await;
    let ada = server.student("ada").await;
    let _ = server.student("bo").await;
    server
        .setup(vec![
            enroll("ada", "MATH-1-1"),
            Command::Enroll {
                student: "bo".into(),
                section: "MATH-1-1".into(),
                waitlist: true,
                with: None,
                permission: None,
            },
        ])
        .await;
    let token = ada.token().unwrap().to_owned();
    let drop = json!({"client": "ada-laptop", "seq": 1, "commands": [{"type": "drop", "student": "ada", "section": "MATH-1-1"}]});
    let (status, answer) = post(&server, &token, drop.clone()).await;
    assert_eq!(status, 200, "{answer}");
    let outcome = &answer["results"][0]["outcome"];
    assert_eq!(outcome["type"], "dropped", "{answer}");
    assert_eq!(outcome["promoted"], json!([]), "names no one: {answer}");
    assert_eq!(outcome["promoted_count"], 1, "{answer}");
    assert!(!answer.to_string().contains("bo"), "{answer}");
    // A retry, from memory and then from the log, says the same.
    assert_eq!(post(&server, &token, drop.clone()).await.1, answer);
    let next = json!({"client": "ada-laptop", "seq": 2, "commands": [{"type": "deposit", "student": "ada", "amount_cents": 1}]});
    post(&server, &token, next).await;
    assert_eq!(post(&server, &token, drop).await.1, answer, "answered from the log");
    // The registrar's log names who was promoted.
    let log = server.admin.full_log().await.unwrap();
    let entry = log.iter().find(|e| matches!(e.command, Command::Drop { .. })).unwrap();
    assert_eq!(serde_json::to_value(&entry.outcome).unwrap()["promoted"], json!(["bo"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_the_sender_cannot_pay_is_refused_alike_to_anyone() {
    let server = TestServer::start().await;
    let ada = server.student("ada").await;
    server.setup(vec![create_student("bo")]).await;
    let token = ada.token().unwrap().to_owned();
    let transfer = |to: &str| json!({"commands": [{"type": "transfer", "from": "ada", "to": to, "amount_cents": 500}]});
    let (status_known, known) = post(&server, &token, transfer("bo")).await;
    let (status_unknown, unknown) = post(&server, &token, transfer("nobody")).await;
    assert_eq!((status_known, status_unknown), (200, 200), "{known} {unknown}");
    assert_eq!(known["results"][0]["outcome"], unknown["results"][0]["outcome"]);
    assert_eq!(known["results"][0]["outcome"]["type"], "insufficient_funds");
}
