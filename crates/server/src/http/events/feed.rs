//! One live stream: what it watches, the version of each it last sent, and its pace.
//!
//! It sleeps until the hub wakes it (something it watches changed), then reads the
//! latest snapshot and sends, in one write, every watched entity whose version moved,
//! oldest change first. Between two writes at least `1 / stream_sends_per_s_max`
//! passes, and at most `stream_events_per_s_max` events go out per second (a token
//! bucket); what is left waits, as the latest value, for the next write. The first
//! write (the current values, or those changed after the client's last event) is not
//! paced: it is bounded by what the stream watches.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use murphy_core::wire::{SectionEvent, StudentEvent};
use murphy_core::{State, Student};
use tokio::time::Instant;

use super::shares::Slot;
use crate::live::{Hub, Watched, Watcher};
use crate::metrics::Metrics;
use crate::snapshot::Publisher;

/// A comment line this often keeps proxies and idle limits from closing the stream.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);

/// How a stream goes.
pub struct Pace {
    pub events_per_s_max: u32,
    pub sends_per_s_max: u32,
}

/// What a stream was asked to watch.
pub struct Asked {
    /// Sections named in the query.
    pub sections: BTreeSet<Arc<str>>,
    /// The student whose own sections and record it watches too.
    pub own: Option<Arc<str>>,
    /// The registrar's stream without a list: every section.
    pub everything: bool,
    /// Send only what changed after this version (the client's last event id).
    pub after: Option<u64>,
}

pub struct Feed {
    publisher: Publisher,
    hub: Arc<Hub>,
    watcher: Arc<Watcher>,
    metrics: Arc<Metrics>,
    stopping: tokio::sync::watch::Receiver<bool>,
    asked: Asked,
    /// Each watched entity, and the version of it last sent (0: none yet).
    sent: BTreeMap<Watched, u64>,
    /// With `everything`: the highest section version sent.
    high: u64,
    pace: Pace,
    tokens: f64,
    refilled: Instant,
    next_send: Instant,
    /// Changes are left that the token bucket held back: send without a new wake-up.
    owed: bool,
    started: bool,
    _slot: Slot,
}

impl Feed {
    pub fn new(
        publisher: Publisher,
        metrics: Arc<Metrics>,
        stopping: tokio::sync::watch::Receiver<bool>,
        asked: Asked,
        pace: Pace,
        slot: Slot,
    ) -> Feed {
        let hub = publisher.hub().clone();
        let watcher = Arc::new(Watcher::default());
        if asked.everything {
            hub.subscribe_everything(&watcher);
        }
        let now = Instant::now();
        let snapshot = publisher.snapshot();
        let mut feed = Feed {
            publisher,
            hub,
            watcher,
            metrics,
            stopping,
            // Everything, fresh: from now on; resumed: what changed after its last event.
            high: asked.after.unwrap_or(snapshot.state.lsn()),
            asked,
            sent: BTreeMap::new(),
            tokens: f64::from(pace.events_per_s_max),
            pace,
            refilled: now,
            next_send: now,
            owed: false,
            started: false,
            _slot: slot,
        };
        // Subscribed here; every write reads the snapshot again after clearing the
        // wake-up, so nothing published since falls between.
        feed.follow(&snapshot.state);
        feed
    }

