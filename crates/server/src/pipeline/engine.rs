//! The event loop: one thread owns the `State` and the session table. It takes
//! requests from a bounded queue, drains up to a batch, decides each session request
//! (`Sessions::decide`), applies commands in arrival order, and seals the batch for the
//! committer. No lock guards the state: it has exactly one owner; readers get snapshots.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant};

use murphy_core::wire::CommandResult;
use murphy_core::{Command, Decision, LogEntry, Sessions, State, Unknown};
use murphy_store::{Backend, Records, TokenRow};
use time::OffsetDateTime;
use tokio::sync::oneshot;

use super::health::{Health, Refusal, RefusalKind};
use super::stages::{Answer, Message, RulesRefusal, Sealed, Submission, TokenRefusal, TokenResult};
use crate::auth::TokenHash;
use crate::config::Limits;
use crate::metrics::Metrics;

/// How often an idle loop looks at the store's health.
const HEALTH_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// While writes are refused, the first wait before one batch tries the store again; it
/// doubles after each failed try, up to `PROBE_INTERVAL_MAX`.
const PROBE_INTERVAL_FIRST: Duration = Duration::from_millis(100);
const PROBE_INTERVAL_MAX: Duration = Duration::from_secs(5);

/// How long the loop waits to learn whether a trial batch reached the log.
const PROBE_VERDICT_TIME_MAX: Duration = Duration::from_secs(30);

pub(super) struct Engine {
    state: State,
    sessions: Sessions,
    /// Token hash -> student, including tokens not yet durable.
    tokens: imbl::HashMap<TokenHash, String>,
    /// Sealed batches go here, in order; the bound is the pipeline's depth.
    committer: SyncSender<Sealed>,
    /// The store, to rebuild the state from after a failed append.
    backend: Arc<dyn Backend>,
    health: Arc<Health>,
    /// The health generation the state was built in.
    generation: u64,
    /// While writes are refused: when the next trial batch may go, and the wait after.
    probe_at: Instant,
    probe_interval: Duration,
    /// Session requests that arrived ahead of a missing seq, by client then seq.
    held: HashMap<String, BTreeMap<u64, Held>>,
    held_count: usize,
    metrics: Arc<Metrics>,
    limits: Limits,
    /// Arrival times are kept monotonic so the log reads in time order.
    last_at: OffsetDateTime,
    /// The last batch's entries: the next batch's room, so it never grows piecemeal.
    entries_last: usize,
}

pub(super) struct Held {
    deadline: Instant,
    submission: Submission,
}

/// One batch in the making: what to append, and whom to answer once it is durable.
struct Pending {
    /// While writes are refused, whether this batch is the one that tries the store.
    probe: bool,
    at: OffsetDateTime,
    records: Records,
    answers: Vec<(oneshot::Sender<Answer>, Answer)>,
    token_answers: Vec<(oneshot::Sender<TokenResult>, TokenResult)>,
    oldest: Option<Instant>,
}

impl Engine {
    /// The loop over the state start-up recovered.
    pub(super) fn new(
        (state, sessions): (State, Sessions),
        tokens: imbl::HashMap<TokenHash, String>,
        committer: SyncSender<Sealed>,
        backend: Arc<dyn Backend>,
        health: Arc<Health>,
        metrics: Arc<Metrics>,
        limits: Limits,
    ) -> Engine {
        Engine {
            state,
            sessions,
            tokens,
            committer,
            backend,
            health,
            generation: 0,
            probe_at: Instant::now(),
            probe_interval: Duration::ZERO,
            held: HashMap::new(),
            held_count: 0,
            metrics,
            limits,
            last_at: OffsetDateTime::UNIX_EPOCH,
            entries_last: 0,
        }
    }

