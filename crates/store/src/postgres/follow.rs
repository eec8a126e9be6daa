//! Following the log from another node: a session that LISTENs on the log's channel
//! (every append notifies at commit, with the new end of the log as payload), so a
//! secondary wakes within moments of an append instead of polling, then reads the new
//! entries by LSN (`Backend::log`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use ::postgres::fallible_iterator::FallibleIterator;

use super::conn::{Conn, Role, Target};
use super::{log, schema};
use crate::Result;

/// A follower of the log: one session of its own, listening.
pub struct Follower {
    target: Arc<Target>,
    conn: Option<Conn>,
    /// The highest log end seen, from a query or a notification.
    end: u64,
}

impl Follower {
    pub(super) fn new(target: Arc<Target>) -> Result<Follower> {
        let mut follower = Follower {
            target,
            conn: None,
            end: 0,
        };
        follower.listen()?;
        Ok(follower)
    }

    /// Opens the session and listens, then reads the log's end: every append that
    /// commits after that read notifies this session, so none is missed.
    fn listen(&mut self) -> Result<&mut Conn> {
        if self.conn.as_ref().is_none_or(|c| c.client.is_closed()) {
            self.conn = None;
            let mut conn = self.target.connect(Role::Follower)?;
            let channel = schema::channel(&self.target.schema);
            conn.client.batch_execute(&format!("LISTEN \"{channel}\""))?;
            self.end = self.end.max(log::end(&mut conn.client)?);
            self.conn = Some(conn);
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
        let conn = self.conn.as_mut().expect("listening");
        {
            // Notifications already here (delivered while nobody waited).
            let mut pending = conn.client.notifications();
            let mut arrived = pending.iter();
            while let Some(n) = arrived.next()? {
                self.end = self.end.max(n.payload().parse().unwrap_or(0));
            }
        }
        while self.end <= after {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let mut notifications = conn.client.notifications();
            match notifications.timeout_iter(left).next()? {
                Some(n) => self.end = self.end.max(n.payload().parse().unwrap_or(0)),
                None => break,
            }
        }
        Ok(self.end)
    }

    /// The highest log end this follower has seen.
    pub fn seen(&self) -> u64 {
        self.end
    }
}
