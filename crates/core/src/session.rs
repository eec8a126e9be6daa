//! Exactly-once client sessions (docs/DESIGN.md §4) as a pure table: what to do with a
//! request that carries `(client, seq)`, and when an idle session is forgotten. No I/O
//! and no clock: times are the log's arrival times, so the table that start-up rebuilds
//! from the log makes the same decisions the running server made.
//!
//! Against the session of `client`, a request with `seq` is:
//! - `seq == last + 1` (a new client starts at 1): applied;
//! - `seq <= last`: a retry, answered with what the original got, applied again never;
//! - `seq > last + 1`: early; the engine holds it until the missing ones arrive;
//! - refused when the client id is another owner's, or its session expired.
//!
//! Bounded: a session idle for `idle_time_max` expires; an expired session is kept (to
//! refuse its retries, which must never apply again) for `expired_time_max`, then
//! forgotten; and there are never more than `sessions_max` sessions of either kind.
//! Shared fairly: a student holds at most `sessions_per_owner_max` live sessions; a new
//! one past that expires the student's least recently used one (recycled), so one
//! student opening sessions without end fills their own share, never the table. The
//! registrar (`REGISTRAR_OWNER`), who is trusted and drives bulk work, has no share.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::LogEntry;

/// The owner of the registrar's (the admin token's) sessions. Its `@` is in no student
/// id, so no student can own (or share) the registrar's sessions.
pub const REGISTRAR_OWNER: &str = "@admin";

#[derive(Clone, Debug)]
pub struct SessionLimits {
    /// A session unused for this long expires: its requests get `session_expired`.
    pub idle_time_max: Duration,
    /// How long an expired session is remembered (and refused) before it is forgotten.
    pub expired_time_max: Duration,
    /// Sessions held, live and expired together; past it, new sessions are refused.
    pub sessions_max: usize,
    /// Live sessions one student holds; a new one past it recycles their least recently
    /// used. The registrar has no such share.
    pub sessions_per_owner_max: usize,
    /// Requests per session whose place in the log is kept, to answer their retries.
    pub requests_remembered_max: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits {
            idle_time_max: Duration::hours(1),
            expired_time_max: Duration::hours(24),
            sessions_max: 200_000,
            sessions_per_owner_max: 64,
            requests_remembered_max: 16,
        }
    }
}

/// Where one applied request's entries are in the log: `commands` entries from
/// `first_lsn` on (a request's commands are applied back to back).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLsns {
    pub seq: u64,
    pub first_lsn: u64,
    pub commands: u32,
}

impl RequestLsns {
    pub fn last_lsn(&self) -> u64 {
        self.first_lsn + u64::from(self.commands) - 1
    }
}

/// A session as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub client: String,
    /// A student id, or `@admin`.
    pub owner: String,
    /// The last applied seq.
    pub seq: u64,
    pub last_at: OffsetDateTime,
    /// The latest requests, oldest first.
    pub recent: Vec<RequestLsns>,
    /// Set once the session expired.
    pub expired_at: Option<OffsetDateTime>,
}

/// A session that changed: its row now, or `None` when it was forgotten.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionChange {
    pub client: String,
    pub row: Option<SessionRow>,
}

/// What to do with a session request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Apply,
    /// The latest request again, whose answer is at hand.
    Again(Arc<str>),
    /// An earlier request again: its answer is in the log at these LSNs.
    InLog {
        first_lsn: u64,
        last_lsn: u64,
    },
    /// Earlier requests have not arrived: hold this one for them.
    Hold {
        expected: u64,
    },
    NotOwner,
    Expired,
    /// Older than the requests the session remembers (`oldest` is the oldest kept).
    Forgotten {
        oldest: u64,
    },
    /// `sessions_max` sessions exist already.
    TooMany,
}

#[derive(Clone, Debug)]
struct Session {
    owner: String,
    seq: u64,
    last_at: OffsetDateTime,
    recent: VecDeque<RequestLsns>,
    /// The JSON answer of request `seq`, when this process applied it.
    results: Option<Arc<str>>,
    expired_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, Default)]
pub struct Sessions {
    limits: SessionLimits,
    sessions: HashMap<Arc<str>, Session>,
    /// Live sessions by last use, oldest first: what expiry looks at.
    live_by_use: BTreeSet<(OffsetDateTime, Arc<str>)>,
    /// Expired sessions by expiry, oldest first: what forgetting looks at.
    expired_by_time: BTreeSet<(OffsetDateTime, Arc<str>)>,
    /// Each student's live sessions by last use, oldest first: what recycling looks at.
    /// Never the registrar's.
    live_by_owner: HashMap<String, BTreeSet<(OffsetDateTime, Arc<str>)>>,
    /// Clients whose session changed since `take_changes`.
    changed: BTreeSet<Arc<str>>,
}