    /// The stream's bytes: the first write, then one write per wake-up (paced), and a
    /// heartbeat when quiet; it ends when the server stops.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> {
        futures_util::stream::unfold(self, |mut feed| async move {
            let bytes = feed.next_write().await?;
            Some((Ok(bytes), feed))
        })
    }

    async fn next_write(&mut self) -> Option<Bytes> {
        if !self.started {
            self.started = true;
            return Some(self.first_write());
        }
        loop {
            if !self.owed {
                let mut stopping = self.stopping.clone();
                tokio::select! {
                    _ = self.watcher.changed() => {}
                    _ = tokio::time::sleep(HEARTBEAT_INTERVAL) => return Some(Bytes::from_static(b":\n\n")),
                    _ = stopping.wait_for(|s| *s) => return None,
                }
            }
            let due = self.next_send.max(self.when_a_token());
            let mut stopping = self.stopping.clone();
            tokio::select! {
                _ = tokio::time::sleep_until(due) => {}
                _ = stopping.wait_for(|s| *s) => return None,
            }
            if let Some(bytes) = self.write(false) {
                return Some(bytes);
            }
        }
    }

    /// `ready`, then what is owed at once. `ready` carries the position only when
    /// nothing is owed: were the stream to break right after it, a reconnect must
    /// resume from the client's old id, not skip what it had not yet been sent.
    fn first_write(&mut self) -> Bytes {
        let position = self.publisher.snapshot().state.lsn();
        let owed = self.write(true).unwrap_or_default();
        let mut out = String::from("event: ready\n");
        if owed.is_empty() {
            let _ = writeln!(out, "id: {}", position.max(self.asked.after.unwrap_or(0)));
        }
        out.push_str("data: {}\n\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&owed);
        Bytes::from(bytes)
    }

    /// Reads the latest snapshot and encodes what moved since last sent, oldest first,
    /// as many as the tokens allow (all, on the first write).
    fn write(&mut self, first: bool) -> Option<Bytes> {
        self.watcher.clear();
        let snapshot = self.publisher.snapshot();
        let state = &snapshot.state;
        self.follow(state);
        let mut moved = self.moved(state);
        if moved.is_empty() {
            self.owed = false;
            return None;
        }
        moved.sort_unstable_by_key(|(version, _)| *version);
        self.refill();
        let n = if first {
            moved.len()
        } else {
            moved.len().min(self.tokens as usize).max(1)
        };
        self.owed = moved.len() > n;
        let mut out = String::with_capacity(n * 160);
        for (version, what) in moved.into_iter().take(n) {
            encode(&mut out, state, &what);
            if self.asked.everything {
                self.high = self.high.max(version);
            } else {
                self.sent.insert(what, version);
            }
        }
        if !first {
            self.tokens -= n as f64;
        }
        let now = Instant::now();
        self.next_send = now + Duration::from_secs_f64(1.0 / f64::from(self.pace.sends_per_s_max.max(1)));
        self.metrics.stream_write(n as u64);
        Some(Bytes::from(out))
    }

    /// Every watched entity whose version moved, with its version.
    fn moved(&self, state: &State) -> Vec<(u64, Watched)> {
        if self.asked.everything {
            let high = self.high;
            return state
                .sections()
                .filter(|s| s.version > high)
                .map(|s| (s.version, Watched::Section(s.id.as_str().into())))
                .collect();
        }
        self.sent
            .iter()
            .filter_map(|(what, &sent)| {
                let version = version_of(state, what)?;
                (version > sent).then(|| (version, what.clone()))
            })
            .collect()
    }

    /// Brings the subscriptions in line with what the stream watches now: the sections
    /// asked for, and the student's own sections and record (which change as they
    /// enroll, drop and are promoted).
    fn follow(&mut self, state: &State) {
        let mut want: BTreeSet<Watched> = self.asked.sections.iter().cloned().map(Watched::Section).collect();
        if let Some(own) = &self.asked.own {
            want.insert(Watched::Student(own.clone()));
            if let Some(student) = state.student(own) {
                want.extend(own_sections(student).map(Watched::Section));
            }
        }
        let gone: Vec<Watched> = self.sent.keys().filter(|w| !want.contains(*w)).cloned().collect();
        for what in gone {
            self.hub.unsubscribe(&what, &self.watcher);
            self.sent.remove(&what);
        }
        for what in want {
            if self.sent.contains_key(&what) {
                continue;
            }
            self.hub.subscribe(&what, &self.watcher);
            // What the client has: everything up to `after` if it said; else nothing
            // of the sections, and its own record, which it read to open the stream.
            let known = match (&what, self.asked.after, self.started) {
                (_, Some(after), false) => after,
                (Watched::Student(_), None, false) => version_of(state, &what).unwrap_or(0),
                _ => 0,
            };
            self.sent.insert(what, known);
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let rate = f64::from(self.pace.events_per_s_max.max(1));
        self.tokens = (self.tokens + (now - self.refilled).as_secs_f64() * rate).min(rate);
        self.refilled = now;
    }

    /// When the bucket next holds a whole token.
    fn when_a_token(&mut self) -> Instant {
        self.refill();
        let short = 1.0 - self.tokens;
        if short <= 0.0 {
            return self.refilled;
        }
        self.refilled + Duration::from_secs_f64(short / f64::from(self.pace.events_per_s_max.max(1)))
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        for what in self.sent.keys() {
            self.hub.unsubscribe(what, &self.watcher);
        }
        if self.asked.everything {
            self.hub.unsubscribe_everything(&self.watcher);
        }
    }
}

/// A student's own sections: enrolled, waited for, and each linked section waited for
/// with a lecture.
fn own_sections(student: &Student) -> impl Iterator<Item = Arc<str>> + '_ {
    student
        .enrolled
        .iter()
        .chain(&student.waitlisted)
        .chain(student.waiting_with.values())
        .map(|id| Arc::from(id.as_str()))
}

