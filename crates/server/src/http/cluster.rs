//! The HTTP side of a cluster. On a secondary, a write (every `POST`), the waiting
//! room's calls and a read with a token this node does not know yet (minted on the
//! primary a moment ago) are passed on to the primary, and its answer passed back as if the client had asked it: clients
//! may talk to any node, and sessions stay exactly-once, because the primary alone
//! decides them. On every node, a read that asks for a minimum version
//! (`Murphy-Min-Version: N`, say the LSN of the client's own last write) waits, briefly,
//! until this node has published that version: read-your-writes on a secondary.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use axum::http::{HeaderName, Method, Response, StatusCode};
use axum::middleware::Next;
use axum::response::IntoResponse;

use super::App;
use crate::auth::hash_token;
use crate::cluster::Role;
use crate::problem::{Code, Problem};

/// A read's minimum version: answer only from a state at or past this LSN.
pub(crate) const MIN_VERSION: HeaderName = HeaderName::from_static("murphy-min-version");
/// Set on a request one node passes on to another: it is never passed on twice.
pub(crate) const FORWARDED_BY: HeaderName = HeaderName::from_static("murphy-forwarded-by");

/// The middleware: pass on what the primary must answer; make reads wait for a version.
pub(crate) async fn route(State(app): State<Arc<App>>, request: Request, next: Next) -> Response<Body> {
    let request = match pass_on(&app, request).await {
        Ok(answer) => return answer,
        Err(request) => request,
    };
    match min_version(&request) {
        Ok(None) => {}
        // Only a caller with a valid credential is held; anyone else is answered at once
        // (a read that needs one refuses them itself).
        Ok(Some(_)) if super::authenticate(&app, request.headers(), None).is_err() => {}
        Ok(Some(version)) => {
            if let Err(problem) = reach(&app, version).await {
                return problem.into_response();
            }
        }
        Err(problem) => return problem.into_response(),
    }
    next.run(request).await
}

/// Whether a secondary passes `request` on: every write, the waiting room (the primary
/// keeps the line), and an API read whose token this node does not know (yet).
fn passes_on(app: &App, request: &Request) -> bool {
    let path = request.uri().path();
    if path == "/api/v1/line" {
        return true;
    }
    // A stream ticket opens a stream on the node that gave it: it stays here.
    if request.method() == Method::POST {
        return path != "/api/v1/events/ticket";
    }
    let local = ["/api/v1/events", "/api/v1/openapi.json", "/api/v1/cluster"];
    if !path.starts_with("/api/v1/") || local.contains(&path) {
        return false;
    }
    let token = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(super::bearer);
    token.is_some_and(|token| {
        let hash = hash_token(token);
        hash != app.admin_token_hash && !app.node.snapshot().tokens.contains_key(&hash)
    })
}

/// On a secondary, passes `request` on to the primary and returns its answer; hands
/// the request back when this node answers it itself. While no node is the primary, or
/// the one named cannot be reached (so nothing was applied), the request waits for the
/// next change of role, up to `primary_wait_time_max`: a take-over is ridden out.
async fn pass_on(app: &App, request: Request) -> Result<Response<Body>, Request> {
    if !matches!(&*app.node.role(), Role::Secondary { .. }) || !passes_on(app, &request) {
        return Err(request);
    }
    if request.headers().contains_key(FORWARDED_BY) {
        return Ok(Problem::unavailable(
            Code::NotPrimary,
            "another node passed this on taking this one for the primary, which it is not (the primary just \
             changed); nothing was applied here. Retry shortly",
        )
        .into_response());
    }
    let (parts, body) = request.into_parts();
    // `guard` has read the body whole within its caller's limit already.
    let Ok(body) = axum::body::to_bytes(body, app.limits.body_bytes_max_largest()).await else {
        return Ok(too_large(app));
    };
    let deadline = tokio::time::Instant::now() + app.limits.primary_wait_time_max;
    let mut changes = app.node.role_changes();
    loop {
        changes.borrow_and_update();
        let primary = match &*app.node.role() {
            Role::Primary { .. } => return Err(Request::from_parts(parts, Body::from(body))),
            Role::Secondary { primary, .. } => primary.clone(),
        };
        let refusal = match &primary {
            None => no_primary(),
            Some(primary) => match send(app, primary, &parts, body.clone()).await {
                Ok(answer) => return Ok(pass_back(answer).await),
                Err(e) if e.is_connect() => unreachable(primary, &e),
                Err(e) => return Ok(unreachable(primary, &e)),
            },
        };
        if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
            return Ok(refusal);
        }
    }
}

/// Sends the request to `primary`, marked as passed on by this node.
async fn send(
    app: &App,
    primary: &str,
    parts: &axum::http::request::Parts,
    body: axum::body::Bytes,
) -> Result<reqwest::Response, reqwest::Error> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = app
        .forwarder
        .request(parts.method.clone(), format!("{primary}{path}"))
        .body(body);
    for (name, value) in &parts.headers {
        if ![HOST, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING].contains(name) {
            out = out.header(name, value);
        }
    }
    out.header(FORWARDED_BY, app.node.url().unwrap_or_default())
        .send()
        .await
}

fn no_primary() -> Response<Body> {
    Problem::unavailable(
        Code::NoPrimary,
        "no node is the primary right now (one is taking over); nothing was applied. Retry shortly",
    )
    .into_response()
}

fn too_large(app: &App) -> Response<Body> {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        Code::BadBody,
        format!(
            "the request body is over the server's limit ({} bytes) or could not be read; send a smaller one",
            app.limits.request_body_bytes_max
        ),
    )
    .into_response()
}

/// The primary's answer, to the client.
async fn pass_back(answer: reqwest::Response) -> Response<Body> {
    let status = answer.status();
    let headers = answer.headers().clone();
    let Ok(body) = answer.bytes().await else {
        return Problem::unavailable(
            Code::OutcomeUnknown,
            "the primary's answer was cut off: the request may or may not have been applied. Retry with the same \
             client and seq: a retry applies once",
        )
        .into_response();
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if ![CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING].contains(name) {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

fn unreachable(primary: &str, e: &reqwest::Error) -> Response<Body> {
    let (code, what) = match e.is_connect() {
        true => (Code::NoPrimary, "nothing was applied"),
        false => (
            Code::OutcomeUnknown,
            "it may or may not have been applied; retry with the same client and seq, which applies once",
        ),
    };
    Problem::unavailable(
        code,
        format!("the primary at {primary} did not answer ({e}); {what}. Retry shortly"),
    )
    .into_response()
}

/// The `Murphy-Min-Version` a request asks for, if any.
fn min_version(request: &Request) -> Result<Option<u64>, Problem> {
    let Some(value) = request.headers().get(MIN_VERSION) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .map(Some)
        .ok_or_else(|| {
            Problem::bad_request(
                Code::InvalidHeader,
                "Murphy-Min-Version must be a version (an LSN, a whole number), such as the lsn of your last write",
            )
        })
}

/// Waits until this node has published `version`, at most `min_version_wait_time_max`.
async fn reach(app: &App, version: u64) -> Result<(), Problem> {
    let mut published = app.node.publisher().version();
    let wait = app.limits.min_version_wait_time_max;
    if let Ok(Ok(_)) = tokio::time::timeout(wait, published.wait_for(|v| *v >= version)).await {
        return Ok(());
    }
    Err(Problem::unavailable(
        Code::Behind,
        format!(
            "this node is at version {} and did not reach version {version} within {} ms; retry shortly, or read \
             from the primary (GET /api/v1/cluster names it)",
            *published.borrow(),
            wait.as_millis()
        ),
    ))
}
