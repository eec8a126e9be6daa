//! The HTTP API v1 of docs/DESIGN.md §4. Reads are answered from the latest published
//! snapshot and never wait for the loop; writes go to the loop over its bounded queue.

pub(crate) mod cluster;
mod door;
mod events;
mod handlers;
pub(crate) mod line;
mod listener;
mod web;

pub(crate) use door::Door;
pub(crate) use door::sojourn::now_ns;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, CONNECTION, CONTENT_LENGTH};
use axum::http::{HeaderMap, StatusCode, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::auth::{Principal, TokenHash, hash_token};
use crate::config::Limits;
use crate::metrics::Metrics;
use crate::problem::{Code, Problem};

/// What every handler shares.
pub(crate) struct App {
    /// What this node serves: its published state, and its role (whether it writes).
    pub(crate) node: Arc<crate::cluster::Node>,
    /// Passes requests on to the primary, on a secondary.
    pub(crate) forwarder: reqwest::Client,
    /// The store, for what only the log holds (old answers, the log itself).
    pub(crate) store: Arc<dyn murphy_store::Backend>,
    pub(crate) admin_token_hash: TokenHash,
    pub(crate) limits: Limits,
    pub(crate) metrics: Arc<Metrics>,
    /// Decides which requests and connections are taken.
    pub(crate) door: Arc<door::Door>,
    /// The waiting room, kept on the primary.
    pub(crate) room: Arc<crate::line::Room>,
    /// Becomes `true` when the server starts shutting down: long-lived streams end.
    pub(crate) stopping: tokio::sync::watch::Receiver<bool>,
}

/// The whole API as a `Router`, so tests can drive it without a socket.
pub(crate) fn router(app: Arc<App>) -> Router {
    let body_limit = app.limits.request_body_bytes_max;
    Router::new()
        .merge(web::routes())
        .route("/healthz", get(handlers::healthz))
        .route("/metrics", get(handlers::metrics))
        .route("/api/v1/openapi.json", get(handlers::openapi))
        .route("/api/v1/cluster", get(handlers::cluster))
        .route("/api/v1/me", get(handlers::me))
        .route("/api/v1/tokens", post(handlers::create_token))
        .route("/api/v1/sections", get(handlers::sections))
        .route("/api/v1/sections/{id}", get(handlers::section))
        .route("/api/v1/students/{id}", get(handlers::student))
        .route("/api/v1/commands", post(handlers::commands))
        .route("/api/v1/line", get(line::poll).post(line::join))
        .route("/api/v1/log", get(handlers::log))
        .route("/api/v1/events", get(events::events))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(app.clone(), cluster::route))
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Serves the API of `app` on `listener` until `stop` resolves, then stops accepting and
/// waits for the open connections to finish their requests. Each connection is HTTP/1.1
/// with keep-alive, and a client gets `header_read_time_max` to send a request's
/// headers, so a slow trickle of bytes cannot hold a connection slot. Every request
/// passes the front door (`door`) before the router.
pub(crate) async fn serve(listener: tokio::net::TcpListener, app: Arc<App>, stop: impl Future<Output = ()>) {
    use axum::serve::Listener as _;
    let mut listener = listener::LimitedListener::new(listener, app.door.clone(), app.limits.connection_idle_time_max);
    let router = router(app.clone());
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(app.limits.header_read_time_max);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            (io, _) = listener.accept() => {
                let service = door::Front::new(router.clone(), app.clone(), io.arrivals(), io.slot());
                let connection = graceful.watch(http.serve_connection(hyper_util::rt::TokioIo::new(io), service));
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!("connection ended: {e}");
                    }
                });
            }
            () = &mut stop => break,
        }
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Bounds every request's time and counts every response. A body declared larger than
/// the limit is refused before anything else, at once: waiting for it would only spend
/// the client's bandwidth and a connection, and shedding it with `503` would ask for a
/// retry that can never succeed.
async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let limit = app.limits.request_time_max;
    if let Some(problem) = declared_too_large(&request, app.limits.request_body_bytes_max) {
        app.metrics.response(problem.status.as_u16());
        let mut response = problem.into_response();
        // The body is left unread: the connection cannot carry another request.
        response
            .headers_mut()
            .insert(CONNECTION, axum::http::HeaderValue::from_static("close"));
        return response;
    }
    let slot = request.extensions().get::<Arc<door::Slot>>().cloned();
    let mut response = match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::unavailable(
            Code::Timeout,
            format!(
                "the request took longer than {} ms; retry it (with the same client and seq, it applies once)",
                limit.as_millis()
            ),
        )
        .into_response(),
    };
    if slot.is_some_and(|slot| slot.closing()) {
        response
            .headers_mut()
            .insert(CONNECTION, axum::http::HeaderValue::from_static("close"));
    }
    app.metrics.response(response.status().as_u16());
    response
}