impl Sessions {
    pub fn new(limits: SessionLimits) -> Sessions {
        Sessions {
            limits,
            ..Sessions::default()
        }
    }

    /// The table as stored; nothing is marked changed.
    pub fn restore(limits: SessionLimits, rows: Vec<SessionRow>) -> Sessions {
        let mut sessions = Sessions::new(limits);
        for row in rows {
            let client: Arc<str> = row.client.into();
            match row.expired_at {
                Some(at) => sessions.expired_by_time.insert((at, client.clone())),
                None => {
                    sessions.owned(&row.owner, |live| live.insert((row.last_at, client.clone())));
                    sessions.live_by_use.insert((row.last_at, client.clone()))
                }
            };
            let session = Session {
                owner: row.owner,
                seq: row.seq,
                last_at: row.last_at,
                recent: row.recent.into(),
                results: None,
                expired_at: row.expired_at,
            };
            sessions.sessions.insert(client, session);
        }
        sessions
    }

    /// (live, expired) sessions held.
    pub fn counts(&self) -> (usize, usize) {
        (self.live_by_use.len(), self.expired_by_time.len())
    }

    /// The next seq the session of `client` will apply.
    pub fn expected(&self, client: &str) -> u64 {
        self.sessions.get(client).map_or(1, |s| s.seq + 1)
    }

    pub fn decide(&self, owner: &str, client: &str, seq: u64) -> Decision {
        let Some(session) = self.sessions.get(client) else {
            // A student at their share recycles their own: it makes the room it needs.
            let full = self.sessions.len() >= self.limits.sessions_max
                && self.expired_by_time.is_empty()
                && !self.at_share(owner);
            return match seq {
                1 if full => Decision::TooMany,
                1 => Decision::Apply,
                _ => Decision::Hold { expected: 1 },
            };
        };
        if session.owner != owner {
            return Decision::NotOwner;
        }
        if session.expired_at.is_some() {
            return Decision::Expired;
        }
        if seq > session.seq {
            return match seq - session.seq {
                1 => Decision::Apply,
                _ => Decision::Hold {
                    expected: session.seq + 1,
                },
            };
        }
        if seq == session.seq
            && let Some(results) = &session.results
        {
            return Decision::Again(results.clone());
        }
        match session.recent.iter().find(|r| r.seq == seq) {
            Some(r) => Decision::InLog {
                first_lsn: r.first_lsn,
                last_lsn: r.last_lsn(),
            },
            None => Decision::Forgotten {
                oldest: session.recent.front().map_or(session.seq, |r| r.seq),
            },
        }
    }

