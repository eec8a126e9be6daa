//! Following the log from another node: a session that LISTENs on the log's channel
//! (every append notifies at commit, with the new end of the log and the commit's time
//! as payload), so a secondary wakes within moments of an append instead of polling,
//! then reads the new entries by LSN (`Backend::log`), and can tell how long after each
//! commit it published it (`take_commits`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::postgres::fallible_iterator::FallibleIterator;
use time::OffsetDateTime;

use super::conn::{Conn, Role, Target};
use super::{log, schema};
use crate::{Commit, Result};

/// Commits remembered for `take_commits`; past this the oldest are forgotten (a
/// follower that never asks keeps bounded memory).
const COMMITS_KEPT_MAX: usize = 10_000;

/// A follower of the log: one session of its own, listening.
pub struct Follower {
    target: Arc<Target>,
    conn: Option<Conn>,
    /// The highest log end seen, from a query or a notification.
    end: u64,
    /// Commits notified and not yet taken, oldest first.
    commits: VecDeque<Commit>,
}

impl Follower {
    pub(super) fn new(target: Arc<Target>) -> Result<Follower> {
        let mut follower = Follower {
            target,
            conn: None,
            end: 0,
            commits: VecDeque::new(),
        };
        follower.listen()?;
        Ok(follower)
    }

    /// Opens the session and listens, then reads the log's end: every append that
    /// commits after that read notifies this session, so none is missed. The end read
    /// is the end from now on, even if lower than one heard before: a database restored
    /// to an older point must be seen as such (`StoreError::LogBehind`), not hidden.
    fn listen(&mut self) -> Result<&mut Conn> {
        if self.conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            self.conn = None;
            let mut conn = self.target.connect(Role::Follower)?;
            let channel = schema::channel(&self.target.schema);
            conn.client.batch_execute(&format!("LISTEN \"{channel}\""))?;
            self.end = log::end(&mut conn.client)?;
            self.conn = Some(conn);
            // Commits heard on a lost session may have been read meanwhile, unheard.
            self.commits.clear();
        }
        Ok(self.conn.as_mut().expect("just opened"))
    }

    /// Waits until the log ends past `after` or `timeout` passes, and returns the log's
    /// end as last seen (past `after`, or not past it on a timeout). Entries up to it
    /// are durable and readable by LSN. A lost session is opened again (and the end read
    /// again) on the next call.
    pub fn wait_for_log(&mut self, after: u64, timeout: Duration) -> Result<u64> {
        let deadline = Instant::now() + timeout;
        let waited = self.wait(after, deadline);
        if waited.as_ref().is_err_and(crate::StoreError::is_connection_lost) {
            self.conn = None;
        }
        waited
    }

    fn wait(&mut self, after: u64, deadline: Instant) -> Result<u64> {
        self.listen()?;
        self.drain()?;
        while self.end <= after {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let conn = self.conn.as_mut().expect("listening");
            let payload = match conn.client.notifications().timeout_iter(left).next()? {
                Some(n) => n.payload().to_owned(),
                None => break,
            };
            self.note(&payload);
        }
        Ok(self.end)
    }

    /// Takes in the notifications already here (delivered while nobody waited).
    fn drain(&mut self) -> Result<()> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        let mut payloads = Vec::new();
        {
            let mut pending = conn.client.notifications();
            let mut arrived = pending.iter();
            while let Some(n) = arrived.next()? {
                payloads.push(n.payload().to_owned());
            }
        }
        payloads.iter().for_each(|p| self.note(p));
        Ok(())
    }

    /// A notification's payload: the log's new end, then (since schema version 3) the
    /// commit's time in microseconds. One that does not parse tells nothing.
    fn note(&mut self, payload: &str) {
        let mut fields = payload.split(' ');
        let Some(end) = fields.next().and_then(|f| f.parse().ok()) else {
            return;
        };
        self.end = self.end.max(end);
        let at = fields
            .next()
            .and_then(|f| f.parse::<i128>().ok())
            .and_then(|micros| OffsetDateTime::from_unix_timestamp_nanos(micros * 1000).ok());
        if let Some(at) = at {
            if self.commits.len() == COMMITS_KEPT_MAX {
                self.commits.pop_front();
            }
            self.commits.push_back(Commit { end, at });
        }
    }

    /// The commits notified so far whose entries all lie at or before `through` (say,
    /// what was just published), oldest first; they are not returned again. Takes in
    /// the notifications already here first, without waiting for more.
    pub fn take_commits(&mut self, through: u64) -> Result<Vec<Commit>> {
        let drained = self.drain();
        if drained.as_ref().is_err_and(crate::StoreError::is_connection_lost) {
            self.conn = None;
        }
        drained?;
        let ready = self.commits.iter().take_while(|c| c.end <= through).count();
        Ok(self.commits.drain(..ready).collect())
    }

    /// The highest log end this follower has seen.
    pub fn seen(&self) -> u64 {
        self.end
    }
}

impl crate::LogWatch for Follower {
    fn wait_for_log(&mut self, after: u64, timeout: Duration) -> Result<u64> {
        Follower::wait_for_log(self, after, timeout)
    }

    fn take_commits(&mut self, through: u64) -> Result<Vec<Commit>> {
        Follower::take_commits(self, through)
    }
}