fn version_of(state: &State, what: &Watched) -> Option<u64> {
    match what {
        Watched::Section(id) => state.section(id).map(|s| s.version),
        Watched::Student(id) => state.student(id).map(|s| s.version),
    }
}

/// One event in the SSE format; its id is the entity's version.
fn encode(out: &mut String, state: &State, what: &Watched) {
    let (name, version, data) = match what {
        Watched::Section(id) => {
            let Some(s) = state.section(id) else { return };
            let data = serde_json::to_string(&SectionEvent::from(s)).expect("events serialize");
            ("section", s.version, data)
        }
        Watched::Student(id) => {
            let Some(s) = state.student(id) else { return };
            let event = StudentEvent {
                id: s.id.clone(),
                waitlist_positions: state.waitlist_positions(s),
                version: s.version,
            };
            (
                "student",
                s.version,
                serde_json::to_string(&event).expect("events serialize"),
            )
        }
    };
    let _ = write!(out, "event: {name}\nid: {version}\ndata: {data}\n\n");
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;
    use murphy_core::Command;
    use time::OffsetDateTime;

    use super::*;
    use crate::auth::Principal;
    use crate::http::events::Shares;

    /// A stream that nobody reads while 5,000 changes are published holds the versions
    /// it sent and nothing else; read again, it yields one write with each section's
    /// latest value.
    #[tokio::test]
    async fn a_slow_reader_holds_nothing_and_catches_up_with_the_latest_values() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let mut state = State::default();
        let sections: Vec<String> = (0..50).map(|i| format!("S-{i}")).collect();
        for id in &sections {
            state.apply(at, &Command::create_section(id, "A section", 4, 10_000, 0, vec![]));
        }
        let publisher = Publisher::new(state.clone(), Default::default());
        let shares = Arc::new(Shares::new(10, 10));
        let (_stop, stopping) = tokio::sync::watch::channel(false);
        let asked = Asked {
            sections: sections.iter().map(|s| Arc::from(s.as_str())).collect(),
            own: None,
            everything: false,
            after: None,
        };
        let pace = Pace {
            events_per_s_max: 100_000,
            sends_per_s_max: 100_000,
        };
        let slot = shares.take(&Principal::Admin).unwrap();
        let feed = Feed::new(publisher.clone(), Arc::default(), stopping, asked, pace, slot);
        let mut stream = Box::pin(feed.into_stream());
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(String::from_utf8_lossy(&first).matches("event: section").count(), 50);

        for k in 0..100 {
            for id in &sections {
                state.apply(
                    at,
                    &Command::SetCapacity {
                        section: id.clone(),
                        capacity: 10_000 - k,
                    },
                );
            }
            let changes = state.take_changes();
            publisher.publish(&state, Default::default(), &changes);
        }
        let caught_up = tokio::time::timeout(std::time::Duration::from_secs(1), stream.next())
            .await
            .expect("a write is ready at once")
            .unwrap()
            .unwrap();
        let text = String::from_utf8_lossy(&caught_up);
        assert_eq!(
            text.matches("event: section").count(),
            50,
            "one event per section, not 5,000"
        );
        for id in &sections {
            let latest = state.section(id).unwrap();
            assert!(text.contains(&format!("id: {}\n", latest.version)), "{id}'s latest");
            assert!(text.contains("\"capacity\":9901"), "the latest capacity");
        }
        assert_eq!(
            publisher.hub().subscriptions(),
            50,
            "one subscription per section, still"
        );
    }
}
