//! `GET /api/v1/events`: live seat counts as Server-Sent Events, for the sections a
//! client shows (`?sections=A,B,C`, at most `stream_sections_max`), plus a student's own
//! sections and record (`student` events: a promotion, a place in a line that moved).
//! Each event is one entity's latest value, with its version (an LSN) as its id.
//!
//! What a stream costs is what it watches (`live.rs`, `feed.rs`): a change wakes only
//! the streams that watch it, a stream holds at most one pending value per entity
//! (latest wins), and sends are paced (`stream_sends_per_s_max`,
//! `stream_events_per_s_max`), so a hot section's thousand changes a second reach a
//! watcher as a few, and a slow reader costs its versions, never a queue.
//!
//! A client that reconnects with `Last-Event-ID: N` (or `?after=N`) first gets what
//! changed after N, then the live stream: it misses nothing, and never sees a value
//! that is not durable. An N past the server's position (its data was reset or
//! restored since) starts over with every current value.
//!
//! Credentials: the `Authorization` header, the page's sign-in cookie (which a
//! same-origin `EventSource` sends), or a single-use `ticket` from
//! `POST /api/v1/events/ticket` for other clients that cannot send headers (a token in a
//! URL outlives the request in logs and histories). `access_token` in the query is kept
//! for older clients only. Streams count against a share per student
//! (`streams_per_owner_max`) and a total (`streams_max`) (`shares.rs`).

mod feed;
mod shares;
mod tickets;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use murphy_core::command::check_id;
use murphy_core::wire::StreamTicket;
use serde::Deserialize;

pub use shares::Shares;
pub use tickets::Tickets;

use super::{App, authenticate};
use crate::auth::Principal;
use crate::problem::{Code, Problem};
use feed::{Asked, Feed, Pace};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Sections to watch, comma-separated; one not created yet is watched for.
    sections: Option<String>,
    /// One section to watch, which must exist (the older form of `sections`).
    section: Option<String>,
    /// Resume after this version, like `Last-Event-ID`.
    after: Option<u64>,
    /// A single-use stream ticket, instead of the `Authorization` header.
    ticket: Option<String>,
    /// Deprecated: the token itself in the URL, for older clients.
    access_token: Option<String>,
}

/// Live streams' shared parts: their shares and tickets.
pub struct Streams {
    pub shares: Arc<Shares>,
    pub tickets: Tickets,
}

impl Streams {
    pub fn new(limits: &crate::config::Limits) -> Streams {
        Streams {
            shares: Arc::new(Shares::new(limits.streams_max, limits.streams_per_owner_max)),
            tickets: Tickets::new(limits.stream_ticket_time_max, limits.stream_tickets_max),
        }
    }
}

/// `POST /api/v1/events/ticket`: a single-use ticket for one stream of the caller's.
pub async fn ticket(State(app): State<Arc<App>>, principal: Principal) -> Result<Response, Problem> {
    let ticket = app.streams.tickets.give(principal)?;
    let answer = StreamTicket {
        ticket,
        expires_in_s: app.streams.tickets.time_max().as_secs(),
    };
    let mut response = (
        StatusCode::CREATED,
        [(CONTENT_TYPE, "application/json")],
        serde_json::to_string(&answer).expect("tickets serialize"),
    )
        .into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub async fn events(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Problem> {
    let Query(query) = query.map_err(|e| {
        let detail = format!(
            "{}; use ?sections=A,B,C&after=VERSION (and ticket= from POST /api/v1/events/ticket)",
            e.body_text()
        );
        Problem::bad_request(Code::InvalidQuery, detail)
    })?;
    let principal = credentials(&app, &headers, &query)?;
    // A stream holds its connection: it counts against its student's share of them.
    super::count_connection(&app, &extensions, &principal)?;
    let sections = watched(&query, app.limits.stream_sections_max)?;
    let snapshot = app.node.snapshot();
    if let Some(id) = &query.section
        && snapshot.state.section(id).is_none()
    {
        return Err(Problem::not_found(
            Code::NoSuchSection,
            format!("there is no section {id} to watch; ?sections= watches one before it is created"),
        ));
    }
    let slot = app.streams.shares.take(&principal)?;
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    // An id past the server's position was never sent by this server (its data was
    // reset or restored since): the client's view is unknown, so it starts over with
    // every current value, as if it had seen nothing.
    let position = snapshot.state.lsn();
    let after = last_event_id.or(query.after).map(|a| if a > position { 0 } else { a });
    let own = match &principal {
        Principal::Student(id) => Some(Arc::from(id.as_str())),
        Principal::Admin => None,
    };
    let asked = Asked {
        everything: sections.is_empty() && own.is_none(),
        sections,
        own,
        after,
    };
    let pace = Pace {
        events_per_s_max: app.limits.stream_events_per_s_max,
        sends_per_s_max: app.limits.stream_sends_per_s_max,
    };
    let publisher = app.node.publisher().clone();
    let feed = Feed::new(publisher, app.metrics.clone(), app.stopping.clone(), asked, pace, slot);
    let mut response = Body::from_stream(feed.into_stream()).into_response();
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Who opens the stream: the `Authorization` header, else a ticket, else the sign-in
/// cookie or (for older clients) a token in the query.
fn credentials(app: &App, headers: &HeaderMap, query: &EventsQuery) -> Result<Principal, Problem> {
    if headers.contains_key(axum::http::header::AUTHORIZATION) || query.ticket.is_none() {
        return authenticate(app, headers, query.access_token.as_deref());
    }
    let ticket = query.ticket.as_deref().unwrap_or_default();
    app.streams.tickets.take(ticket).ok_or_else(|| {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            Code::InvalidTicket,
            "this stream ticket is unknown, used or expired; a ticket opens one stream within seconds of being \
             given: ask POST /api/v1/events/ticket for a new one",
        )
    })
}

/// The sections named by `sections=` and `section=`, checked and bounded.
fn watched(query: &EventsQuery, sections_max: usize) -> Result<BTreeSet<Arc<str>>, Problem> {
    let bad = |detail: String| Problem::bad_request(Code::InvalidQuery, detail);
    let named = query
        .sections
        .iter()
        .flat_map(|list| list.split(','))
        .chain(query.section.as_deref())
        .map(str::trim)
        .filter(|id| !id.is_empty());
    let mut sections = BTreeSet::new();
    for id in named {
        check_id("sections", id).map_err(|e| bad(e.to_string()))?;
        sections.insert(Arc::from(id));
        if sections.len() > sections_max {
            return Err(bad(format!(
                "a stream watches at most {sections_max} sections (the student's own come on top); watch those on \
                 screen"
            )));
        }
    }
    Ok(sections)
}
