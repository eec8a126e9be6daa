//! `GET /api/v1/events`: live seat counts as Server-Sent Events. Each event is one
//! section's counts after a commit, with the section's version (an LSN) as its id.
//!
//! A client that reconnects with `Last-Event-ID: N` first gets the current counts of
//! every section changed after N (from the snapshot, which holds every section's
//! version), then the live stream: it misses nothing, and never sees a count that is
//! not durable. An N past the server's position (its data was reset or restored since
//! the client last heard from it) starts over: every current count. A client that cannot keep up is dropped (it can reconnect and catch
//! up); the committer never waits for anyone.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use murphy_core::wire::SectionEvent;
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};

use super::{App, authenticate, count_connection};
use crate::problem::{Code, Problem};

/// A comment line this often keeps proxies and idle limits from closing the stream.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsQuery {
    /// Only this section's events.
    section: Option<String>,
    /// Resume after this version, like `Last-Event-ID`.
    after: Option<u64>,
    /// The token, for clients that cannot send headers (a browser's `EventSource`).
    access_token: Option<String>,
}

pub(crate) async fn events(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    query: Result<Query<EventsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Query(query) = match query {
        Ok(query) => query,
        Err(e) => {
            let detail = format!("{}; use ?section=ID&after=VERSION", e.body_text());
            return Problem::bad_request(Code::InvalidQuery, detail).into_response();
        }
    };
    // A stream holds its connection: it counts against its student's share.
    let counted = authenticate(&app, &headers, query.access_token.as_deref())
        .and_then(|principal| count_connection(&app, &extensions, &principal));
    if let Err(problem) = counted {
        return problem.into_response();
    }
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let after = last_event_id.or(query.after);
    // Subscribe before reading the snapshot, so nothing falls between the two.
    let live = app.node.publisher().subscribe();
    let snapshot = app.node.snapshot();
    if let Some(id) = &query.section
        && snapshot.state.section(id).is_none()
    {
        return Problem::not_found(Code::NoSuchSection, format!("there is no section {id} to watch")).into_response();
    }
    // An id past the server's position was never sent by this server (its data was
    // reset or restored since): the client's view is unknown, so it starts over with
    // every current count, as if it had seen nothing.
    let position = snapshot.state.catalog_version();
    let after = after.map(|a| if a > position { 0 } else { a });
    let mut backlog: Vec<SectionEvent> = match after {
        Some(after) => snapshot
            .state
            .sections()
            .filter(|s| s.version > after && query.section.as_ref().is_none_or(|id| *id == s.id))
            .map(SectionEvent::from)
            .collect(),
        // A fresh client gets the watched section's counts, or nothing but a position.
        None => query
            .section
            .iter()
            .filter_map(|id| snapshot.state.section(id))
            .map(SectionEvent::from)
            .collect(),
    };
    backlog.sort_by_key(|e| e.version);
    let start = Feed {
        stopping: app.stopping.clone(),
        backlog: backlog.into(),
        live,
        section: query.section,
        last: after.unwrap_or(0),
        position: Some(position),
    };
    Sse::new(feed(start))
        .keep_alive(KeepAlive::new().interval(HEARTBEAT_INTERVAL))
        .into_response()
}

struct Feed {
    stopping: tokio::sync::watch::Receiver<bool>,
    backlog: VecDeque<SectionEvent>,
    live: broadcast::Receiver<Arc<Vec<SectionEvent>>>,
    section: Option<String>,
    /// The highest version sent: live events at or below it are already known.
    last: u64,
    /// Sent first, as a `ready` event; its id (only when nothing is owed) is where the
    /// stream starts.
    position: Option<u64>,
}

fn feed(start: Feed) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(start, |mut feed| async move {
        if let Some(position) = feed.position.take() {
            // With catch-up events to come, `ready` carries no id: were the stream to
            // break right after it, a reconnect must resume from the client's old id,
            // not skip what it had not yet been sent.
            let mut ready = Event::default().event("ready").data("{}");
            if feed.backlog.is_empty() {
                ready = ready.id(position.max(feed.last).to_string());
            }
            return Some((Ok(ready), feed));
        }
        loop {
            if let Some(event) = feed.backlog.pop_front() {
                if event.version > feed.last {
                    feed.last = event.version;
                    return Some((Ok(to_sse(&event)), feed));
                }
                continue;
            }
            let next = tokio::select! {
                next = feed.live.recv() => next,
                _ = feed.stopping.wait_for(|stopping| *stopping) => return None,
            };
            match next {
                Ok(batch) => {
                    let wanted = |e: &&SectionEvent| feed.section.as_ref().is_none_or(|id| *id == e.id);
                    feed.backlog.extend(batch.iter().filter(wanted).cloned());
                }
                // Too slow: drop the client rather than make anyone wait for it.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
            }
        }
    })
}

fn to_sse(event: &SectionEvent) -> Event {
    Event::default()
        .event("section")
        .id(event.version.to_string())
        .data(serde_json::to_string(event).expect("events serialize"))
}
