//! The OpenAPI document served at `GET /api/v1/openapi.json` cannot drift from the code:
//! its paths are the router's, its security matches what the server asks for, and its
//! `Command` and `Outcome` schemas match what serde really writes and reads, tag by tag
//! and field by field.

#[path = "../common/mod.rs"]
mod common;
mod every;

use std::collections::BTreeSet;

use common::{ADMIN_TOKEN, TestServer};
use every::{every_command, every_outcome};
use murphy_core::{Command, CommandKind, Outcome, OutcomeKind, Population};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value};

/// Every path the router serves (`crates/server/src/http/mod.rs`).
const ROUTER_PATHS: &[&str] = &[
    "/healthz",
    "/metrics",
    "/api/v1/openapi.json",
    "/api/v1/me",
    "/api/v1/cluster",
    "/api/v1/tokens",
    "/api/v1/sections",
    "/api/v1/sections/{id}",
    "/api/v1/students/{id}",
    "/api/v1/commands",
    "/api/v1/line",
    "/auth/config",
    "/auth/token",
    "/auth/sign-out",
    "/auth/oidc",
    "/auth/oidc/callback",
    "/api/v1/log",
    "/api/v1/events",
    "/api/v1/events/ticket",
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

async fn document(server: &TestServer) -> Value {
    // No token: the document describes how to get one.
    let response = reqwest::get(format!("{}/api/v1/openapi.json", server.url()))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
    let text = response.text().await.unwrap();
    serde_json::from_str(&text).expect("the served document is JSON")
}

/// Follows a local `$ref` (`#/components/...`) to the schema it names.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
        return schema;
    };
    let pointer = reference.strip_prefix('#').expect("local reference");
    doc.pointer(pointer)
        .unwrap_or_else(|| panic!("{reference} does not resolve"))
}

/// The variant schemas of a tagged union, by their `type` tag, after checking that the
/// `oneOf` and the discriminator's mapping agree.
fn variants<'a>(doc: &'a Value, union: &str) -> Vec<(String, &'a Value)> {
    let schema = &doc["components"]["schemas"][union];
    assert_eq!(schema["discriminator"]["propertyName"], "type", "{union} discriminator");
    let mapping = schema["discriminator"]["mapping"].as_object().expect("a mapping");
    let one_of = schema["oneOf"].as_array().expect("a oneOf");
    let mut found = Vec::new();
    for member in one_of {
        let variant = resolve(doc, member);
        let tag = variant["properties"]["type"]["const"]
            .as_str()
            .unwrap_or_else(|| panic!("{union} variant {member} has no const type"))
            .to_owned();
        assert_eq!(mapping.get(&tag), member.get("$ref"), "{union}: mapping of {tag}");
        assert!(variant["required"].as_array().unwrap().contains(&Value::from("type")));
        found.push((tag, variant));
    }
    assert_eq!(mapping.len(), found.len(), "{union}: mapping and oneOf differ");
    found
}

fn tags(values: &[Value]) -> BTreeSet<String> {
    values.iter().map(|v| v["type"].as_str().unwrap().to_owned()).collect()
}

fn keys(object: &Value) -> BTreeSet<String> {
    object.as_object().unwrap().keys().cloned().collect()
}

