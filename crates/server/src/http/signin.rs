//! The page's sign-in and sign-out (`/auth/...`): a token, or the university's identity
//! provider (OpenID Connect, when configured), exchanged for the `HttpOnly` session
//! cookie of `crate::cookie`. The page keeps no credential a script can read; the API's
//! bearer tokens are unchanged for the command line and programs.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, HOST, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use murphy_core::wire::MeAnswer;
use serde::Deserialize;

use super::App;
use crate::auth::{Principal, hash_token};
use crate::cookie::{self, OIDC_COOKIE, SESSION_COOKIE};
use crate::problem::{Code, Problem};

/// How long an OpenID Connect sign-in may take at the provider, in seconds.
const OIDC_SIGN_IN_TIME_MAX_S: i64 = 600;
/// The path the sign-in-in-progress cookie is sent to.
const OIDC_PATH: &str = "/auth/oidc";

/// `GET /auth/config`: the ways the page may offer to sign in, and whether this
/// browser's sign-in cookie holds a sign-in (`signed_in`), or one that has `expired`
/// or is `invalid`: the page asks here first, so a visitor who is not signed in costs
/// no `401`.
pub async fn config(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    use crate::cookie::Refused;
    let now = time::OffsetDateTime::now_utc();
    let sign_in = match cookie::find(&headers, SESSION_COOKIE).map(|v| app.signer.principal(v, now)) {
        None => "none",
        Some(Ok(_)) => "signed_in",
        Some(Err(Refused::Expired)) => "expired",
        Some(Err(Refused::Invalid)) => "invalid",
    };
    let body = serde_json::json!({ "token": true, "oidc": app.oidc.is_some(), "sign_in": sign_in });
    no_store(
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenSignIn {
    token: String,
}

/// `POST /auth/token` `{"token": ...}`: a token (the registrar's or a student's) for the
/// session cookie; answers who it is, as `GET /api/v1/me` does.
pub async fn token(State(app): State<Arc<App>>, body: Result<Bytes, BytesRejection>) -> Result<Response, Problem> {
    let body = body.map_err(|e| Problem::new(e.status(), Code::BadBody, e.body_text()))?;
    let request: TokenSignIn = serde_json::from_slice(&body).map_err(|e| {
        Problem::bad_request(
            Code::InvalidRequest,
            format!("the body was not understood: {e}. A valid body looks like {{\"token\": \"mst_...\"}}"),
        )
    })?;
    let hash = hash_token(request.token.trim());
    let principal = if hash == app.admin_token_hash {
        Principal::Admin
    } else {
        match app.node.snapshot().tokens.get(&hash) {
            Some(student) => Principal::Student(student.clone()),
            None => {
                return Err(Problem::new(
                    StatusCode::UNAUTHORIZED,
                    Code::InvalidToken,
                    "this token is not valid; check it, or ask the registrar for a new one",
                ));
            }
        }
    };
    let answer = match &principal {
        Principal::Admin => MeAnswer::Admin { admin: true },
        Principal::Student(student) => MeAnswer::Student {
            student: student.clone(),
        },
    };
    let mut response = (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&answer).expect("serializes"),
    )
        .into_response();
    set_session(&app, &mut response, &principal);
    Ok(no_store(response))
}

/// `POST /auth/sign-out`: the session cookie cleared.
pub async fn sign_out() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let clear = cookie::set(SESSION_COOKIE, "", "/", "Strict", 0);
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&clear).expect("ASCII"));
    no_store(response)
}

/// `GET /auth/oidc`: off to the identity provider, the sign-in's state kept signed in
/// a cookie for the way back.
pub async fn oidc_start(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, Problem> {
    let oidc = app.oidc.as_ref().ok_or_else(not_configured)?;
    let redirect_uri = oidc.redirect_uri(host(&headers));
    let (url, pending) = match oidc.start(&redirect_uri).await {
        Ok(started) => started,
        Err(failure) => {
            tracing::warn!("an OpenID Connect sign-in could not start: {}", failure.detail);
            return Ok(back_to_page(failure.code));
        }
    };
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + OIDC_SIGN_IN_TIME_MAX_S;
    let value = app
        .signer
        .sign(&[&pending.state, &pending.nonce, &pending.verifier, &expires.to_string()]);
    let mut response = redirect(&url);
    // Lax, not Strict: the way back is a navigation from the provider's site.
    let set = cookie::set(OIDC_COOKIE, &value, OIDC_PATH, "Lax", OIDC_SIGN_IN_TIME_MAX_S);
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&set).expect("ASCII"));
    Ok(response)
}

#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/oidc/callback`: back from the provider. The state must be this browser's
/// sign-in's; the code is exchanged, the identity mapped to the registrar or a student
/// murphy knows, and the session cookie set. Every failure goes back to the page with a
/// code it says in words.
pub async fn oidc_callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    query: Result<Query<Callback>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let oidc = app.oidc.as_ref().ok_or_else(not_configured)?;
    let Ok(Query(callback)) = query else {
        return Ok(back_to_page("provider"));
    };
    if callback.error.is_some() {
        return Ok(back_to_page("refused"));
    }
    let kept = cookie::find(&headers, OIDC_COOKIE).and_then(|v| app.signer.open::<4>(v));
    let Some([state, nonce, verifier, expires]) = kept else {
        return Ok(back_to_page("expired"));
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    if expires.parse::<i64>().is_ok_and(|e| e <= now) || callback.state.as_deref() != Some(state) {
        return Ok(back_to_page("expired"));
    }
    let Some(code) = callback.code else {
        return Ok(back_to_page("provider"));
    };
    let pending = crate::oidc::Pending {
        state: state.to_owned(),
        nonce: nonce.to_owned(),
        verifier: verifier.to_owned(),
    };
    let principal = match oidc.finish(&code, &pending, &oidc.redirect_uri(host(&headers))).await {
        Ok(principal) => principal,
        Err(failure) => {
            tracing::warn!("an OpenID Connect sign-in failed: {}", failure.detail);
            return Ok(back_to_page(failure.code));
        }
    };
    if let Principal::Student(id) = &principal
        && app.node.snapshot().state.student(id).is_none()
    {
        tracing::info!("{id} signed in at the identity provider, but murphy has no such student");
        return Ok(back_to_page("unknown_student"));
    }
    let mut response = redirect("/");
    set_session(&app, &mut response, &principal);
    let clear = cookie::set(OIDC_COOKIE, "", OIDC_PATH, "Lax", 0);
    response
        .headers_mut()
        .append(SET_COOKIE, HeaderValue::from_str(&clear).expect("ASCII"));
    Ok(response)
}

fn set_session(app: &App, response: &mut Response, principal: &Principal) {
    let lifetime = app.limits.sign_in_time_max;
    let expires = time::OffsetDateTime::now_utc() + lifetime;
    let value = app.signer.session(principal, expires);
    let set = cookie::set(SESSION_COOKIE, &value, "/", "Strict", lifetime.as_secs() as i64);
    response
        .headers_mut()
        .append(SET_COOKIE, HeaderValue::from_str(&set).expect("ASCII"));
}

fn host(headers: &HeaderMap) -> &str {
    headers.get(HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost")
}

fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(location) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, location);
    }
    no_store(response)
}

/// Back to the page, which says what `why` means.
fn back_to_page(why: &str) -> Response {
    redirect(&format!("/?signin={why}"))
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn not_configured() -> Problem {
    Problem::not_found(
        Code::NoProvider,
        "this murphy has no identity provider configured (murphy serve --oidc-issuer ...); sign in with a token",
    )
}
