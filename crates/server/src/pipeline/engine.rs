//! The event loop: one thread owns the `State` and the session table. It takes
//! requests from a bounded queue, drains up to a batch, decides each session request
//! (`Sessions::decide`), applies commands in arrival order, and seals the batch for the
//! committer. No lock guards the state: it has exactly one owner; readers get snapshots.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use murphy_core::wire::CommandResult;
use murphy_core::{Decision, LogEntry, Sessions, State, Unknown};
use murphy_store::{Records, TokenRow};
use time::OffsetDateTime;
use tokio::sync::oneshot;

use super::stages::{Answer, Message, Sealed, Submission, TokenResult};
use crate::auth::TokenHash;
use crate::config::Limits;
use crate::metrics::Metrics;

/// How often an idle loop checks that the committer is still alive.
const FAILURE_CHECK_INTERVAL: Duration = Duration::from_millis(100);

pub(super) struct Engine {
    pub(super) state: State,
    pub(super) sessions: Sessions,
    /// Token hash -> student, including tokens not yet durable.
    pub(super) tokens: imbl::HashMap<TokenHash, String>,
    /// Sealed batches go here, in order; the bound is the pipeline's depth.
    pub(super) committer: SyncSender<Sealed>,
    pub(super) committer_failed: Arc<AtomicBool>,
    /// Session requests that arrived ahead of a missing seq, by client then seq.
    pub(super) held: HashMap<String, BTreeMap<u64, Held>>,
    pub(super) held_count: usize,
    pub(super) metrics: Arc<Metrics>,
    pub(super) limits: Limits,
    /// Arrival times are kept monotonic so the log reads in time order.
    pub(super) last_at: OffsetDateTime,
    /// The last batch's entries: the next batch's room, so it never grows piecemeal.
    pub(super) entries_last: usize,
}

pub(super) struct Held {
    deadline: Instant,
    submission: Submission,
}

/// One batch in the making: what to append, and whom to answer once it is durable.
struct Pending {
    at: OffsetDateTime,
    records: Records,
    answers: Vec<(oneshot::Sender<Answer>, Answer)>,
    token_answers: Vec<(oneshot::Sender<TokenResult>, TokenResult)>,
    oldest: Option<Instant>,
}

impl Engine {
    /// Runs until every handle is gone or the committer failed.
    pub(super) fn run(mut self, inbox: Receiver<Message>) {
        while !self.committer_failed.load(Ordering::SeqCst) {
            // Wake at least every FAILURE_CHECK_INTERVAL to notice a failed committer.
            let deadline = self
                .next_deadline()
                .unwrap_or_else(|| Instant::now() + FAILURE_CHECK_INTERVAL);
            let first = match inbox.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(message) => Some(message),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if first.is_none() && self.held_count == 0 {
                continue;
            }
            let mut pending = self.new_pending();
            if let Some(message) = first {
                self.take(message, &mut pending);
            }
            while pending.records.entries.len() < self.limits.batch_commands_max {
                match inbox.try_recv() {
                    Ok(message) => self.take(message, &mut pending),
                    Err(_) => break,
                }
            }
            self.expire_held(Instant::now(), &mut pending);
            if !self.seal(pending) {
                break;
            }
        }
        // Every handle is gone: the queue is drained. Answer what is still held.
        for (_, line) in self.held.drain() {
            for (_, held) in line {
                let _ = held.submission.reply.send(Answer::ShuttingDown);
            }
        }
    }

    fn new_pending(&mut self) -> Pending {
        self.last_at = self.last_at.max(OffsetDateTime::now_utc());
        // Sessions idle past their horizon expire before anything of this batch is
        // decided, at the batch's time: the same time the log records.
        self.sessions.expire(self.last_at);
        Pending {
            at: self.last_at,
            records: Records {
                entries: Vec::with_capacity(self.entries_last.next_power_of_two()),
                tokens: Vec::new(),
            },
            answers: Vec::new(),
            token_answers: Vec::new(),
            oldest: None,
        }
    }

    fn take(&mut self, message: Message, pending: &mut Pending) {
        self.metrics.queue_dequeued.fetch_add(1, Ordering::Relaxed);
        match message {
            Message::Submit(submission, enqueued) => {
                pending.oldest = Some(pending.oldest.map_or(enqueued, |o| o.min(enqueued)));
                self.submit(submission, pending);
            }
            Message::MintToken { student, hash, reply } => {
                let result = if self.state.student(&student).is_some() {
                    self.tokens.insert(hash, student.clone());
                    let hash = hash.to_hex();
                    pending.records.tokens.push(TokenRow { hash, student });
                    Ok(())
                } else {
                    Err(Unknown::Student(student))
                };
                pending.token_answers.push((reply, result));
            }
        }
    }

