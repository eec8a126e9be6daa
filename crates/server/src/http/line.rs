//! The waiting room over HTTP: `POST /api/v1/line` (join, or the place already held),
//! `GET /api/v1/line` (where one stands: from memory, no log), and `Admitted`, the gate
//! a student's write passes while a registration window is open: without an admission
//! it is answered `503 in_line` with the student's place, before its body is read.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, request::Parts};
use axum::response::{IntoResponse, Response};
use murphy_core::Command;
use murphy_core::wire::{LineAnswer, LineRequest};

use super::App;
use crate::auth::Principal;
use crate::line::{Clock, Gate, Pass, Refused};
use crate::pipeline::Answer;
use crate::problem::{Code, Problem};

/// The header a client sends its admission pass in.
pub(crate) const PASS: HeaderName = HeaderName::from_static("murphy-pass");

/// Ticket reservations one request waits for, at most, before it is answered `503`.
const RESERVATIONS_PER_REQUEST_MAX: usize = 3;

/// `POST /api/v1/line`.
pub(crate) async fn join(
    State(app): State<Arc<App>>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let student = whom(&app, &principal, body)?;
    for _ in 0..RESERVATIONS_PER_REQUEST_MAX {
        let snapshot = app.node.snapshot();
        match app.room.join(snapshot.state.line(), &student, Clock::now()) {
            Ok(answer) => return Ok(line_body(&answer)),
            Err(gate) => settle(&app, gate).await?,
        }
    }
    Err(busy())
}

/// `GET /api/v1/line`: the caller's place; the admin asks with a student's pass.
pub(crate) async fn poll(
    State(app): State<Arc<App>>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let pass = read_pass(&app, &headers)?;
    let student = match (&principal, &pass) {
        (Principal::Student(student), _) => student.clone(),
        (Principal::Admin, Some(pass)) => pass.student.clone(),
        (Principal::Admin, None) => {
            // The registrar holds no place of its own: a refusal of who asks, not of
            // how (the request itself is well formed).
            return Err(Problem::forbidden(
                "the registrar holds no place in line; ask for a student's place with that student's pass \
                 (the Murphy-Pass header)",
            ));
        }
    };
    let snapshot = app.node.snapshot();
    let answer = app
        .room
        .poll(snapshot.state.line(), &student, pass.as_ref(), Clock::now());
    Ok(line_body(&answer))
}

/// A write's principal, once the waiting room lets it through: the admin always; a
/// student while no window is open, or with an admission.
pub(crate) struct Admitted(pub(crate) Principal);

impl FromRequestParts<Arc<App>> for Admitted {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Problem> {
        let principal = Principal::from_request_parts(parts, app).await?;
        let Principal::Student(student) = &principal else {
            return Ok(Admitted(principal));
        };
        let pass = read_pass(app, &parts.headers)?;
        for _ in 0..RESERVATIONS_PER_REQUEST_MAX {
            let snapshot = app.node.snapshot();
            match app
                .room
                .gate(snapshot.state.line(), student, pass.as_ref(), Clock::now())
            {
                Gate::Go => return Ok(Admitted(principal)),
                Gate::Wait(answer) => return Err(in_line(*answer)),
                gate => settle(app, gate).await?,
            }
        }
        Err(busy())
    }
}

/// The student `POST /api/v1/line` places: the caller, or the one the admin names.
fn whom(app: &App, principal: &Principal, body: Result<Bytes, BytesRejection>) -> Result<String, Problem> {
    let body = body.map_err(|e| Problem::new(e.status(), Code::BadBody, e.body_text()))?;
    let request: LineRequest = if body.iter().all(u8::is_ascii_whitespace) {
        LineRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            Problem::bad_request(
                Code::InvalidRequest,
                format!("the body was not understood: {e}. Send none, or {{\"student\": \"s0001\"}}"),
            )
        })?
    };
    let student = match (principal, request.student) {
        (Principal::Student(me), None) => me.clone(),
        (Principal::Student(me), Some(named)) if named == *me => named,
        (Principal::Student(_), Some(_)) => {
            return Err(Problem::forbidden(
                "a student token places only its own student in line",
            ));
        }
        (Principal::Admin, Some(named)) => named,
        (Principal::Admin, None) => {
            return Err(Problem::forbidden(
                "the registrar takes no place in line itself; name the student to place: {\"student\": \"s0001\"}",
            ));
        }
    };
    if app.node.snapshot().state.student(&student).is_none() {
        return Err(Problem::not_found(
            Code::NoSuchStudent,
            format!("there is no student {student}"),
        ));
    }
    Ok(student)
}

