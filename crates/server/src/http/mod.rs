//! The HTTP API v1 of docs/DESIGN.md §4. Reads are answered from the latest published
//! snapshot and never wait for the loop; writes go to the loop over its bounded queue.

pub(crate) mod cluster;
mod door;
mod events;
pub(crate) mod failures;
mod handlers;
pub(crate) mod line;
mod listener;
mod signin;
mod web;

pub(crate) use door::Door;
pub(crate) use door::sojourn::now_ns;
pub(crate) use events::Streams;

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
    /// Live streams' shares and tickets.
    pub(crate) streams: events::Streams,
    /// The catalog's answers, made and compressed once per content.
    pub(crate) catalog: crate::catalog::Bodies,
    /// Becomes `true` when the server starts shutting down: long-lived streams end.
    pub(crate) stopping: tokio::sync::watch::Receiver<bool>,
    /// Failed authentications per client address, and their slowing.
    pub(crate) auth_failures: failures::AuthFailures,
    /// Signs and checks the page's session cookie.
    pub(crate) signer: crate::cookie::Signer,
    /// The identity provider, when one is configured.
    pub(crate) oidc: Option<crate::oidc::Oidc>,
}

/// The whole API as a `Router`, so tests can drive it without a socket.
pub(crate) fn router(app: Arc<App>) -> Router {
    // `guard` holds every body to its caller's limit before a handler reads it.
    let body_limit = app.limits.body_bytes_max_largest();
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
        .route("/api/v1/events/ticket", post(events::ticket))
        .route("/auth/config", get(signin::config))
        .route("/auth/token", post(signin::token))
        .route("/auth/sign-out", post(signin::sign_out))
        .route("/auth/oidc", get(signin::oidc_start))
        .route("/auth/oidc/callback", get(signin::oidc_callback))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::map_response(security_headers))
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
            (io, peer) = listener.accept() => {
                // The door decides first; every request it admits knows its client's
                // address (failed authentications are counted per address).
                let service = door::Front::new(router.clone(), app.clone(), io.arrivals(), io.slot(), peer);
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

/// Guards every request the front door (`door`) admitted: slows failed sign-ins per
/// address, refuses cross-site writes, bounds the body's time and the request's, and
/// counts every response. A body declared larger than the limit is refused at once: waiting for it would only spend
/// the client's bandwidth and a connection, and shedding it with `503` would ask for a
/// retry that can never succeed.
async fn guard(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let limit = app.limits.request_time_max;
    let peer = request.extensions().get::<failures::PeerAddr>().map(|p| p.0.ip());
    let credentials = carries_credentials(&request);
    let slot = request.extensions().get::<Arc<door::Slot>>().cloned();
    if credentials && let Err(wait) = app.auth_failures.admit(peer) {
        return answered(&app, too_many_failures(wait).into_response());
    }
    if let Some(problem) = cross_site(&request) {
        return answered(&app, problem.into_response());
    }
    let bytes_max = body_bytes_max(&app, &request);
    if let Some(problem) = declared_too_large(&request, bytes_max) {
        linger(request, app.limits.request_body_time_max).await;
        // The connection cannot carry another request: its body may be partly unread.
        return answered(&app, closing(problem.into_response()));
    }
    let request = match read_body(&app.limits, bytes_max, request).await {
        Ok(request) => request,
        Err(problem) => return answered(&app, closing(problem.into_response())),
    };
    let response = match within(limit, next.run(request)).await {
        Some(response) => response,
        None => Problem::unavailable(
            Code::Timeout,
            format!(
                "the request took longer than {} ms; retry it (with the same client and seq, it applies once)",
                limit.as_millis()
            ),
        )
        .into_response(),
    };
    if credentials && response.status() == StatusCode::UNAUTHORIZED {
        app.auth_failures.failed(peer);
    }
    // The door asked this connection to close (its student holds more than a share).
    if slot.is_some_and(|slot| slot.closing()) {
        return answered(&app, closing(response));
    }
    answered(&app, response)
}

/// How late past its deadline a request's timer may fire before murphy takes it that
/// the process itself was not running (paused, say, by SIGSTOP or a frozen VM).
const STALL_LATENESS_MIN: std::time::Duration = std::time::Duration::from_millis(500);

/// `answer`, if it comes within `limit`. Time the process was stopped does not count:
/// a timer that fires well past its deadline means murphy itself did not run, and the
/// request, which may be mid-write, is given `limit` again to get its real answer (a
/// primary paused past its lease answers `not_primary` once it learns it was
/// deposed, not a `timeout` that leaves the client guessing).
async fn within(limit: std::time::Duration, answer: impl Future<Output = Response>) -> Option<Response> {
    tokio::pin!(answer);
    let deadline = tokio::time::Instant::now() + limit;
    match tokio::time::timeout_at(deadline, &mut answer).await {
        Ok(response) => Some(response),
        Err(_) if deadline.elapsed() > STALL_LATENESS_MIN => tokio::time::timeout(limit, answer).await.ok(),
        Err(_) => None,
    }
}

/// Counts `response` among the answers given.
fn answered(app: &App, response: Response) -> Response {
    app.metrics.response(response.status().as_u16());
    response
}

/// `response`, with the connection closed after it.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CONNECTION, axum::http::HeaderValue::from_static("close"));
    response
}

