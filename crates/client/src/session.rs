//! Exactly-once writes: a `Session` numbers its requests (`client`, `seq`, docs/DESIGN.md §4)
//! and, when an answer is lost (timeout, dropped connection) or the server sheds load
//! (`503`), sends the SAME seq again. The server answers a repeated seq from what it
//! stored and applies nothing, so a retry can never apply a command twice.

use std::time::Duration;

use murphy_core::Command;
use murphy_core::wire::{CommandsAnswer, CommandsRequest};

use crate::{Client, Error, Result};

/// How hard a `Session` tries before giving up on one request.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait before the first retry; it doubles after each, up to `backoff_max`.
    pub backoff_first: Duration,
    pub backoff_max: Duration,
    /// How long one attempt waits for its answer.
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            backoff_first: Duration::from_millis(100),
            backoff_max: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(10),
        }
    }
}

/// One client's ordered, exactly-once stream of requests.
#[derive(Debug)]
pub struct Session {
    client: Client,
    id: String,
    /// The last seq the server answered; the next request gets `seq + 1`.
    seq: u64,
    policy: RetryPolicy,
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
        }
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Session {
        self.policy = policy;
        self
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The seq of the last answered request (0 before the first).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Sends `commands` as the next request of the session, retrying the same seq on
    /// a lost answer or a `503`. If every attempt fails, nobody knows whether the
    /// request was applied; the session then moves to a fresh client id, because the
    /// next seq would otherwise wait forever behind a request that may never arrive.
    pub async fn send(&mut self, commands: Vec<Command>) -> Result<CommandsAnswer> {
        let request = CommandsRequest {
            client: Some(self.id.clone()),
            seq: Some(self.seq + 1),
            commands,
        };
        let mut backoff = self.policy.backoff_first;
        let mut attempt = 1;
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
}

/// Lost answers and load shedding are worth another try; refusals are not.
fn retryable(e: &Error) -> bool {
    match e {
        Error::Transport(_) => true,
        Error::Problem { status, .. } => *status == 503,
        Error::Unexpected { status, .. } => *status == 503,
    }
}

/// The server's `Retry-After` when it gave one, else our own backoff.
fn wait_for(e: &Error, backoff: Duration) -> Duration {
    match e {
        Error::Problem {
            retry_after_seconds: Some(s),
            ..
        } => Duration::from_secs(*s).max(backoff),
        _ => backoff,
    }
}

/// 128 random bits in hex: unique enough that two sessions never collide.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS gives random bytes");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("c-{hex}")
}