/// The pass in `Murphy-Pass`, if any: checked, so a forged or expired one is refused.
fn read_pass(app: &App, headers: &HeaderMap) -> Result<Option<Pass>, Problem> {
    let Some(value) = headers.get(PASS) else {
        return Ok(None);
    };
    let refused = |code, detail: &str| Err(Problem::new(StatusCode::FORBIDDEN, code, detail));
    let now_s = Clock::now().unix_s();
    match value.to_str().map(|text| app.room.key().read(text.trim(), now_s)) {
        Ok(Ok(pass)) => Ok(Some(pass)),
        Ok(Err(Refused::Expired)) => refused(
            Code::PassExpired,
            "this pass has expired; nothing was applied. Join the line again (POST /api/v1/line)",
        ),
        Err(_) | Ok(Err(Refused::Forged)) => refused(
            Code::BadPass,
            "this pass was not issued by this registrar, or was altered; nothing was applied. Send the \
             pass exactly as POST /api/v1/line gave it, or join again",
        ),
    }
}

/// What the room asked for before it can answer: tickets reserved in the log.
async fn settle(app: &App, gate: Gate) -> Result<(), Problem> {
    match gate {
        Gate::Reserve { window, through } => reserve(app, window, through).await,
        Gate::Full => Err(Problem::unavailable(
            Code::LineFull,
            "the waiting room holds as many places as a window may; nothing was applied. Retry later",
        )),
        Gate::Go | Gate::Wait(_) => Ok(()),
    }
}

/// Reserves tickets of `window` up to `through` in the log, once for every request
/// that ran out at the same moment.
async fn reserve(app: &App, window: u64, through: u64) -> Result<(), Problem> {
    let _one = app.room.reserving.lock().await;
    let reserved = |app: &App| app.node.snapshot().state.line().map(|w| (w.id, w.tickets));
    if reserved(app).is_none_or(|(id, tickets)| id != window || tickets >= through) {
        return Ok(()); // reserved meanwhile, or the window changed: ask the room again
    }
    let Some(writer) = app.node.writer() else {
        return Err(Problem::unavailable(
            Code::NotPrimary,
            "this node is not the primary right now; the line is kept there. Retry shortly",
        ));
    };
    let advance = Command::AdvanceLine {
        window,
        tickets: Some(through),
        seed: None,
        admitted: None,
    };
    match writer
        .submit(Principal::Admin.owner().into(), None, vec![advance])
        .await
    {
        Ok(Answer::Results(_)) => Ok(()),
        _ => Err(busy()),
    }
}

fn busy() -> Problem {
    Problem::unavailable(
        Code::Overloaded,
        "the waiting room could not hand out a place just now; nothing was applied. Retry after a second",
    )
}

/// The `503 in_line` a write without an admission gets: the student's place.
fn in_line(answer: LineAnswer) -> Problem {
    let place = match (answer.place, answer.ahead, answer.eta) {
        (Some(place), Some(ahead), Some(eta)) => format!(
            "you are number {place} in line, {ahead} ahead of you, admitted in about {} to {} s",
            eta.min_s, eta.max_s
        ),
        (Some(place), _, _) => format!("you are number {place} in line"),
        (None, _, _) => "you are in line; its order is drawn when registration opens".into(),
    };
    let detail = format!(
        "a registration window is open and you are not admitted yet: {place}; nothing of this request was \
         read or applied. Send `line.pass` as the Murphy-Pass header, ask GET /api/v1/line again after \
         `line.next_poll_after_s` seconds, and send this write again once admitted"
    );
    let retry_after_seconds = answer.next_poll_after_s.or(Some(1));
    let line = serde_json::to_value(&answer).expect("answers serialize");
    Problem {
        retry_after_seconds,
        extension: Some(("line", line)),
        ..Problem::unavailable(Code::InLine, detail)
    }
}

fn line_body(answer: &LineAnswer) -> Response {
    let body = serde_json::to_string(answer).expect("answers serialize");
    let mut response = ([(CONTENT_TYPE, "application/json")], body).into_response();
    // A place is the caller's alone, and changes every second.
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