    /// Runs until every handle is gone.
    pub(super) fn run(mut self, inbox: Receiver<Message>) {
        loop {
            if self.health.generation() != self.generation {
                self.rewind();
            }
            // Wake at least every HEALTH_CHECK_INTERVAL to notice a failed append.
            let deadline = self
                .next_deadline()
                .unwrap_or_else(|| Instant::now() + HEALTH_CHECK_INTERVAL);
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
            let probe = pending.probe && !pending.records.is_empty();
            if !self.seal(pending) {
                break;
            }
            if probe {
                self.await_probe();
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
            probe: false,
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
                let waited = enqueued.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
                self.metrics.queue_wait_us.store(waited, Ordering::Relaxed);
                pending.oldest = Some(pending.oldest.map_or(enqueued, |o| o.min(enqueued)));
                self.submit(submission, pending);
            }
            Message::MintToken { student, hash, reply } => {
                let result = if let Err(refusal) = self.admit(pending) {
                    Err(TokenRefusal::Refused(refusal))
                } else if self.state.student(&student).is_some() {
                    self.tokens.insert(hash, student.clone());
                    let hash = hash.to_hex();
                    pending.records.tokens.push(TokenRow { hash, student });
                    Ok(())
                } else {
                    Err(TokenRefusal::Unknown(Unknown::Student(student)))
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
        if let Err(refusal) = self.admit(pending) {
            answer(pending, submission, Answer::Refused(refusal));
            return false;
        }
        if let Some(unknown) = self.state.find_unknown(&submission.commands) {
            answer(pending, submission, Answer::Unknown(unknown));
            return false;
        }
        if let Some(refusal) = self.gate(&submission.commands) {
            answer(pending, submission, Answer::Rules(refusal));
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
                rules: applied.rules,
                client: client.clone(),
                seq,
                owner: owner.clone(),
                command: command.clone(),
                outcome: applied.outcome,
                effects: applied.effects,
            });
        }
        let registrar = submission.owner == murphy_core::session::REGISTRAR_OWNER;
        let results: Arc<str> = CommandResult::answer_json(&results, registrar).into();
        if let (Some(client), Some(seq)) = (client, seq) {
            let commands = u32::try_from(submission.commands.len()).expect("requests are small");
            let kept = Some(results.clone());
            self.sessions
                .record(&submission.owner, &client, seq, pending.at, first_lsn, commands, kept);
        }
        answer(pending, submission, Answer::Results(results));
        true
    }

    /// What the log's rules do not let in yet: a command of a kind newer than the
    /// cluster's version (the binaries that may still replay the log do not know it),
    /// or an upgrade to rules this node does not know. Checked here, where the version
    /// is exact, and before the log.
    fn gate(&self, commands: &[Command]) -> Option<RulesRefusal> {
        let current = self.state.rules();
        commands.iter().find_map(|command| match command {
            Command::UpgradeRules { rules } if *rules > self.limits.rules_version_max => {
                Some(RulesRefusal::UpgradeUnknown {
                    asked: *rules,
                    known: self.limits.rules_version_max,
                })
            }
            _ if command.kind().since() > current => Some(RulesRefusal::CommandTooNew {
                kind: command.kind(),
                since: command.kind().since(),
                current,
            }),
            _ => None,
        })
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

    /// Whether a write may be applied now. While the store refuses writes, one batch
    /// every `probe_interval` tries it again; the rest are refused without being applied.
    fn admit(&mut self, pending: &mut Pending) -> Result<(), Refusal> {
        let Some(refusal) = self.health.refusal() else {
            self.probe_interval = PROBE_INTERVAL_FIRST;
            return Ok(());
        };
        if refusal.stopped() {
            return Err(refusal);
        }
        if pending.probe {
            return Ok(());
        }
        let now = Instant::now();
        if now < self.probe_at {
            return Err(refusal);
        }
        pending.probe = true;
        self.probe_at = now + self.probe_interval;
        self.probe_interval = (self.probe_interval * 2).min(PROBE_INTERVAL_MAX);
        Ok(())
    }

    /// After sealing a trial batch, waits to learn whether it reached the log: if not,
    /// the next turn rebuilds the state without it.
    fn await_probe(&self) {
        if self.health.wait_for_verdict(self.generation, PROBE_VERDICT_TIME_MAX) {
            tracing::info!("the store accepts appends again; writes resume");
        }
    }

    /// An append failed: everything applied since the last one that worked never
    /// reached the log. The state, sessions and tokens are rebuilt from the store.
    fn rewind(&mut self) {
        let generation = self.health.generation();
        match murphy_store::recover(&*self.backend, self.limits.sessions(), self.limits.rules_version_max) {
            Ok(mut recovered) => {
                // What the replay marked changed is the materializer's already.
                recovered.sessions.take_changes();
                match super::token_map(recovered.tokens) {
                    Ok(tokens) => {
                        self.state = recovered.state;
                        self.sessions = recovered.sessions;
                        self.tokens = tokens;
                    }
                    Err(e) => self.health.stop(&e.to_string(), RefusalKind::Failed),
                }
            }
            Err(e) if e.is_fault() => {
                // The store cannot be read now either: try again on the next turn.
                tracing::warn!("rebuilding the state from the store failed; trying again: {e}");
                std::thread::sleep(HEALTH_CHECK_INTERVAL);
                return;
            }
            Err(e) => self.health.stop(
                &format!("rebuilding the state from the store failed: {e}"),
                RefusalKind::Failed,
            ),
        }
        self.state.take_changes();
        self.generation = self.health.generation().max(generation);
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
            generation: self.generation,
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