    /// Sessions first (retries answered from what was kept, gaps held), then apply.
    fn submit(&mut self, mut submission: Submission, pending: &mut Pending) {
        loop {
            let Some((client, seq)) = submission.session.clone() else {
                self.apply(submission, pending);
                return;
            };
            let reply = match self.sessions.decide(&submission.owner, &client, seq) {
                Decision::Apply => {
                    if !self.apply(submission, pending) {
                        return;
                    }
                    // The next request of this session may be waiting for this one.
                    match self.take_held(&client, seq + 1) {
                        Some(next) => {
                            submission = next;
                            continue;
                        }
                        None => return,
                    }
                }
                Decision::Hold { .. } => return self.hold(client, seq, submission, pending),
                Decision::Again(results) => Answer::Results(results),
                Decision::InLog { first_lsn, last_lsn } => Answer::InLog { first_lsn, last_lsn },
                Decision::NotOwner => Answer::NotOwner,
                Decision::Expired => Answer::Expired,
                Decision::Forgotten { oldest } => Answer::Forgotten { oldest, got: seq },
                Decision::TooMany => Answer::TooManySessions,
            };
            return answer(pending, submission, reply);
        }
    }

    /// Applies a request's commands back to back; `false` if it was refused whole.
    fn apply(&mut self, submission: Submission, pending: &mut Pending) -> bool {
        if let Some(unknown) = self.state.find_unknown(&submission.commands) {
            answer(pending, submission, Answer::Unknown(unknown));
            return false;
        }
        let (client, seq) = submission.session.clone().unzip();
        let owner = client.as_ref().map(|_| submission.owner.clone());
        let first_lsn = self.state.lsn() + 1;
        let mut results = Vec::with_capacity(submission.commands.len());
        for command in submission.commands.iter() {
            let applied = self.state.apply(pending.at, command);
            results.push(CommandResult {
                lsn: applied.lsn,
                outcome: applied.outcome.clone(),
            });
            pending.records.entries.push(LogEntry {
                lsn: applied.lsn,
                at: pending.at,
                client: client.clone(),
                seq,
                owner: owner.clone(),
                command: command.clone(),
                outcome: applied.outcome,
                effects: applied.effects,
            });
        }
        let results: Arc<str> = serde_json::to_string(&results).expect("results serialize").into();
        if let (Some(client), Some(seq)) = (client, seq) {
            let commands = u32::try_from(submission.commands.len()).expect("requests are small");
            let kept = Some(results.clone());
            self.sessions
                .record(&submission.owner, &client, seq, pending.at, first_lsn, commands, kept);
        }
        answer(pending, submission, Answer::Results(results));
        true
    }

    fn hold(&mut self, client: String, seq: u64, submission: Submission, pending: &mut Pending) {
        let expected = self.sessions.expected(&client);
        let line = self.held.entry(client).or_default();
        if self.held_count >= self.limits.held_requests_max || line.contains_key(&seq) {
            return answer(pending, submission, Answer::Gap { expected, got: seq });
        }
        let deadline = Instant::now() + self.limits.session_gap_hold_max;
        line.insert(seq, Held { deadline, submission });
        self.held_count += 1;
    }

    fn take_held(&mut self, client: &str, seq: u64) -> Option<Submission> {
        let line = self.held.get_mut(client)?;
        let held = line.remove(&seq)?;
        if line.is_empty() {
            self.held.remove(client);
        }
        self.held_count -= 1;
        Some(held.submission)
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.held
            .values()
            .flat_map(|line| line.values())
            .map(|h| h.deadline)
            .min()
    }

    /// Answers `409` to held requests whose predecessors never came.
    fn expire_held(&mut self, now: Instant, pending: &mut Pending) {
        if self.held_count == 0 {
            return;
        }
        for (client, line) in self.held.iter_mut() {
            let expected = self.sessions.expected(client);
            let expired: Vec<u64> = line
                .iter()
                .filter(|(_, h)| h.deadline <= now)
                .map(|(&seq, _)| seq)
                .collect();
            for seq in expired {
                let held = line.remove(&seq).expect("listed above");
                self.held_count -= 1;
                answer(pending, held.submission, Answer::Gap { expected, got: seq });
            }
        }
        self.held.retain(|_, line| !line.is_empty());
    }

    /// Hands the applied batch to the committer; `false` if the committer is gone.
    fn seal(&mut self, pending: Pending) -> bool {
        let Pending {
            records,
            answers,
            token_answers,
            oldest,
            ..
        } = pending;
        self.entries_last = records.entries.len();
        self.metrics.sessions(self.sessions.counts());
        let sealed = Sealed {
            records,
            changes: self.state.take_changes(),
            sessions: self.sessions.take_changes(),
            state: self.state.clone(),
            tokens: self.tokens.clone(),
            answers,
            token_answers,
            lag: oldest.map_or_else(Duration::default, |o| o.elapsed()),
        };
        self.committer.send(sealed).is_ok()
    }
}

fn answer(pending: &mut Pending, submission: Submission, answer: Answer) {
    pending.answers.push((submission.reply, answer));
}