fn required(schema: &Value) -> BTreeSet<String> {
    schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Each serialized value's tag has a variant schema whose properties are exactly the
/// fields written for that tag (over all its values), all its required ones in each;
/// and the document lists no tag the code does not produce.
fn check_union(doc: &Value, union: &str, serialized: &[Value]) {
    let variants = variants(doc, union);
    let documented: BTreeSet<String> = variants.iter().map(|(tag, _)| tag.clone()).collect();
    assert_eq!(documented, tags(serialized), "{union}: documented tags vs serde's");
    for (tag, schema) in &variants {
        let values: Vec<&Value> = serialized.iter().filter(|v| v["type"] == tag.as_str()).collect();
        let written: BTreeSet<String> = values.iter().flat_map(|v| keys(v)).collect();
        assert_eq!(keys(&schema["properties"]), written, "{union} {tag}: fields");
        for value in values {
            assert!(required(schema).is_subset(&keys(value)), "{union} {tag}: required");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_openapi_3_1_and_lists_every_route() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1."),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let documented = keys(&doc["paths"]);
    let served: BTreeSet<String> = ROUTER_PATHS.iter().map(|p| p.to_string()).collect();
    assert_eq!(documented, served, "documented paths vs the router's");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

    // Every local reference resolves.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50);
    for reference in all {
        resolve(&doc, &serde_json::json!({ "$ref": reference }));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_and_outcome_schemas_match_serde() {
    let server = TestServer::start().await;
    let doc = document(&server).await;

    // Core's catalogue is the list: every kind has an example here, and (by
    // `check_union`) a schema in the document, and the document has no other.
    let commands = every_command();
    let kinds: BTreeSet<CommandKind> = commands.iter().map(Command::kind).collect();
    assert_eq!(
        kinds,
        CommandKind::all().collect(),
        "every_command vs core's command kinds"
    );
    let serialized: Vec<Value> = commands.iter().map(|c| serde_json::to_value(c).unwrap()).collect();
    for (command, value) in commands.iter().zip(&serialized) {
        assert_eq!(value["type"], command.kind().name());
    }
    check_union(&doc, "Command", &serialized);

    let outcomes = every_outcome();
    let kinds: BTreeSet<OutcomeKind> = outcomes.iter().map(Outcome::kind).collect();
    assert_eq!(
        kinds,
        OutcomeKind::all().collect(),
        "every_outcome vs core's outcome kinds"
    );
    let mut serialized: Vec<Value> = outcomes.iter().map(|o| serde_json::to_value(o).unwrap()).collect();
    for (outcome, value) in outcomes.iter().zip(&serialized) {
        assert_eq!(value["type"], outcome.kind().name());
    }
    // And each as a student is answered it (promotions counted, not named).
    let results: Vec<murphy_core::wire::CommandResult> = outcomes
        .iter()
        .map(|outcome| murphy_core::wire::CommandResult {
            lsn: 1,
            outcome: outcome.clone(),
        })
        .collect();
    let as_student: Value =
        serde_json::from_str(&murphy_core::wire::CommandResult::answer_json(&results, false)).unwrap();
    serialized.extend(as_student.as_array().unwrap().iter().map(|r| r["outcome"].clone()));
    check_union(&doc, "Outcome", &serialized);
    // Each outcome schema says whether it is a refusal, as core does.
    for (tag, schema) in variants(&doc, "Outcome") {
        let kind = OutcomeKind::all().find(|k| k.name() == tag).unwrap();
        assert_eq!(
            schema["x-refusal"],
            Value::from(kind.is_refusal()),
            "{tag}: x-refusal vs core's catalogue"
        );
    }

    // The documented examples are what serde reads, and `required` and `default` say
    // what serde does with a missing field: a default sent is the field left out.
    for (tag, schema) in variants(&doc, "Command") {
        let example = &schema["examples"][0];
        let command: Command = serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{tag}: {e}"));
        command.validate().unwrap_or_else(|e| panic!("{tag} example: {e}"));
        let required = required(schema);
        let minimal: Map<String, Value> = example
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| required.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let filled = serde_json::to_value(
            serde_json::from_value::<Command>(Value::Object(minimal.clone()))
                .unwrap_or_else(|e| panic!("{tag} with only the required fields: {e}")),
        )
        .unwrap();
        for (field, property) in schema["properties"].as_object().unwrap() {
            if required.contains(field) {
                let mut short = minimal.clone();
                short.remove(field);
                assert!(
                    serde_json::from_value::<Command>(Value::Object(short)).is_err(),
                    "{tag}: {field} is documented as required but serde does not need it"
                );
            } else if property.get("default").is_none() {
                // No default documented: absent, or a value of its type; never null.
                let mut given = minimal.clone();
                given.insert(field.clone(), Value::Null);
                assert!(
                    serde_json::from_value::<Command>(Value::Object(given)).is_err(),
                    "{tag}: {field} is absent or a value, and null is refused"
                );
            } else {
                let mut given = minimal.clone();
                given.insert(field.clone(), property["default"].clone());
                let given = serde_json::from_value::<Command>(Value::Object(given))
                    .unwrap_or_else(|e| panic!("{tag}: {field} at its documented default: {e}"));
                assert_eq!(
                    serde_json::to_value(given).unwrap(),
                    filled,
                    "{tag}: default of {field}"
                );
            }
        }
        let mut extra = example.clone();
        extra["unknown_field"] = Value::from(1);
        assert!(
            serde_json::from_value::<Command>(extra).is_err(),
            "{tag}: unknown fields"
        );
        assert_eq!(
            schema["additionalProperties"], false,
            "{tag}: unknown fields are refused"
        );
    }
    for (tag, schema) in variants(&doc, "Outcome") {
        let example = &schema["examples"][0];
        serde_json::from_value::<Outcome>(example.clone()).unwrap_or_else(|e| panic!("{tag}: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served_as_documented() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    let http = reqwest::Client::new();

    // The check below is meaningful: an unknown path does get the fallback.
    let response = http
        .get(format!("{}/api/v1/nothing-here", server.url()))
        .header(AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "no_such_route");

    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !METHODS.contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let url = format!("{}{}", server.url(), path.replace("{id}", "x"));
            let open = operation["security"].as_array().is_some_and(Vec::is_empty);
            for token in [Some(ADMIN_TOKEN), None] {
                let mut request = http.request(method.clone(), &url);
                if let Some(token) = token {
                    request = request.header(AUTHORIZATION, format!("Bearer {token}"));
                }
                if method == Method::POST {
                    request = request.header(CONTENT_TYPE, "application/json").body("{}");
                }
                let response = request.send().await.unwrap();
                let status = response.status();
                let is_problem = response
                    .headers()
                    .get(CONTENT_TYPE)
                    .is_some_and(|v| v == "application/problem+json");
                let endless = response
                    .headers()
                    .get(CONTENT_TYPE)
                    .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
                // An event stream never ends: its head is the answer to check.
                let body = if endless {
                    String::new()
                } else {
                    response.text().await.unwrap()
                };
                let code = is_problem.then(|| serde_json::from_str::<Value>(&body).unwrap()["code"].clone());
                let what = format!("{method} {path} (token: {})", token.is_some());
                assert_ne!(code, Some(Value::from("no_such_route")), "{what}: not routed");
                assert!(
                    operation["responses"].get(status.as_str()).is_some(),
                    "{what}: {status} is not documented: {body}"
                );
                if token.is_none() && !open {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: needs a token");
                    assert_eq!(code, Some(Value::from("missing_token")), "{what}");
                }
                // The sign-in's endpoints redirect, or want a body of their own; none
                // needs a token.
                if open && path.starts_with("/auth/") {
                    assert_ne!(status, StatusCode::UNAUTHORIZED, "{what}: open endpoints need no token");
                } else if open {
                    assert_eq!(status, StatusCode::OK, "{what}: open endpoints need no token");
                }
            }
        }
    }
    // One operation a path, but for the waiting room's GET and POST.
    assert_eq!(operations, ROUTER_PATHS.len() + 1);
}

/// The read views, the live event and the effects carry exactly the fields the document
/// lists (the registrar's included), all its required ones among them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_events_and_effects_match_serde() {
    use murphy_core::wire::{SectionEvent, SectionView, StudentView};
    use murphy_core::{Effects, Promotion, Release, Skip, State};

    let server = TestServer::start().await;
    let doc = document(&server).await;
    let mut state = State::default();
    let at = time::OffsetDateTime::UNIX_EPOCH;
    let mut commands = every_command();
    commands.retain(|c| matches!(c, Command::CreateSection { .. } | Command::CreateStudent { .. }));
    let part = Command::create_section("COMSCI-35L-1A", "Discussion", 0, 20, 0, vec![]);
    for command in std::iter::once(&part).chain(&commands) {
        let mut command = command.clone();
        if let Command::CreateSection { reserved, .. } = &mut command {
            reserved.iter_mut().for_each(|r| r.until = at + time::Duration::days(1));
        }
        assert_eq!(state.apply(at, &command).outcome, Outcome::Created, "{command:?}");
    }
    state.apply(
        at,
        &Command::IssuePermission {
            student: "s1".into(),
            section: "COMSCI-35L-1".into(),
        },
    );
    let section = state.section("COMSCI-35L-1").unwrap();
    let student = state.student("s1").unwrap();
    let release = Release {
        section: "COMSCI-35L-1".into(),
        population: Population::Major("COMSCI".into()),
        seats: 20,
        held: 3,
        until: at,
    };
    let effects = Effects {
        released: vec![release.clone()],
        promoted: vec![Promotion {
            section: "S".into(),
            student: "s2".into(),
        }],
        skipped: vec![Skip {
            section: "S".into(),
            student: "s3".into(),
            reason: Outcome::Full,
        }],
    };
    let reserved = serde_json::to_value(SectionView::from(section)).unwrap()["reserved"][0].clone();
    let permission = serde_json::to_value(StudentView::new(student, &state)).unwrap()["permissions"][0].clone();
    let values = [
        ("SectionView", serde_json::to_value(SectionView::from(section)).unwrap()),
        ("ReservedView", reserved),
        (
            "StudentView",
            serde_json::to_value(StudentView::new(student, &state)).unwrap(),
        ),
        ("Permission", permission),
        (
            "SectionEvent",
            serde_json::to_value(SectionEvent::from(section)).unwrap(),
        ),
        ("Effects", serde_json::to_value(&effects).unwrap()),
        ("Release", serde_json::to_value(&release).unwrap()),
        ("LineAnswer", serde_json::to_value(every_line_answer()).unwrap()),
        (
            "EtaRange",
            serde_json::to_value(every_line_answer().eta.unwrap()).unwrap(),
        ),
    ];
    for (name, value) in values {
        let schema = &doc["components"]["schemas"][name];
        assert_eq!(keys(&schema["properties"]), keys(&value), "{name}: fields");
        if schema.get("required").is_some() {
            assert!(required(schema).is_subset(&keys(&value)), "{name}: required");
        }
    }
}

/// A waiting room's answer with every field set.
fn every_line_answer() -> murphy_core::wire::LineAnswer {
    use murphy_core::wire::{EtaRange, LineAnswer, LineState};
    LineAnswer {
        state: LineState::Waiting,
        window: Some(812),
        opens_at: Some(time::OffsetDateTime::UNIX_EPOCH),
        pass: Some("mp1.812.5117.0.43200.00000000000000000000000000000000.s1".into()),
        place: Some(4213),
        ahead: Some(4104),
        admitted_through: Some(950),
        admit_rate_per_s: Some(21.5),
        eta: Some(EtaRange { min_s: 151, max_s: 237 }),
        next_poll_after_s: Some(60),
        active: Some(1987),
        active_max: Some(2000),
    }
}

/// Every `code` the server can put in a problem (`problem::Code`, the only way to make
/// one) is in the document's `Problem.code`, and nothing else is; and every response's
/// narrower list of codes is within it, so each problem schema can be matched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_problem_code_is_documented_and_every_problem_schema_can_match() {
    use murphy_server::problem::Code;

    let server = TestServer::start().await;
    let doc = document(&server).await;
    let listed: BTreeSet<String> = doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .expect("Problem.code is an enum")
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let sent: BTreeSet<String> = Code::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    assert_eq!(listed, sent, "Problem.code vs the codes the server sends");

    // Each response narrows `code` with an `allOf` of Problem and an enum.
    fn narrowed<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Array(parts)) = map.get("allOf")
                    && parts.iter().any(|p| p["$ref"] == "#/components/schemas/Problem")
                {
                    for part in parts {
                        if let Some(codes) = part["properties"]["code"]["enum"].as_array() {
                            codes.iter().for_each(|c| out.push((at.clone(), c)));
                        }
                    }
                }
                map.iter().for_each(|(k, v)| narrowed(v, format!("{at}/{k}"), out));
            }
            Value::Array(items) => items.iter().for_each(|v| narrowed(v, at.clone(), out)),
            _ => {}
        }
    }
    let mut codes = Vec::new();
    narrowed(&doc, String::new(), &mut codes);
    assert!(codes.len() > 40, "the responses narrow their codes");
    for (at, code) in &codes {
        assert!(
            listed.contains(code.as_str().unwrap()),
            "{at}: {code} is not a Problem.code, so no answer can match"
        );
    }
    let narrowed_to: BTreeSet<&str> = codes.iter().map(|(_, c)| c.as_str().unwrap()).collect();
    for code in ["invalid_path", "method_not_allowed", "invalid_header"] {
        assert!(narrowed_to.contains(code), "{code} is some response's code");
    }
}

/// A method a path does not take gets the documented `405`, naming those it takes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_a_path_does_not_take_is_405_with_allow() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    let documented = &doc["components"]["responses"]["MethodNotAllowed"];
    assert!(documented["headers"]["Allow"].is_object(), "405 documents Allow");
    let response = reqwest::Client::new()
        .delete(format!("{}/api/v1/sections", server.url()))
        .header(AUTHORIZATION, format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = response.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
    assert!(allow.as_deref().is_some_and(|a| a.contains("GET")), "Allow: {allow:?}");
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    assert_eq!(response.json::<Value>().await.unwrap()["code"], "method_not_allowed");
}
