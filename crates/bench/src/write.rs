//! One write in its session, retried until it is answered or given up. A session
//! never skips a seq: the server holds every later seq for a missing one and then
//! refuses it (`409 session_gap`), so a write is retried with the SAME seq, honouring
//! `Retry-After`, with a backoff that outlasts a server restart, for as long as the run
//! and `--retries` allow. A write given up ends its session (the caller opens a new
//! one) and is counted by what became of it: not sent, not applied, or an unknown
//! outcome when an attempt may have reached the server.

use std::time::{Duration, Instant};

use bytes::Bytes;
use murphy_check::Record;
use murphy_core::wire::{CommandsAnswer, CommandsRequest};
use murphy_core::{Command, Outcome};

use crate::http::{Answer, HttpError};
use crate::run::{Link, OnShed, Req, Shared, micros, nanos, second, send};
use crate::scenario::Rng;
use crate::stats::{RUN_ENDED, Recorder, UNKNOWN_OUTCOME};

/// The wait before the first retry; it doubles after each, up to the max. The first
/// retries come quickly (a lost connection is usually just that); the later ones are
/// spaced wider than a restart of murphy takes (65 to 250 ms measured), so a restart
/// costs a session a few retries, not the request.
const RETRY_BACKOFF_FIRST: Duration = Duration::from_millis(50);
const RETRY_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// A write to send: its session request and when it was due.
pub struct Pending<'a> {
    pub due: Instant,
    pub client: &'a str,
    pub seq: u64,
    pub commands: &'a [Command],
}

/// Why an attempt got no usable answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The connection could not be opened: the request never left.
    NotSent,
    /// The connection broke after the request was sent.
    Lost,
    TimedOut,
    /// A `200` whose body could not be read.
    Unreadable,
    /// `503`: the server shed the request without applying it.
    Shed,
    /// Not sent: the student's client throttled itself (the server refused most of
    /// what it was asked lately).
    Throttled,
    /// Any other status: refused before the log, so not applied; not worth retrying.
    Status(u16),
}

impl Failure {
    pub fn of(e: &HttpError) -> Failure {
        match e {
            HttpError::Connect(_) => Failure::NotSent,
            HttpError::Http(_) => Failure::Lost,
            HttpError::Timeout => Failure::TimedOut,
        }
    }

    fn retryable(self) -> bool {
        !matches!(self, Failure::Status(_))
    }

    /// Whether the server may have applied the attempt all the same.
    fn maybe_applied(self) -> bool {
        matches!(self, Failure::Lost | Failure::TimedOut | Failure::Unreadable)
    }

    pub fn cause(self) -> String {
        match self {
            Failure::NotSent => "connect failed".into(),
            Failure::Lost => "connection lost".into(),
            Failure::TimedOut => "timed out".into(),
            Failure::Unreadable => "unreadable answer".into(),
            Failure::Shed => "503 overloaded".into(),
            Failure::Throttled => "throttled by the client".into(),
            Failure::Status(status) => format!("status {status}"),
        }
    }
}

/// What became of a request given up after `failures` (in order, at least one).
pub fn fate(failures: &[Failure]) -> String {
    if let Some(maybe) = failures.iter().rev().find(|f| f.maybe_applied()) {
        return format!("{UNKNOWN_OUTCOME} ({})", maybe.cause());
    }
    match failures.last() {
        Some(Failure::NotSent) if failures.iter().all(|f| *f == Failure::NotSent) => "not sent (connect failed)".into(),
        Some(last) => format!("not applied ({})", last.cause()),
        None => "not sent".into(),
    }
}

/// How a write ended.
pub enum Written {
    Answered(Vec<Outcome>),
    /// Given up: its session must not be used again.
    GaveUp,
    /// Its retry was due after the run's end: the connection is done.
    RunEnded,
}

