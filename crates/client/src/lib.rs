//! A typed Rust client for murphy's HTTP API v1. Every call returns the wire types of
//! `murphy_core::wire`, and every refusal of the server arrives as `Error::Problem` with
//! the server's `code` and `detail`.
//!
//! On top of `Client`: `Session` (exactly-once writes with retries, `session.rs`),
//! `CachingClient` (ETag revalidation in memory or on disk, `cache.rs`) and
//! `EventStream` (live seat counts, `events.rs`).

mod cache;
mod events;
mod session;
mod throttle;

pub use cache::{Cached, CachingClient, Freshness, Source};
pub use events::EventStream;
pub use session::{RetryPolicy, Session};
pub use throttle::{THROTTLE_ACCEPTS_MULTIPLE, THROTTLE_WINDOW, Throttle};

use murphy_core::wire::{
    CommandsAnswer, CommandsRequest, LineAnswer, LineRequest, MeAnswer, ProblemBody, SectionView, SectionsAnswer,
    SectionsQuery, StudentView, TokenAnswer, TokenRequest,
};
use murphy_core::{Command, LogEntry};
use reqwest::header::{AUTHORIZATION, ETAG, IF_NONE_MATCH};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request did not get an HTTP answer (refused, reset, timed out).
    #[error("no answer from the server: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server answered with an `application/problem+json` refusal.
    #[error("{status} {code}: {detail}")]
    Problem {
        status: u16,
        code: String,
        detail: String,
        retry_after_seconds: Option<u64>,
        /// For `in_line` (a write while a registration window is open, without an
        /// admission): the student's place, with the pass to send from now on.
        line: Option<Box<LineAnswer>>,
    },
    /// The server answered something this client does not understand.
    #[error("unexpected answer ({status}): {body}")]
    Unexpected { status: u16, body: String },
    /// Not sent: the server has lately refused most of what it was asked (it is
    /// overloaded), so this client refuses some requests itself (`Throttle`).
    #[error("not sent: the server is overloaded and refused most requests lately; retry shortly")]
    Throttled,
}

impl Error {
    /// The problem's `code`, if the server refused the request.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Problem { code, .. } => Some(code),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The answer to a conditional `GET`: either new content with its ETag, or `304`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched<T> {
    Modified { value: T, etag: String },
    NotModified,
}

#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    token: Option<String>,
    /// The waiting room's pass, sent as `Murphy-Pass` with every request once held.
    pass: Option<String>,
    /// Client-side throttling, shared by every clone; `None` sends everything.
    throttle: Option<Arc<Throttle>>,
}

/// The header the waiting room's pass travels in.
pub const PASS_HEADER: &str = "murphy-pass";

impl Client {
    /// `base_url` like `http://127.0.0.1:3000`; `token` is a student or admin token.
    pub fn new(base_url: impl Into<String>, token: Option<String>) -> Client {
        Client::with_http(reqwest::Client::new(), base_url, token)
    }

    /// Shares a `reqwest::Client` (and so its connection pool) with the caller.
    pub fn with_http(http: reqwest::Client, base_url: impl Into<String>, token: Option<String>) -> Client {
        Client {
            http,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            token,
            pass: None,
            throttle: Some(Arc::default()),
        }
    }

    /// The same client without client-side throttling: every request is sent, whatever
    /// the server refused lately (for tools that measure the server's own refusals).
    pub fn unthrottled(&self) -> Client {
        Client {
            throttle: None,
            ..self.clone()
        }
    }

    /// The same server and token, sending `pass` (the waiting room's) with every request.
    pub fn with_pass(&self, pass: Option<String>) -> Client {
        Client { pass, ..self.clone() }
    }

    pub fn pass(&self) -> Option<&str> {
        self.pass.as_deref()
    }

    /// `POST /api/v1/line`: this student's place in the waiting room (the same one
    /// however often asked); `student` names it for the admin token.
    pub async fn join_line(&self, student: Option<&str>) -> Result<LineAnswer> {
        let body = LineRequest {
            student: student.map(str::to_owned),
        };
        json(
            self.execute(self.request(self.http.post(self.url("/api/v1/line"))).json(&body))
                .await?,
        )
        .await
    }

    /// `GET /api/v1/line`: where this client's student stands (with its pass, if held).
    pub async fn line(&self) -> Result<LineAnswer> {
        json(
            self.execute(self.request(self.http.get(self.url("/api/v1/line"))))
                .await?,
        )
        .await
    }