/// Whether the request offers a credential (a token in a header or the query), so that
/// its `401` is a failed authentication, not a forgotten one.
fn carries_credentials(request: &Request) -> bool {
    request.headers().contains_key(AUTHORIZATION)
        || request.uri().query().is_some_and(|q| q.contains("access_token="))
        || crate::cookie::find(request.headers(), crate::cookie::SESSION_COOKIE).is_some()
        || request.uri().path() == "/auth/token"
}

fn too_many_failures(wait: std::time::Duration) -> Problem {
    Problem {
        retry_after_seconds: Some(wait.as_secs() + 1),
        ..Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            Code::TooManyAuthFailures,
            format!(
                "too many failed sign-ins from your address; no credential from it is checked for {} s. \
                 Check your token (the registrar issues them), then try again",
                wait.as_secs() + 1
            ),
        )
    }
}

/// The largest body `request` may carry: `import_body_bytes_max` for the registrar's
/// commands (an import is one command however large, so it cannot be split), and
/// `request_body_bytes_max` for everything and everyone else, decided before a byte of
/// the body is read.
fn body_bytes_max(app: &App, request: &Request) -> usize {
    let registrars = request.method() == axum::http::Method::POST
        && request.uri().path() == "/api/v1/commands"
        && matches!(authenticate(app, request.headers(), None), Ok(Principal::Admin));
    if registrars {
        app.limits.body_bytes_max_largest()
    } else {
        app.limits.request_body_bytes_max
    }
}

/// The request with its body read whole (at most `bytes_max`), within
/// `request_body_time_max`: a client that trickles its body is answered `408` and cut
/// off, so it holds no request slot, and the answer does not invite a retry of
/// something that was never received.
async fn read_body(limits: &Limits, bytes_max: usize, request: Request) -> Result<Request, Problem> {
    let has_body = request.headers().contains_key(axum::http::header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if !has_body {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let time_max = limits.request_body_time_max;
    let read = axum::body::to_bytes(body, bytes_max);
    match tokio::time::timeout(time_max, read).await {
        Ok(Ok(bytes)) => Ok(Request::from_parts(parts, axum::body::Body::from(bytes))),
        Ok(Err(e)) => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            Code::BadBody,
            format!(
                "the request body could not be read whole ({e}); it may be over the server's limit of \
                 {bytes_max} bytes. Nothing was applied"
            ),
        )),
        Err(_) => Err(Problem::new(
            StatusCode::REQUEST_TIMEOUT,
            Code::BodyTimeout,
            format!(
                "the request body did not arrive within {} ms of its headers; nothing was applied. Send it \
                 at once, as one request",
                time_max.as_millis()
            ),
        )),
    }
}