/// `413` for a request whose `Content-Length` is over `bytes_max`.
fn declared_too_large(request: &Request, bytes_max: usize) -> Option<Problem> {
    let declared: u64 = request.headers().get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()?;
    (declared > bytes_max as u64).then(|| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::BadBody,
            format!(
                "the request body is {declared} bytes, over the server's limit of {bytes_max}; nothing was read \
                 or applied. Send a smaller one (split the commands over several requests)"
            ),
        )
    })
}

impl FromRequestParts<Arc<App>> for Principal {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Problem> {
        let principal = authenticate(app, &parts.headers, None)?;
        count_connection(app, &parts.extensions, &principal)?;
        Ok(principal)
    }
}

/// Counts the request's connection against its student's share of connections, now
/// that it is known whose it is; past the share the request is refused and the
/// connection closes after the answer.
pub(crate) fn count_connection(
    app: &App,
    extensions: &axum::http::Extensions,
    principal: &Principal,
) -> Result<(), Problem> {
    match (principal, extensions.get::<Arc<door::Slot>>()) {
        (Principal::Student(student), Some(slot)) => app.door.student_share(slot, student),
        _ => Ok(()),
    }
}

/// The caller's principal from `Authorization: Bearer <token>`, or else from `query_token`
/// where an endpoint accepts one (a browser's `EventSource` cannot set headers).
pub(crate) fn authenticate(app: &App, headers: &HeaderMap, query_token: Option<&str>) -> Result<Principal, Problem> {
    let unauthorized = |code, detail: &str| Problem::new(StatusCode::UNAUTHORIZED, code, detail);
    let mut authorizations = headers.get_all(AUTHORIZATION).iter();
    let authorization = authorizations.next();
    if authorizations.next().is_some() {
        return Err(Problem::bad_request(
            Code::InvalidHeader,
            "this request has more than one Authorization header; send exactly one, `Authorization: Bearer <token>`",
        ));
    }
    let token = match (authorization, query_token) {
        (Some(header), _) => header.to_str().ok().and_then(bearer),
        (None, Some(token)) => Some(token),
        (None, None) => {
            return Err(unauthorized(
                Code::MissingToken,
                "this endpoint needs an `Authorization: Bearer <token>` header; the registrar issues tokens",
            ));
        }
    };
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(unauthorized(
            Code::MalformedToken,
            "the Authorization header must read `Bearer <token>`",
        ));
    };
    let hash = hash_token(token);
    if hash == app.admin_token_hash {
        return Ok(Principal::Admin);
    }
    match app.node.snapshot().tokens.get(&hash) {
        Some(student) => Ok(Principal::Student(student.clone())),
        None => Err(unauthorized(
            Code::InvalidToken,
            "this token is not valid; check it, or ask the registrar for a new one",
        )),
    }
}

/// The token of an `Authorization` value `Bearer <token>`. The scheme's name is
/// case-insensitive (RFC 9110, section 11.1): `bearer x` is the same credential.
pub(crate) fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}
