//! One function per endpoint. Each turns the wire into a domain request, and every
//! refusal into a `Problem` that says what went wrong and what to do.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use murphy_core::command::check_id;
use murphy_core::wire::{
    CommandResult, CommandsRequest, SectionView, SectionsAnswer, SectionsQuery, StudentView, TokenAnswer, TokenRequest,
};
use murphy_core::{Command, Unknown};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::App;
use super::line::Admitted;
use crate::auth::{Principal, hash_token, new_token};
use crate::catalog::{self, Ask, Encoding};
use crate::pipeline::{self, Answer, Refusal, RefusalKind, RulesRefusal, SubmitError, TokenRefusal};
use crate::problem::{Code, Problem};

const OPENAPI_JSON: &str = include_str!("../openapi.json");
/// Entries a `GET /api/v1/log` without `limit` returns.
const LOG_ENTRIES_DEFAULT: u64 = 1000;

pub(crate) async fn not_found() -> Problem {
    Problem::not_found(
        Code::NoSuchRoute,
        "there is no such endpoint; GET /api/v1/openapi.json lists them all",
    )
}

pub(crate) async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        Code::MethodNotAllowed,
        "this endpoint does not take that method; GET /api/v1/openapi.json lists what each one takes",
    )
}

/// `ok`, or `degraded: ...` saying what does not work (reads always do). Always `200`:
/// the process serves; a monitor reads the body. The store's own words (paths, hosts)
/// only with the admin token.
pub(crate) async fn healthz(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let admin = matches!(super::authenticate(&app, &headers, None), Ok(Principal::Admin));
    let body = match app.node.writer().and_then(|w| w.health().describe(admin)) {
        None => "ok".to_owned(),
        Some(what) => format!("degraded: {what}"),
    };
    ([(CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// `GET /api/v1/cluster`: this node's role, the lease's epoch, its version and the
/// primary's URL. No token: it is for operators and load balancers.
pub(crate) async fn cluster(State(app): State<Arc<App>>) -> Response {
    use crate::cluster::Role;
    use murphy_core::wire::ClusterView;
    let (role, epoch, primary) = match &*app.node.role() {
        Role::Primary { epoch: None, .. } => ("alone", 0, None),
        Role::Primary { epoch: Some(epoch), .. } => ("primary", *epoch, app.node.url()),
        Role::Secondary { primary, epoch } => ("secondary", *epoch, primary.clone()),
    };
    let view = ClusterView {
        node: app.node.url(),
        role: role.into(),
        epoch,
        version: app.node.snapshot().state.lsn(),
        primary,
        replication_behind_commands: app.metrics.replication_behind_commands(),
        rules: app.node.snapshot().state.rules(),
        rules_version_max: app.limits.rules_version_max,
    };
    let mut response = json_body(json(&view));
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(crate) async fn metrics(State(app): State<Arc<App>>) -> Response {
    use std::fmt::Write;
    let mut text = app.metrics.render(app.node.writer().map(|w| w.gauges()));
    app.auth_failures.render(&mut text);
    let _ = writeln!(
        text,
        "# HELP murphy_streams Live streams open.\n# TYPE murphy_streams gauge\nmurphy_streams {}",
        app.streams.shares.open()
    );
    let _ = writeln!(
        text,
        "# HELP murphy_stream_subscriptions Entities watched, summed over streams.\n\
         # TYPE murphy_stream_subscriptions gauge\nmurphy_stream_subscriptions {}",
        app.node.publisher().hub().subscriptions()
    );
    let _ = writeln!(
        text,
        "# HELP process_cpu_seconds_total CPU time of the process, user and system.\n\
         # TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total {:.3}",
        process_cpu_seconds()
    );
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The CPU time this process has used, user and system, in seconds.
fn process_cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the pointer it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

pub(crate) async fn openapi() -> Response {
    ([(CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

/// `GET /api/v1/sections`: the whole catalog (tagged by its version), or the page a
/// filter, `limit` and `cursor` ask for (tagged by what it shows), in the best coding
/// the client accepts.
pub(crate) async fn sections(
    State(app): State<Arc<App>>,
    _: Principal,
    headers: HeaderMap,
    query: Result<Query<SectionsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let bad = |detail: String| Problem::bad_request(Code::InvalidQuery, detail);
    let Query(query) = query.map_err(|e| {
        bad(format!(
            "{}; filter with course=, q=, open=true, days=, start=HH:MM, end=HH:MM, page with limit= and cursor=",
            e.body_text()
        ))
    })?;
    let ask = catalog::check(query).map_err(bad)?;
    let snapshot = app.node.snapshot();
    let state = &snapshot.state;
    let wanted = Encoding::accepted(&headers);
    Ok(match ask {
        Ask::Whole => {
            let version = state.catalog_version();
            catalog_answer(&app, &headers, &version.to_string(), wanted, || {
                let sections = state.sections().map(SectionView::from).collect();
                json(&SectionsAnswer {
                    version,
                    sections,
                    next: None,
                })
            })
        }
        Ask::Page(filter) => {
            let index = snapshot.index();
            // The page itself is read only when its bytes are not kept already.
            catalog_answer(&app, &headers, &index.tag(state, &filter), wanted, || {
                let page = index.page(state, &filter);
                json(&SectionsAnswer {
                    version: page.version(),
                    sections: page.sections.iter().map(|s| SectionView::from(*s)).collect(),
                    next: page.next.clone(),
                })
            })
        }
    })
}

/// A catalog answer tagged `tag`: `304` when the client has it (in any coding), else its
/// bytes in the coding `wanted`, made once and kept. Each coding's bytes are their own
/// representation, so their strong ETag says the coding (`"12-gzip"`).
fn catalog_answer(
    app: &App,
    headers: &HeaderMap,
    tag: &str,
    wanted: Encoding,
    json: impl FnOnce() -> String,
) -> Response {
    let etag = |coding: Encoding| match coding.token() {
        Some(token) => format!("\"{tag}-{token}\""),
        None => format!("\"{tag}\""),
    };
    let mut response = if client_has(headers, &etag(Encoding::Identity)) {
        let mut response = (StatusCode::NOT_MODIFIED, Body::empty()).into_response();
        set_etag(&mut response, &etag(wanted));
        response
    } else {
        let (bytes, coding) = app.catalog.get(tag, wanted, json);
        let mut response = ([(CONTENT_TYPE, "application/json")], bytes).into_response();
        if let Some(token) = coding.token() {
            response
                .headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static(token));
        }
        set_etag(&mut response, &etag(coding));
        response
    };
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// The `{id}` of a path, with a problem (not axum's plain text) when it cannot be read.
pub(crate) struct IdPath(String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IdPath {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Problem> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(IdPath(id)),
            Err(e) => Err(Problem::bad_request(
                Code::InvalidPath,
                format!("{}; ids are plain text such as COMSCI-35L-1", e.body_text()),
            )),
        }
    }
}

pub(crate) async fn section(
    State(app): State<Arc<App>>,
    _: Principal,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> Response {
    let snapshot = app.node.snapshot();
    let Some(section) = snapshot.state.section(&id) else {
        return no_such(Unknown::Section(id)).into_response();
    };
    cached(&headers, section.version, || json(&SectionView::from(section)))
}

pub(crate) async fn student(
    State(app): State<Arc<App>>,
    principal: Principal,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> Response {
    if !principal.may_act_as(&id) {
        return Problem::forbidden(format!("a student token reads only its own student, not {id}")).into_response();
    }
    let snapshot = app.node.snapshot();
    let Some(student) = snapshot.state.student(&id) else {
        return no_such(Unknown::Student(id)).into_response();
    };
    cached(&headers, student.version, || {
        json(&StudentView::new(student, &snapshot.state))
    })
}

pub(crate) async fn create_token(
    Writer(writer): Writer,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    if principal != Principal::Admin {
        return Err(Problem::forbidden("only the registrar (admin token) issues tokens"));
    }
    let request: TokenRequest = parse_body(body, r#"{"student": "s0001"}"#)?;
    check_id("student", &request.student).map_err(|e| Problem::bad_request(Code::InvalidRequest, e))?;
    let token = new_token("mst_");
    match writer
        .mint_token(request.student.clone(), hash_token(&token))
        .await
        .map_err(submit_problem)?
    {
        Ok(()) => Ok((
            StatusCode::CREATED,
            json_body(json(&TokenAnswer {
                student: request.student,
                token,
            })),
        )
            .into_response()),
        Err(TokenRefusal::Unknown(unknown)) => Err(no_such(unknown)),
        Err(TokenRefusal::Refused(refusal)) => Err(refused(&refusal)),
    }
}

/// The write pipeline, on the primary. The front door has already shed the write if
/// the pipeline had no room for it in time (`http::door`); on a node that is not the
/// primary (a write that arrived as the role changed: others are passed on before) it
/// is `503`.
pub(crate) struct Writer(pipeline::Handle);

impl axum::extract::FromRequestParts<Arc<App>> for Writer {
    type Rejection = Problem;

    async fn from_request_parts(_: &mut axum::http::request::Parts, app: &Arc<App>) -> Result<Self, Problem> {
        match app.node.writer() {
            Some(writer) => Ok(Writer(writer)),
            None => Err(Problem::unavailable(
                Code::NotPrimary,
                "this node is not the primary right now; nothing of this request was applied. Retry shortly: \
                 any node passes writes to the primary",
            )),
        }
    }
}

pub(crate) async fn commands(
    State(app): State<Arc<App>>,
    Writer(writer): Writer,
    Admitted(principal): Admitted,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let request: CommandsRequest = parse_body(
        body,
        r#"{"commands": [{"type": "enroll", "student": "s0001", "section": "COMSCI-35L-1"}]}"#,
    )?;
    check_commands(&request, &principal, app.limits.request_commands_max)?;
    for command in &request.commands {
        if let Command::UpgradeRules { rules } = command {
            check_upgrade(&app, *rules).await?;
        }
    }
    let session = request.client.zip(request.seq);
    let answer = writer
        .submit(principal.owner().to_owned(), session, request.commands)
        .await;
    let results = match answer.map_err(submit_problem)? {
        Answer::Results(json) => json.to_string(),
        Answer::InLog { first_lsn, last_lsn } => {
            stored_results(&app, first_lsn, last_lsn, principal == Principal::Admin).await?
        }
        Answer::Unknown(unknown) => return Err(no_such(unknown)),
        Answer::Rules(refusal) => return Err(rules_problem(&refusal)),
        Answer::Gap { expected, got } => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                Code::SessionGap,
                format!(
                    "seq {got} arrived but this session's next is {expected}; send seq {expected} first, then retry"
                ),
            ));
        }
        Answer::NotOwner => {
            return Err(Problem::forbidden(
                "this client id belongs to another user's session; pick another client id",
            ));
        }
        Answer::Expired => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                Code::SessionExpired,
                format!(
                    "this session has expired: it was idle for over {} s, or its owner opened more than {} \
                     sessions since and it was the least recently used; nothing of this request was applied. \
                     Start a new session (a new client id, seq 1); the log tells whether an earlier request applied",
                    app.limits.session_idle_time_max.as_secs(),
                    app.limits.sessions_per_owner_max
                ),
            ));
        }
        Answer::Forgotten { oldest, got } => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                Code::SessionSeqForgotten,
                format!(
                    "seq {got} is older than the requests this session remembers (from seq {oldest} on); \
                     it was applied once, and its outcome is in the log"
                ),
            ));
        }
        Answer::TooManySessions => {
            return Err(Problem::unavailable(
                Code::TooManySessions,
                "the server holds as many sessions as it may; retry shortly, or send the request without client and seq",
            ));
        }
        Answer::Refused(refusal) => return Err(refused(&refusal)),
        Answer::ShuttingDown => return Err(submit_problem(SubmitError::Stopped)),
    };
    Ok(json_body(format!("{{\"results\":{results}}}")))
}

/// An upgrade is refused while a live node of the cluster runs a binary that does not
/// know the version: it could not replay the log past the upgrade. Checked against
/// the nodes' registrations just before the upgrade is sent to the loop; a node that
/// starts in between meets the upgrade in the log and stops, saying why. This node's
/// own binary is checked by the loop (`RulesRefusal::UpgradeUnknown`).
async fn check_upgrade(app: &App, rules: murphy_core::RulesVersion) -> Result<(), Problem> {
    let Some(members) = app.node.members() else {
        return Ok(());
    };
    let within = app.limits.lease_time_max * crate::cluster::MEMBER_LEASES_LIVE;
    let live = tokio::task::spawn_blocking(move || members.live(within))
        .await
        .map_err(|e| Problem::internal(format!("reading the cluster's nodes failed: {e}")))?
        .map_err(|e| {
            Problem::unavailable(
                Code::StorageUnavailable,
                format!("the cluster's nodes could not be read, so the upgrade was not made: {e}; retry shortly"),
            )
        })?;
    match live.iter().find(|m| m.rules_version_max < rules) {
        Some(old) => Err(Problem::new(
            StatusCode::CONFLICT,
            Code::UpgradeRefused,
            format!(
                "the node at {} runs a murphy that knows rules up to version {}, so the cluster cannot move to \
                 version {rules}; restart it on a murphy that knows version {rules}, then upgrade again",
                old.url, old.rules_version_max
            ),
        )),
        None => Ok(()),
    }
}

fn rules_problem(refusal: &RulesRefusal) -> Problem {
    match refusal {
        RulesRefusal::CommandTooNew { kind, since, current } => Problem::new(
            StatusCode::CONFLICT,
            Code::RulesNotFinalized,
            format!(
                "{kind} needs rules version {since}, and the cluster is at version {current}; nothing was \
                 applied. Once every node runs a murphy that knows version {since}, finalize the upgrade \
                 (murphy admin upgrade), then retry"
            ),
        ),
        RulesRefusal::UpgradeUnknown { asked, known } => Problem::new(
            StatusCode::CONFLICT,
            Code::UpgradeRefused,
            format!(
                "this node's murphy knows rules up to version {known}, not {asked}; nothing was applied. Run \
                 a murphy that knows version {asked} on every node, then upgrade again"
            ),
        ),
    }
}

/// Shape and permission checks, before anything reaches the loop.
fn check_commands(request: &CommandsRequest, principal: &Principal, commands_max: usize) -> Result<(), Problem> {
    let bad = |detail: String| Problem::bad_request(Code::InvalidRequest, detail);
    if request.commands.is_empty() || request.commands.len() > commands_max {
        return Err(bad(format!(
            "send 1 to {commands_max} commands; this request has {}",
            request.commands.len()
        )));
    }
    match (&request.client, request.seq) {
        (None, None) => {}
        (Some(client), Some(seq)) => {
            check_id("client", client).map_err(bad)?;
            if seq == 0 {
                return Err(bad("seq starts at 1".into()));
            }
        }
        _ => return Err(bad("client and seq go together: send both or neither".into())),
    }
    for (i, command) in request.commands.iter().enumerate() {
        command.validate().map_err(|e| bad(format!("command {i}: {e}")))?;
        match (principal, command.acting_student()) {
            (Principal::Admin, _) => {}
            (Principal::Student(me), Some(student)) if me == student => {}
            (Principal::Student(_), Some(_)) => {
                return Err(Problem::forbidden(format!(
                    "command {i} ({}) acts for someone else; a student token acts only for its own student",
                    command.kind()
                )));
            }
            (Principal::Student(_), None) => {
                return Err(Problem::forbidden(format!(
                    "command {i} ({}) is the registrar's: it needs the admin token",
                    command.kind()
                )));
            }
        }
    }
    Ok(())
}

/// The answer of an earlier request of a session, read back from the durable log.
async fn stored_results(app: &App, first_lsn: u64, last_lsn: u64, registrar: bool) -> Result<String, Problem> {
    let store = app.store.clone();
    let entries = tokio::task::spawn_blocking(move || store.log(first_lsn - 1, last_lsn - first_lsn + 1))
        .await
        .map_err(|e| Problem::internal(format!("reading the log failed: {e}")))?
        .map_err(|e| Problem::internal(format!("reading the log failed: {e}")))?;
    let results: Vec<CommandResult> = entries.iter().map(CommandResult::of).collect();
    Ok(CommandResult::answer_json(&results, registrar))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogQuery {
    /// Any u64, as `/api/v1/events` takes: past the last LSN there are no entries.
    #[serde(default)]
    after: u64,
    limit: Option<u64>,
}

pub(crate) async fn log(
    State(app): State<Arc<App>>,
    principal: Principal,
    query: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    if principal != Principal::Admin {
        return Err(Problem::forbidden("only the registrar (admin token) reads the log"));
    }
    let Query(query) = query
        .map_err(|e| Problem::bad_request(Code::InvalidQuery, format!("{}; use ?after=LSN&limit=N", e.body_text())))?;
    let max = app.limits.log_entries_max;
    let limit = query.limit.unwrap_or(LOG_ENTRIES_DEFAULT.min(max));
    if limit == 0 || limit > max {
        return Err(Problem::bad_request(
            Code::InvalidQuery,
            format!("limit must be between 1 and {max}"),
        ));
    }
    let store = app.store.clone();
    let entries = tokio::task::spawn_blocking(move || store.log(query.after, limit))
        .await
        .map_err(|e| Problem::internal(format!("reading the log failed: {e}")))?
        .map_err(|e| Problem::internal(format!("reading the log failed: {e}")))?;
    let mut body = String::with_capacity(entries.len() * 200);
    for entry in &entries {
        body.push_str(&serde_json::to_string(entry).expect("log entries serialize"));
        body.push('\n');
    }
    Ok(([(CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// Parses a JSON body, turning every failure into a `400`/`413` that shows an example.
fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>, example: &str) -> Result<T, Problem> {
    let body = body.map_err(|e| {
        let detail = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            format!(
                "the request body is over the server's limit ({}); send a smaller one",
                e.body_text()
            )
        } else {
            format!("the request body could not be read: {}", e.body_text())
        };
        Problem::new(e.status(), Code::BadBody, detail)
    })?;
    serde_json::from_slice(&body).map_err(|e| {
        let code = if e.is_syntax() || e.is_eof() {
            Code::MalformedJson
        } else {
            Code::InvalidRequest
        };
        Problem::bad_request(
            code,
            format!("the body was not understood: {e}. A valid body looks like {example}"),
        )
    })
}

fn submit_problem(error: SubmitError) -> Problem {
    match error {
        SubmitError::Overloaded => Problem::unavailable(
            Code::Overloaded,
            "the server has more writes than it can answer in time; nothing of this request was applied. \
             Retry after a second (with the same client and seq, a retry applies once)",
        ),
        SubmitError::Stopped => Problem::unavailable(Code::Stopping, "the server is shutting down; retry shortly"),
    }
}

/// The store refuses writes: `503` that says why, what was applied (nothing), and when
/// to try again.
fn refused(refusal: &Refusal) -> Problem {
    match refusal.kind {
        RefusalKind::Deposed => Problem::unavailable(
            Code::NotPrimary,
            format!(
                "this node is no longer the primary ({}); nothing of this request was applied here. Retry: \
                 any node passes writes to the new primary (with the same client and seq, a retry applies once)",
                refusal.reason
            ),
        ),
        RefusalKind::OutcomeUnknown => Problem::unavailable(
            Code::OutcomeUnknown,
            format!(
                "the database did not confirm this write ({}): it may or may not have been applied. Retry with \
                 the same client and seq: the retry is answered from the log if it was, and applied once if not",
                refusal.reason
            ),
        ),
        RefusalKind::Unavailable => Problem::unavailable(
            Code::StorageUnavailable,
            format!(
                "the server cannot store writes now ({}); nothing of this request was applied, and \
                 reads still work. Writes resume by themselves once the store works again: retry \
                 later (with the same client and seq, a retry applies once)",
                refusal.reason
            ),
        ),
        RefusalKind::Failed => Problem {
            retry_after_seconds: None,
            ..Problem::unavailable(
                Code::StorageFailed,
                format!(
                    "the store failed in a way that leaves its last writes in doubt ({}); nothing of \
                     this request was applied, and writes stay refused until the server is restarted, \
                     which recovers from the log. Reads still work",
                    refusal.reason
                ),
            )
        },
    }
}

fn no_such(unknown: Unknown) -> Problem {
    match unknown {
        Unknown::Section(id) => Problem::not_found(
            Code::NoSuchSection,
            format!("there is no section {id}; GET /api/v1/sections lists them"),
        ),
        Unknown::Student(id) => Problem::not_found(Code::NoSuchStudent, format!("there is no student {id}")),
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("views serialize")
}

fn json_body(body: String) -> Response {
    ([(CONTENT_TYPE, "application/json")], body).into_response()
}

/// Whether the client already has the representation tagged `etag`: its
/// `If-None-Match` lists that tag (weak or strong, as RFC 9110 compares them) or `*`.
/// A tag of the same content in another coding (`"12-gzip"` for `"12"`) counts: the
/// client has the content, and a `304` tells it so.
pub(super) fn client_has(headers: &HeaderMap, etag: &str) -> bool {
    let content = |tag: &str| -> String {
        let tag = tag.trim_start_matches("W/").trim_matches('"');
        let tag = ["-gzip", "-br"]
            .iter()
            .fold(tag, |t, suffix| t.strip_suffix(suffix).unwrap_or(t));
        tag.to_owned()
    };
    let wanted = content(etag);
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || content(tag) == wanted)
}

fn set_etag(response: &mut Response, etag: &str) {
    let h = response.headers_mut();
    h.insert(ETAG, HeaderValue::from_str(etag).expect("tags are ASCII"));
    // Caches may keep the answer but must revalidate it: the ETag makes that cheap.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

/// A read with a strong ETag `"<version>"`: `304` with no body when the client has it.
fn cached(headers: &HeaderMap, version: u64, body: impl FnOnce() -> String) -> Response {
    let etag = format!("\"{version}\"");
    let mut response = if client_has(headers, &etag) {
        (StatusCode::NOT_MODIFIED, Body::empty()).into_response()
    } else {
        json_body(body())
    };
    set_etag(&mut response, &etag);
    response
}

/// `GET /api/v1/me`: whom the token speaks for. Any valid token may ask; a missing or
/// unknown one gets the usual `401` problems from the `Principal` extractor.
pub(crate) async fn me(principal: Principal) -> Response {
    use murphy_core::wire::MeAnswer;
    let answer = match principal {
        Principal::Admin => MeAnswer::Admin { admin: true },
        Principal::Student(student) => MeAnswer::Student { student },
    };
    let mut response = json_body(json(&answer));
    // The answer depends only on the Authorization header, which shared caches key
    // nothing on: keep it out of them.
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