/// Sends `pending` until answered, given up, or cut short by the run's end.
pub async fn write(
    shared: &Shared,
    conn: &mut Link,
    recorder: &mut Recorder,
    rng: &mut Rng,
    pending: Pending<'_>,
) -> Written {
    let request = CommandsRequest {
        client: Some(pending.client.to_owned()),
        seq: Some(pending.seq),
        commands: pending.commands.to_vec(),
    };
    let body = Bytes::from(serde_json::to_vec(&request).expect("requests serialize"));
    let mut failures = Vec::new();
    let mut backoff = RETRY_BACKOFF_FIRST;
    let honour = shared.on_shed == OnShed::Honour;
    loop {
        if honour && !shared.throttle.admit(Instant::now()) {
            failures.push(Failure::Throttled);
            let wait = jittered(backoff, rng);
            let then = next(shared, Failure::Throttled, failures.len(), wait);
            if !matches!(then, Next::RunEnded) {
                // A throttled student waits before going on, given up or not: a request
                // refused here costs nothing, and a closed loop would otherwise ask (and
                // count requests against the server's accepts) as fast as it can spin.
                let left = shared.deadline.saturating_duration_since(Instant::now());
                tokio::time::sleep(wait.min(left)).await;
            }
            match then {
                Next::Retry => {}
                Next::GiveUp => {
                    recorder.unanswered(&fate(&failures));
                    return Written::GaveUp;
                }
                Next::RunEnded => {
                    recorder.unanswered(&format!("not sent (throttled by the client, {RUN_ENDED})"));
                    return Written::RunEnded;
                }
            }
            recorder.retried(&Failure::Throttled.cause());
            backoff = (backoff * 2).min(RETRY_BACKOFF_MAX);
            continue;
        }
        let sent = Instant::now();
        let sent_ns = nanos(shared, sent);
        let path = "/api/v1/commands";
        let result = send(
            shared,
            conn,
            Req::Post {
                path,
                body: body.clone(),
            },
        )
        .await;
        let answered = Instant::now();
        if honour && !matches!(&result, Ok(answer) if answer.status == 503) {
            shared.throttle.accepted(answered);
        }
        let mut record = Record {
            client: pending.client.to_owned(),
            seq: Some(pending.seq),
            sent_ns,
            answered_ns: result.is_ok().then(|| nanos(shared, answered)),
            commands: pending.commands.to_vec(),
            results: None,
            status: None,
        };
        let (failure, retry_after) = match result {
            Ok(answer) if answer.status == 200 => match serde_json::from_slice::<CommandsAnswer>(&answer.body) {
                Ok(parsed) => {
                    recorder.answered(
                        second(shared, answered),
                        micros(answered - pending.due),
                        pending.commands.len() as u64,
                    );
                    recorder.answering_attempt(micros(answered - sent));
                    if let Some(commits) = &shared.commits {
                        commits.answered(parsed.results.iter().map(|r| r.lsn), answered);
                    }
                    let outcomes: Vec<Outcome> = parsed.results.iter().map(|r| r.outcome.clone()).collect();
                    for (command, outcome) in pending.commands.iter().zip(&outcomes) {
                        recorder.outcome(&format!("{} → {}", command_kind(command), outcome.kind()));
                    }
                    record.results = Some(parsed.results);
                    log_record(shared, record);
                    return Written::Answered(outcomes);
                }
                Err(_) => (Failure::Unreadable, None),
            },
            Ok(Answer {
                status, retry_after, ..
            }) => {
                record.status = Some(status);
                let failure = if status == 503 {
                    recorder.shed(micros(answered - sent), retry_after.is_some());
                    Failure::Shed
                } else {
                    Failure::Status(status)
                };
                (failure, retry_after)
            }
            Err(e) => (Failure::of(&e), None),
        };
        log_record(shared, record);
        failures.push(failure);
        // Honouring: never sooner than the server asked, plus up to half again at random
        // (students refused together do not come back together). Retrying at once: now.
        let wait = match shared.on_shed {
            OnShed::Honour => stretched(retry_after.unwrap_or_default().max(backoff), rng),
            OnShed::RetryAtOnce if failure == Failure::Shed => Duration::ZERO,
            OnShed::RetryAtOnce => jittered(backoff, rng),
        };
        match next(shared, failure, failures.len(), wait) {
            Next::Retry => {}
            Next::GiveUp => {
                recorder.unanswered(&fate(&failures));
                return Written::GaveUp;
            }
            Next::RunEnded => {
                let fate = fate(&failures);
                let fate = fate.strip_suffix(')').unwrap_or(&fate);
                recorder.unanswered(&format!("{fate}, {RUN_ENDED})"));
                return Written::RunEnded;
            }
        }
        recorder.retried(&failure.cause());
        tokio::time::sleep(wait).await;
        backoff = (backoff * 2).min(RETRY_BACKOFF_MAX);
    }
}

