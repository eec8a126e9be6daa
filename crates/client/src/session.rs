//! Exactly-once writes: a `Session` numbers its requests (`client`, `seq`, docs/DESIGN.md
//! §4) and, when an answer is lost (timeout, dropped connection) or the server sheds
//! load (`503`), sends the SAME seq again. The server answers a repeated seq from what it
//! stored and applies nothing, so a retry can never apply a command twice.
//!
//! A session behaves under overload: it waits at least what the server's `Retry-After`
//! says, plus a random part of it (so clients refused together do not come back
//! together), and its client throttles itself (`Throttle`). While a registration window
//! is open, a write without an admission is answered with the student's place in line
//! (`in_line`): the session then waits in line, asking where it stands when the server
//! says to, and sends the write again once admitted, with the pass.

use std::time::{Duration, Instant};

use murphy_core::Command;
use murphy_core::wire::{CommandsAnswer, CommandsRequest, LineAnswer, LineState};

use crate::{Client, Error, Result};

/// How hard a `Session` tries before giving up on one request.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (waiting in line uses none).
    pub attempts: u32,
    /// The wait before the first retry; it doubles after each, up to `backoff_max`.
    pub backoff_first: Duration,
    pub backoff_max: Duration,
    /// How long one attempt waits for its answer.
    pub attempt_timeout: Duration,
    /// How long a request may wait in the waiting room before it is given up.
    pub line_wait_max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            backoff_first: Duration::from_millis(100),
            backoff_max: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(10),
            line_wait_max: Duration::from_secs(3600),
        }
    }
}

/// Told each time a session waiting in line learns where it stands.
pub type LineWatcher = Box<dyn Fn(&LineAnswer) + Send + Sync>;

/// One client's ordered, exactly-once stream of requests.
pub struct Session {
    client: Client,
    id: String,
    /// The last seq the server answered; the next request gets `seq + 1`.
    seq: u64,
    policy: RetryPolicy,
    watcher: Option<LineWatcher>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("seq", &self.seq)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A new session with a random client id, so no two processes share one.
    pub fn new(client: Client) -> Session {
        Session::with_id(client, random_id(), 0)
    }

    /// Resumes a session whose last answered request had `seq`.
    pub fn with_id(client: Client, id: String, seq: u64) -> Session {
        Session {
            client,
            id,
            seq,
            policy: RetryPolicy::default(),
            watcher: None,
        }
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Session {
        self.policy = policy;
        self
    }

    /// Calls `watcher` with the student's place each time it is learned while waiting
    /// in line (to tell a person where they stand).
    pub fn on_line(mut self, watcher: LineWatcher) -> Session {
        self.watcher = Some(watcher);
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The seq of the last answered request (0 before the first).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The waiting room's pass this session holds, if it has waited in line.
    pub fn pass(&self) -> Option<&str> {
        self.client.pass()
    }

    /// Sends `commands` as the next request of the session, retrying the same seq on
    /// a lost answer or a `503`, and waiting in line when a registration window asks
    /// it to. If every attempt fails, nobody knows whether the request was applied; the
    /// session then moves to a fresh client id, because the next seq would otherwise
    /// wait forever behind a request that may never arrive.
    pub async fn send(&mut self, commands: Vec<Command>) -> Result<CommandsAnswer> {
        let mut request = CommandsRequest {
            client: Some(self.id.clone()),
            seq: Some(self.seq + 1),
            commands,
        };
        let mut backoff = self.policy.backoff_first;
        let mut attempt = 1;
        let line_deadline = Instant::now() + self.policy.line_wait_max;
        loop {
            let result = self
                .client
                .send_within(&request, Some(self.policy.attempt_timeout))
                .await;
            match result {
                Ok(answer) => {
                    self.seq += 1;
                    return Ok(answer);
                }
                Err(Error::Problem { line: Some(line), .. }) if Instant::now() < line_deadline => {
                    self.wait_in_line(*line, line_deadline).await?;
                    request.seq = Some(self.seq + 1);
                }
                Err(e) if retryable(&e) && attempt < self.policy.attempts => {
                    tokio::time::sleep(wait_for(&e, backoff)).await;
                    backoff = (backoff * 2).min(self.policy.backoff_max);
                    attempt += 1;
                }
                Err(e) => {
                    if retryable(&e) {
                        self.id = random_id();
                        self.seq = 0;
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Waits in line from `line` until admitted (or `deadline`), asking again when the
    /// server says to; keeps the pass for the requests after.
    async fn wait_in_line(&mut self, mut line: LineAnswer, deadline: Instant) -> Result<()> {
        loop {
            if let Some(pass) = line.pass.clone() {
                self.client = self.client.with_pass(Some(pass));
            }
            if let Some(watcher) = &self.watcher {
                watcher(&line);
            }
            match line.state {
                LineState::Admitted | LineState::Closed => return Ok(()),
                LineState::Out => {
                    line = self.client.join_line(None).await?;
                    continue;
                }
                LineState::PreQueue | LineState::Waiting => {}
            }
            let wait = jittered(Duration::from_secs(line.next_poll_after_s.unwrap_or(1)));
            if Instant::now() + wait >= deadline {
                return Ok(()); // the caller's next attempt is answered in_line, and given up
            }
            tokio::time::sleep(wait).await;
            line = match self.client.line().await {
                Ok(line) => line,
                Err(e) if retryable(&e) => {
                    tokio::time::sleep(wait_for(&e, self.policy.backoff_first)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
        }
    }
}

/// Lost answers, load shedding and this client's own throttling are worth another try;
/// refusals are not.
fn retryable(e: &Error) -> bool {
    match e {
        Error::Transport(_) | Error::Throttled => true,
        Error::Problem { status, .. } => *status == 503,
        Error::Unexpected { status, .. } => *status == 503,
    }
}

/// The server's `Retry-After` when it gave one, else our own backoff; either way with
/// up to half of it again at random.
fn wait_for(e: &Error, backoff: Duration) -> Duration {
    match e {
        Error::Problem {
            retry_after_seconds: Some(s),
            ..
        } => jittered(Duration::from_secs(*s).max(backoff)),
        _ => jittered(backoff),
    }
}

/// `wait` and up to half of it again, at random: clients refused together spread out.
pub(crate) fn jittered(wait: Duration) -> Duration {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes).expect("the OS gives random bytes");
    let share = f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX) / 2.0;
    wait + wait.mul_f64(share)
}

/// 128 random bits in hex: unique enough that two sessions never collide.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS gives random bytes");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("c-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_is_stretched_by_at_most_half() {
        let waits: Vec<Duration> = (0..200).map(|_| jittered(Duration::from_secs(2))).collect();
        assert!(
            waits
                .iter()
                .all(|w| (Duration::from_secs(2)..=Duration::from_secs(3)).contains(w))
        );
        let spread = waits.iter().max().unwrap().saturating_sub(*waits.iter().min().unwrap());
        assert!(spread > Duration::from_millis(500), "spread out: {spread:?}");
    }
}