    /// The same server with another token.
    pub fn with_token(&self, token: impl Into<String>) -> Client {
        Client {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub async fn healthz(&self) -> Result<String> {
        let response = self.http.get(self.url("/healthz")).send().await?;
        Ok(expect_ok(response).await?.text().await?)
    }

    /// Sends commands outside any session.
    pub async fn commands(&self, commands: Vec<Command>) -> Result<CommandsAnswer> {
        self.send(&CommandsRequest {
            client: None,
            seq: None,
            commands,
        })
        .await
    }

    pub async fn send(&self, request: &CommandsRequest) -> Result<CommandsAnswer> {
        self.send_within(request, None).await
    }

    /// `send`, giving up on the answer after `timeout` (the request may still apply).
    pub async fn send_within(&self, request: &CommandsRequest, timeout: Option<Duration>) -> Result<CommandsAnswer> {
        let mut builder = self.request(self.http.post(self.url("/api/v1/commands"))).json(request);
        if let Some(timeout) = timeout {
            builder = builder.timeout(timeout);
        }
        json(self.execute(builder).await?).await
    }

    pub async fn sections(&self) -> Result<SectionsAnswer> {
        json(
            self.execute(self.request(self.http.get(self.url("/api/v1/sections"))))
                .await?,
        )
        .await
    }

    /// A page of the catalog (`query`'s filters, `limit` and `cursor`), sending
    /// `If-None-Match: etag` when given. Each page has its own ETag.
    pub async fn sections_page(&self, query: &SectionsQuery, etag: Option<&str>) -> Result<Fetched<SectionsAnswer>> {
        let mut request = self.request(self.http.get(self.url("/api/v1/sections")).query(query));
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        fetched(self.execute(request).await?).await
    }

    pub async fn section(&self, id: &str) -> Result<SectionView> {
        match self.section_if_none_match(id, None).await? {
            Fetched::Modified { value, .. } => Ok(value),
            Fetched::NotModified => unreachable!("an unconditional GET is never 304"),
        }
    }

    /// `GET` a section, sending `If-None-Match: etag` when given.
    pub async fn section_if_none_match(&self, id: &str, etag: Option<&str>) -> Result<Fetched<SectionView>> {
        self.conditional(&format!("/api/v1/sections/{id}"), etag).await
    }

    pub async fn student(&self, id: &str) -> Result<StudentView> {
        match self.conditional(&format!("/api/v1/students/{id}"), None).await? {
            Fetched::Modified { value, .. } => Ok(value),
            Fetched::NotModified => unreachable!("an unconditional GET is never 304"),
        }
    }

    /// Whom this client's token speaks for: a student, or the registrar.
    pub async fn me(&self) -> Result<MeAnswer> {
        json(
            self.execute(self.request(self.http.get(self.url("/api/v1/me"))))
                .await?,
        )
        .await
    }

    /// Admin: issues a token for `student`.
    pub async fn create_token(&self, student: &str) -> Result<TokenAnswer> {
        let body = TokenRequest {
            student: student.to_owned(),
        };
        json(
            self.execute(self.request(self.http.post(self.url("/api/v1/tokens"))).json(&body))
                .await?,
        )
        .await
    }

    /// Admin: up to `limit` log entries after `after`.
    pub async fn log(&self, after: u64, limit: u64) -> Result<Vec<LogEntry>> {
        let url = self.url(&format!("/api/v1/log?after={after}&limit={limit}"));
        let text = expect_ok(self.execute(self.request(self.http.get(url))).await?)
            .await?
            .text()
            .await?;
        text.lines()
            .map(|line| {
                serde_json::from_str(line).map_err(|e| Error::Unexpected {
                    status: 200,
                    body: e.to_string(),
                })
            })
            .collect()
    }

    /// Admin: the whole log, fetched page by page.
    pub async fn full_log(&self) -> Result<Vec<LogEntry>> {
        let mut entries: Vec<LogEntry> = Vec::new();
        loop {
            let after = entries.last().map_or(0, |e| e.lsn);
            let page = self.log(after, 10_000).await?;
            if page.is_empty() {
                return Ok(entries);
            }
            entries.extend(page);
        }
    }

    /// `GET /metrics`: the server's Prometheus text.
    pub async fn metrics(&self) -> Result<String> {
        let response = self.http.get(self.url("/metrics")).send().await?;
        Ok(expect_ok(response).await?.text().await?)
    }

    /// `GET path` (like `/api/v1/sections`), sending `If-None-Match: etag` when given.
    pub async fn get_if_none_match<T: DeserializeOwned>(&self, path: &str, etag: Option<&str>) -> Result<Fetched<T>> {
        self.conditional(path, etag).await
    }

    async fn conditional<T: DeserializeOwned>(&self, path: &str, etag: Option<&str>) -> Result<Fetched<T>> {
        let mut request = self.request(self.http.get(self.url(path)));
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        fetched(self.execute(request).await?).await
    }

    /// Sends a request, unless the throttle refuses it here; counts what the server
    /// accepted (any answer but `503`).
    pub(crate) async fn execute(&self, builder: RequestBuilder) -> Result<Response> {
        let Some(throttle) = &self.throttle else {
            return Ok(builder.send().await?);
        };
        if !throttle.admit(std::time::Instant::now()) {
            return Err(Error::Throttled);
        }
        let response = builder.send().await?;
        if response.status() != StatusCode::SERVICE_UNAVAILABLE {
            throttle.accepted(std::time::Instant::now());
        }
        Ok(response)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    fn request(&self, mut builder: RequestBuilder) -> RequestBuilder {
        if let Some(token) = &self.token {
            builder = builder.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(pass) = &self.pass {
            builder = builder.header(PASS_HEADER, pass);
        }
        builder
    }
}

/// A conditional `GET`'s answer: `304`, or the value with its ETag.
async fn fetched<T: DeserializeOwned>(response: Response) -> Result<Fetched<T>> {
    if response.status() == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    let etag = response
        .headers()
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok(Fetched::Modified {
        value: json(response).await?,
        etag,
    })
}

async fn json<T: DeserializeOwned>(response: Response) -> Result<T> {
    let response = expect_ok(response).await?;
    let status = response.status().as_u16();
    let body = response.bytes().await?;
    serde_json::from_slice(&body).map_err(|e| Error::Unexpected {
        status,
        body: format!("{e}: {}", String::from_utf8_lossy(&body)),
    })
}

/// Passes 2xx answers through and turns everything else into an `Error`.
async fn expect_ok(response: Response) -> Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after_seconds = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = response.text().await?;
    Err(match serde_json::from_str::<ProblemBody>(&body) {
        Ok(p) => Error::Problem {
            status: p.status,
            code: p.code,
            detail: p.detail,
            retry_after_seconds,
            line: p.line.map(Box::new),
        },
        Err(_) => Error::Unexpected {
            status: status.as_u16(),
            body,
        },
    })
}
