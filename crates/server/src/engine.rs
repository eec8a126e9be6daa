//! The event loop: one thread owns the `State`. It takes requests from a bounded queue,
//! drains up to a batch, applies each command in arrival order, and seals the batch for
//! the committer (`committer.rs`), which makes it durable with one fsync, publishes an
//! immutable snapshot, and only then answers every request of the batch. No lock guards
//! the state: it has exactly one owner, and readers get snapshots.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{self, Relaxed};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use murphy_core::wire::CommandResult;
use murphy_core::{Command, LogEntry, State, Unknown};
use murphy_store::{Batch, Checkpointer, Loaded, SessionRow, Store, StoreError, TokenRow};

use crate::committer::{Committer, Sealed};
use murphy_core::wire::SectionEvent;
use time::OffsetDateTime;
use tokio::sync::{broadcast, oneshot};

use crate::config::Limits;
use crate::metrics::Metrics;
use crate::snapshot::Snapshot;

/// A write request for the loop: one request's commands, applied back to back.
pub struct Submission {
    /// The session owner: a student id, or `Principal::Admin.owner()`.
    pub owner: String,
    /// `(client, seq)` when the request is part of an exactly-once session.
    pub session: Option<(String, u64)>,
    pub commands: Vec<Command>,
    pub reply: oneshot::Sender<Answer>,
}

/// The loop's answer to a `Submission`, sent only after its batch is durable.
#[derive(Debug)]
pub enum Answer {
    /// The JSON array of `{"lsn","outcome"}`: fresh, or the stored answer of a retry.
    Results(Arc<str>),
    /// A retry of an older request of the session: its answer is in the log.
    InLog {
        client: String,
        seq: u64,
    },
    /// The request names something that does not exist; nothing was applied.
    Unknown(Unknown),
    /// `seq` skipped ahead and the missing requests did not arrive in time.
    Gap {
        expected: u64,
        got: u64,
    },
    /// The session id belongs to someone else.
    NotOwner,
    ShuttingDown,
}

/// Whether a token was recorded: `Err` names the unknown student.
pub type TokenResult = Result<(), Unknown>;

enum Message {
    Submit(Submission, Instant),
    MintToken {
        student: String,
        hash: String,
        reply: oneshot::Sender<Result<(), Unknown>>,
    },
}

/// Why a request could not be handed to the loop.
#[derive(Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full: shed load with `503`.
    Overloaded,
    /// The loop has stopped (shutdown or a failed commit).
    Stopped,
}

/// The HTTP side's handle: a bounded queue into the loop and the published snapshot.
#[derive(Clone)]
pub struct EngineHandle {
    queue: SyncSender<Message>,
    events: broadcast::Sender<Arc<Vec<SectionEvent>>>,
    snapshot: Arc<ArcSwap<Snapshot>>,
    metrics: Arc<Metrics>,
}

impl EngineHandle {
    /// Live seat counts: every commit's changed sections, after they are durable.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<SectionEvent>>> {
        self.events.subscribe()
    }

    /// The latest durable state. Never waits for the loop.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    pub async fn submit(
        &self,
        owner: String,
        session: Option<(String, u64)>,
        commands: Vec<Command>,
    ) -> Result<Answer, SubmitError> {
        let (reply, answer) = oneshot::channel();
        let submission = Submission {
            owner,
            session,
            commands,
            reply,
        };
        self.send(Message::Submit(submission, Instant::now()))?;
        answer.await.map_err(|_| SubmitError::Stopped)
    }

    /// Records a student token (by its hash) durably; `Err` if the student is unknown.
    pub async fn mint_token(&self, student: String, hash: String) -> Result<TokenResult, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.send(Message::MintToken { student, hash, reply })?;
        answer.await.map_err(|_| SubmitError::Stopped)
    }

    fn send(&self, message: Message) -> Result<(), SubmitError> {
        match self.queue.try_send(message) {
            Ok(()) => {
                self.metrics.queue_enqueued.fetch_add(1, Relaxed);
                Ok(())
            }
            Err(TrySendError::Full(_)) => {
                self.metrics.requests_shed.fetch_add(1, Relaxed);
                Err(SubmitError::Overloaded)
            }
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Stopped),
        }
    }
}