    /// Records request `seq` of `client`, applied at `at` as `commands` log entries from
    /// `first_lsn` on. Only after `decide` said `Apply` (or in a replay of the log).
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        owner: &str,
        client: &str,
        seq: u64,
        at: OffsetDateTime,
        first_lsn: u64,
        commands: u32,
        results: Option<Arc<str>>,
    ) {
        let request = RequestLsns {
            seq,
            first_lsn,
            commands,
        };
        let key = self.key(client);
        if !self.sessions.contains_key(&key) {
            if self.at_share(owner) {
                self.recycle_oldest_of(owner, at);
            }
            self.make_room();
            let session = Session {
                owner: owner.to_owned(),
                seq: 0,
                last_at: at,
                recent: VecDeque::new(),
                results: None,
                expired_at: None,
            };
            self.live_by_use.insert((at, key.clone()));
            self.sessions.insert(key.clone(), session);
        }
        let session = self.sessions.get_mut(&key).expect("inserted above");
        assert!(
            session.expired_at.is_none() && session.owner == owner && seq == session.seq + 1,
            "session {client}: seq {seq} recorded out of order"
        );
        let last_use = (session.last_at, key.clone());
        session.seq = seq;
        session.last_at = at;
        session.results = results;
        session.recent.push_back(request);
        while session.recent.len() > self.limits.requests_remembered_max {
            session.recent.pop_front();
        }
        self.live_by_use.remove(&last_use);
        self.live_by_use.insert((at, key.clone()));
        self.owned(owner, |live| {
            live.remove(&last_use);
            live.insert((at, key.clone()))
        });
        self.changed.insert(key);
    }

    /// Replays one log entry (start-up): consecutive entries of one request extend it.
    pub fn replay(&mut self, entry: &LogEntry) {
        let (Some(client), Some(seq), Some(owner)) = (&entry.client, entry.seq, &entry.owner) else {
            return;
        };
        self.expire(entry.at);
        if let Some(session) = self.sessions.get_mut(client.as_str())
            && session.seq == seq
            && let Some(last) = session.recent.back_mut()
            && last.seq == seq
            && last.last_lsn() + 1 == entry.lsn
        {
            last.commands += 1;
            let key = self.key(client);
            self.changed.insert(key);
            return;
        }
        self.record(owner, client, seq, entry.at, entry.lsn, 1, None);
    }

    /// Expires the sessions idle for `idle_time_max` at `now`, and forgets those
    /// expired for `expired_time_max`. Times come from the log, so a replay expires
    /// exactly what the running server did.
    pub fn expire(&mut self, now: OffsetDateTime) {
        while let Some((last_at, client)) = self.live_by_use.first().cloned() {
            let expires_at = last_at + self.limits.idle_time_max;
            if expires_at > now {
                break;
            }
            self.live_by_use.pop_first();
            self.end(&client, expires_at);
        }
        while let Some((expired_at, _)) = self.expired_by_time.first() {
            if *expired_at + self.limits.expired_time_max > now {
                break;
            }
            self.forget_oldest_expired();
        }
    }

    /// The sessions changed since the last call, each with its row now.
    pub fn take_changes(&mut self) -> Vec<SessionChange> {
        std::mem::take(&mut self.changed)
            .into_iter()
            .map(|client| SessionChange {
                row: self.sessions.get(&client).map(|s| row(&client, s)),
                client: client.to_string(),
            })
            .collect()
    }

    /// Every session as the store keeps it, in client order (for tests and checks).
    pub fn rows(&self) -> Vec<SessionRow> {
        let mut rows: Vec<SessionRow> = self.sessions.iter().map(|(c, s)| row(c, s)).collect();
        rows.sort_by(|a, b| a.client.cmp(&b.client));
        rows
    }

    /// Ends the live session of `client` at `at`: from then on it is expired, and its
    /// retries are refused (never applied again) until it is forgotten.
    fn end(&mut self, client: &Arc<str>, at: OffsetDateTime) {
        let session = self.sessions.get_mut(client).expect("indexed sessions exist");
        let last_use = (session.last_at, client.clone());
        session.expired_at = Some(at);
        session.results = None;
        session.recent.clear();
        let owner = session.owner.clone();
        self.owned(&owner, |live| live.remove(&last_use));
        self.expired_by_time.insert((at, client.clone()));
        self.changed.insert(client.clone());
    }

    /// Whether `owner` holds as many live sessions as a student may.
    fn at_share(&self, owner: &str) -> bool {
        owner != REGISTRAR_OWNER
            && self
                .live_by_owner
                .get(owner)
                .is_some_and(|live| live.len() >= self.limits.sessions_per_owner_max.max(1))
    }

    /// Expires the least recently used live session of `owner`, at `at`.
    fn recycle_oldest_of(&mut self, owner: &str, at: OffsetDateTime) {
        let Some((last_at, client)) = self.live_by_owner.get(owner).and_then(|l| l.first().cloned()) else {
            return;
        };
        self.live_by_use.remove(&(last_at, client.clone()));
        self.end(&client, at);
    }

    /// Runs `change` on the live sessions of `owner` (none for the registrar), and
    /// forgets an owner left with none.
    fn owned<T>(&mut self, owner: &str, change: impl FnOnce(&mut BTreeSet<(OffsetDateTime, Arc<str>)>) -> T) {
        if owner == REGISTRAR_OWNER {
            return;
        }
        let live = self.live_by_owner.entry(owner.to_owned()).or_default();
        change(live);
        if live.is_empty() {
            self.live_by_owner.remove(owner);
        }
    }

    /// Before a new session: at `sessions_max`, the oldest expired one goes.
    fn make_room(&mut self) {
        if self.sessions.len() >= self.limits.sessions_max {
            self.forget_oldest_expired();
        }
    }

    fn forget_oldest_expired(&mut self) {
        if let Some((_, client)) = self.expired_by_time.pop_first() {
            self.sessions.remove(&client);
            self.changed.insert(client);
        }
    }

    /// The table's shared copy of `client`, or a new one.
    fn key(&self, client: &str) -> Arc<str> {
        self.sessions
            .get_key_value(client)
            .map_or_else(|| client.into(), |(k, _)| k.clone())
    }
}

fn row(client: &str, s: &Session) -> SessionRow {
    SessionRow {
        client: client.to_owned(),
        owner: s.owner.clone(),
        seq: s.seq,
        last_at: s.last_at,
        recent: s.recent.iter().copied().collect(),
        expired_at: s.expired_at,
    }
}

#[cfg(test)]
mod tests;