/// What to do after a failed attempt.
enum Next {
    Retry,
    /// Not worth retrying, or `--retries` are used up.
    GiveUp,
    /// A retry is due, but only after the run's end (or ctrl-c ended it).
    RunEnded,
}

fn next(shared: &Shared, failure: Failure, attempts: usize, wait: Duration) -> Next {
    let retries = attempts as u64 - 1;
    if !failure.retryable() || shared.retries_max.is_some_and(|max| retries >= u64::from(max)) {
        Next::GiveUp
    } else if shared.stop.load(std::sync::atomic::Ordering::Relaxed) || Instant::now() + wait >= shared.deadline {
        Next::RunEnded
    } else {
        Next::Retry
    }
}

/// Between half of `wait` and all of it, so retries that failed together (a restart,
/// a burst of 503s) do not all come back at the same instant.
/// `wait` and up to half of it again, at random: never sooner than the server asked.
fn stretched(wait: Duration, rng: &mut Rng) -> Duration {
    let half_us = (wait.as_micros() / 2) as usize;
    wait + Duration::from_micros(rng.below(half_us.max(1)) as u64)
}

fn jittered(wait: Duration, rng: &mut Rng) -> Duration {
    let half_us = (wait.as_micros() / 2) as usize;
    wait - Duration::from_micros(rng.below(half_us.max(1)) as u64)
}

/// The command's `type`, for the outcome counts ("drop → dropped" is the drop
/// command's success, not a dropped request).
fn command_kind(command: &Command) -> &'static str {
    match command.acting_student() {
        Some(_) => command.kind().name(),
        None => "admin",
    }
}

fn log_record(shared: &Shared, record: Record) {
    if let Some(history) = &shared.history {
        let _ = history.send(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_that_may_have_reached_the_server_has_an_unknown_outcome() {
        use Failure::*;
        assert_eq!(fate(&[NotSent, NotSent]), "not sent (connect failed)");
        assert_eq!(fate(&[Shed]), "not applied (503 overloaded)");
        assert_eq!(fate(&[NotSent, Shed]), "not applied (503 overloaded)");
        // A later 503 or refused connection does not undo what a lost attempt did.
        assert_eq!(fate(&[Lost, Shed, NotSent]), "unknown outcome (connection lost)");
        assert_eq!(fate(&[TimedOut]), "unknown outcome (timed out)");
        assert_eq!(fate(&[Status(400)]), "not applied (status 400)");
        let shed = fate(&[NotSent, Shed]);
        assert_eq!(
            format!("{}, {RUN_ENDED})", shed.strip_suffix(')').unwrap()),
            crate::stats::SHED_AT_END,
            "the one fate that is no failure is spelled as the report expects"
        );
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_wait() {
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            let wait = jittered(Duration::from_millis(100), &mut rng);
            assert!(
                wait > Duration::from_millis(50) && wait <= Duration::from_millis(100),
                "{wait:?}"
            );
        }
    }
}