/// Starts the loop on its own thread. It runs until every `EngineHandle` is dropped
/// (then it drains the queue, commits and returns) or a commit fails.
pub fn start(
    store: Store,
    loaded: Loaded,
    limits: Limits,
    metrics: Arc<Metrics>,
) -> std::io::Result<(EngineHandle, std::thread::JoinHandle<Result<(), StoreError>>)> {
    let (queue, inbox) = sync_channel(limits.queue_requests_max);
    let tokens = loaded.tokens.into_iter().map(|t| (t.hash, t.student)).collect();
    let snapshot = Arc::new(ArcSwap::from_pointee(Snapshot::first(loaded.state.clone(), tokens)));
    let sessions = loaded
        .sessions
        .into_iter()
        .map(|s| {
            (
                s.client,
                Session {
                    owner: s.owner,
                    seq: s.seq,
                    results: s.results_json.into(),
                },
            )
        })
        .collect();
    let failed = Arc::new(AtomicBool::new(false));
    let checkpointer = Checkpointer::open(store.path()).map_err(std::io::Error::other)?;
    let (events, _) = broadcast::channel(EVENT_BATCHES_BUFFERED_MAX);
    let committer = Committer {
        events: events.clone(),
        store,
        durable: loaded.state.clone(),
        published: snapshot.clone(),
        metrics: metrics.clone(),
        failed: failed.clone(),
    };
    let (sealed, sealed_inbox) = sync_channel(limits.pipeline_batches_max);
    let engine = Engine {
        tokens: snapshot.load().tokens.clone(),
        state: loaded.state,
        committer: sealed,
        committer_failed: failed,
        sessions,
        held: HashMap::new(),
        held_count: 0,
        metrics: metrics.clone(),
        limits,
        last_at: OffsetDateTime::UNIX_EPOCH,
    };
    let (loop_alive, loop_gone) = sync_channel::<()>(0);
    let spawn = |name: &str| std::thread::Builder::new().name(name.into());
    spawn("murphy-checkpoint").spawn(move || checkpoint(checkpointer, loop_gone))?;
    let committer = spawn("murphy-commit").spawn(move || committer.run(sealed_inbox))?;
    let thread = spawn("murphy-loop").spawn(move || {
        let _alive = loop_alive;
        engine.run(inbox);
        // The loop hung up on the committer: it drains the last batches and ends.
        committer
            .join()
            .unwrap_or_else(|_| Err(StoreError::Corrupt("the committer panicked".into())))
    })?;
    Ok((
        EngineHandle {
            queue,
            events,
            snapshot,
            metrics,
        },
        thread,
    ))
}

/// Commits a live watcher may fall behind by before it is dropped.
const EVENT_BATCHES_BUFFERED_MAX: usize = 1024;

/// How often an idle loop checks that the committer is still alive.
const FAILURE_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// How often committed pages are moved from the WAL into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(100);

/// Checkpoints until the loop thread is gone (its end of `loop_gone` dropped).
fn checkpoint(checkpointer: Checkpointer, loop_gone: Receiver<()>) {
    while let Err(RecvTimeoutError::Timeout) = loop_gone.recv_timeout(CHECKPOINT_INTERVAL) {
        if let Err(e) = checkpointer.checkpoint() {
            tracing::warn!("checkpoint failed (the WAL grows until one succeeds): {e}");
        }
    }
}

struct Session {
    owner: String,
    seq: u64,
    results: Arc<str>,
}

struct Held {
    deadline: Instant,
    submission: Submission,
}

/// One batch in the making: what to write, and whom to answer once it is durable.
struct Pending {
    at: OffsetDateTime,
    batch: Batch,
    answers: Vec<(oneshot::Sender<Answer>, Answer)>,
    token_answers: Vec<(oneshot::Sender<TokenResult>, TokenResult)>,
    oldest: Option<Instant>,
}

struct Engine {
    state: State,
    /// Token hash -> student, including tokens not yet durable.
    tokens: imbl::HashMap<String, String>,
    /// Sealed batches go here, in order; the bound is the pipeline's depth.
    committer: SyncSender<Sealed>,
    committer_failed: Arc<AtomicBool>,
    sessions: HashMap<String, Session>,
    /// Session requests that arrived ahead of a missing seq, by client then seq.
    held: HashMap<String, BTreeMap<u64, Held>>,
    held_count: usize,
    metrics: Arc<Metrics>,
    limits: Limits,
    /// Arrival times are kept monotonic so the log reads in time order.
    last_at: OffsetDateTime,
}