/// Headers every answer carries: its content type is what it says (`nosniff`), no
/// page of another site may frame it, and no URL of murphy's leaks in a `Referer`. An
/// answer that is not the page (JSON, problems, metrics) may load nothing at all.
async fn security_headers(mut response: Response) -> Response {
    use axum::http::HeaderValue;
    use axum::http::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
    let h = response.headers_mut();
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // For browsers older than CSP's frame-ancestors.
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(CONTENT_SECURITY_POLICY) {
        h.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    response
}

/// The most of a refused body read and thrown away so that its client can read the `413`.
const LINGER_BYTES_MAX: u64 = 4 << 20;
/// How long a refused body may pause before the `413` goes without waiting for the rest.
const LINGER_IDLE_TIME_MAX: std::time::Duration = std::time::Duration::from_millis(100);

/// Reads and discards a refused body while it keeps arriving, up to `LINGER_BYTES_MAX`
/// and `time_max` (a "lingering close", as web servers do): closing a socket with unread
/// bytes in it sends a reset, and a client still sending its body could lose the `413`
/// with it. A body that does not come (a client that waits for `100 Continue`, or a slow
/// one) is not waited for past `LINGER_IDLE_TIME_MAX`.
async fn linger(request: Request, time_max: std::time::Duration) {
    use futures_util::StreamExt as _;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let expects_continue = request.headers().contains_key(axum::http::header::EXPECT);
    if expects_continue || declared.is_none_or(|bytes| bytes > LINGER_BYTES_MAX) {
        return;
    }
    let mut body = request.into_body().into_data_stream();
    let drain = async {
        let mut bytes_read: u64 = 0;
        while let Ok(Some(Ok(data))) = tokio::time::timeout(LINGER_IDLE_TIME_MAX, body.next()).await {
            bytes_read += data.len() as u64;
            if bytes_read > LINGER_BYTES_MAX {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(time_max, drain).await;
}

/// `413` for a request whose `Content-Length` is over `bytes_max`.
fn declared_too_large(request: &Request, bytes_max: usize) -> Option<Problem> {
    let declared: u64 = request.headers().get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()?;
    (declared > bytes_max as u64).then(|| {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::BadBody,
            format!(
                "the request body is {declared} bytes, over the server's limit of {bytes_max}; nothing was \
                 applied. Send a smaller one (split the commands over several requests; an import, which is \
                 one command, fits the registrar's import_body_bytes_max)"
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
/// where an endpoint accepts one, or else from the page's session cookie (which a
/// same-origin `EventSource` sends too).
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
        (None, None) if let Some(session) = crate::cookie::find(headers, crate::cookie::SESSION_COOKIE) => {
            return from_cookie(app, session);
        }
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

/// The principal of a session cookie, if this server signed it and it is current.
fn from_cookie(app: &App, value: &str) -> Result<Principal, Problem> {
    use crate::cookie::Refused;
    match app.signer.principal(value, time::OffsetDateTime::now_utc()) {
        Ok(principal) => Ok(principal),
        Err(Refused::Expired) => Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            Code::SignInExpired,
            "your sign-in has expired; sign in again",
        )),
        Err(Refused::Invalid) => Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            Code::SignInInvalid,
            "your sign-in cookie was not made by this server (or was changed); sign in again",
        )),
    }
}

/// A request the page's cookie would authenticate (or one that signs in) must come
/// from murphy's own page: a browser sends `Origin` with every such request, and it
/// must name the host the request was sent to. `SameSite=Strict` already keeps the
/// cookie off other sites' requests; this also refuses a sibling origin on the same
/// site (another port of the same host) and a sign-in forced on a visitor.
fn cross_site(request: &Request) -> Option<Problem> {
    use axum::http::Method;
    if [Method::GET, Method::HEAD, Method::OPTIONS].contains(request.method()) {
        return None;
    }
    let headers = request.headers();
    let by_cookie =
        !headers.contains_key(AUTHORIZATION) && crate::cookie::find(headers, crate::cookie::SESSION_COOKIE).is_some();
    let signing_in = request.uri().path().starts_with("/auth/");
    if !by_cookie && !signing_in {
        return None;
    }
    let origin = headers.get(axum::http::header::ORIGIN).and_then(|o| o.to_str().ok());
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok());
    let same = match (origin, host) {
        (Some(origin), Some(host)) => origin.split_once("://").is_some_and(|(_, rest)| rest == host),
        // No browser sends a cookie-authenticated write without `Origin`; a program
        // signing in with a token (no cookie yet) may.
        (None, _) => !by_cookie,
        (Some(_), None) => false,
    };
    (!same).then(|| {
        Problem::forbidden(
            "this request came from a page that is not murphy's (its Origin is another site's), so the \
             sign-in cookie does not count for it: cross-site requests are refused. Use murphy's own page",
        )
        .with_code(Code::CrossSite)
    })
}

/// The token of an `Authorization` value `Bearer <token>`. The scheme's name is
/// case-insensitive (RFC 9110, section 11.1): `bearer x` is the same credential.
pub(crate) fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}