impl Engine {
    /// Runs until every handle is gone or the committer failed.
    fn run(mut self, inbox: Receiver<Message>) {
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
            while pending.batch.entries.len() < self.limits.batch_commands_max {
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
        Pending {
            at: self.last_at,
            batch: Batch::default(),
            answers: Vec::new(),
            token_answers: Vec::new(),
            oldest: None,
        }
    }

    fn take(&mut self, message: Message, pending: &mut Pending) {
        self.metrics.queue_dequeued.fetch_add(1, Relaxed);
        match message {
            Message::Submit(submission, enqueued) => {
                pending.oldest = Some(pending.oldest.map_or(enqueued, |o| o.min(enqueued)));
                self.submit(submission, pending);
            }
            Message::MintToken { student, hash, reply } => {
                let result = if self.state.student(&student).is_some() {
                    self.tokens.insert(hash.clone(), student.clone());
                    pending.batch.tokens.push(TokenRow { hash, student });
                    Ok(())
                } else {
                    Err(Unknown::Student(student))
                };
                pending.token_answers.push((reply, result));
            }
        }
    }

    /// Sessions first (retries answered from what was stored, gaps held), then apply.
    fn submit(&mut self, mut submission: Submission, pending: &mut Pending) {
        loop {
            let Some((client, seq)) = submission.session.clone() else {
                self.apply(submission, pending);
                return;
            };
            let (last, stored) = match self.sessions.get(&client) {
                Some(s) if s.owner != submission.owner => return answer(pending, submission, Answer::NotOwner),
                Some(s) => (s.seq, Some(s.results.clone())),
                None => (0, None),
            };
            if seq <= last {
                let again = match stored {
                    Some(results) if seq == last => Answer::Results(results),
                    _ => Answer::InLog { client, seq },
                };
                return answer(pending, submission, again);
            }
            if seq > last + 1 {
                return self.hold(client, seq, submission, pending);
            }
            if !self.apply(submission, pending) {
                return;
            }
            // The next request of this session may be waiting for this one.
            match self.take_held(&client, seq + 1) {
                Some(next) => submission = next,
                None => return,
            }
        }
    }

    /// Applies a request's commands back to back; `false` if it was refused whole.
    fn apply(&mut self, submission: Submission, pending: &mut Pending) -> bool {
        if let Some(unknown) = self.state.find_unknown(&submission.commands) {
            answer(pending, submission, Answer::Unknown(unknown));
            return false;
        }
        let (client, seq) = submission.session.clone().unzip();
        let mut results = Vec::with_capacity(submission.commands.len());
        for command in submission.commands.iter() {
            let applied = self.state.apply(pending.at, command);
            results.push(CommandResult {
                lsn: applied.lsn,
                outcome: applied.outcome.clone(),
            });
            pending.batch.entries.push(LogEntry {
                lsn: applied.lsn,
                at: pending.at,
                client: client.clone(),
                seq,
                command: command.clone(),
                outcome: applied.outcome,
                effects: applied.effects,
            });
        }
        let results: Arc<str> = serde_json::to_string(&results).expect("results serialize").into();
        if let (Some(client), Some(seq)) = (client, seq) {
            let owner = submission.owner.clone();
            pending.batch.sessions.push(SessionRow {
                client: client.clone(),
                owner: owner.clone(),
                seq,
                results_json: results.to_string(),
            });
            self.sessions.insert(
                client,
                Session {
                    owner,
                    seq,
                    results: results.clone(),
                },
            );
        }
        answer(pending, submission, Answer::Results(results));
        true
    }

    fn hold(&mut self, client: String, seq: u64, submission: Submission, pending: &mut Pending) {
        let line = self.held.entry(client).or_default();
        if self.held_count >= self.limits.held_requests_max || line.contains_key(&seq) {
            let expected = self
                .sessions
                .get(&submission.session.as_ref().unwrap().0)
                .map_or(1, |s| s.seq + 1);
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
            let expected = self.sessions.get(client).map_or(1, |s| s.seq + 1);
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
            batch,
            answers,
            token_answers,
            oldest,
            ..
        } = pending;
        let changes = self.state.take_changes();
        let sealed = Sealed {
            batch,
            state: self.state.clone(),
            changes,
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
