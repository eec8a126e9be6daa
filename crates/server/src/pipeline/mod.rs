//! The write pipeline, one thread per stage, each handing the next a message over a
//! bounded channel (the types are in `stages`):
//!
//! 1. `engine` (thread `murphy-loop`): owns the `State` and the sessions; applies each
//!    batch of requests in arrival order and seals it.
//! 2. `committer` (thread `murphy-commit`): appends sealed batches to the log (one
//!    fsync per group), then publishes the snapshot and answers. An answer waits for
//!    this append and nothing else.
//! 3. `materializer` (thread `murphy-materialize`): brings the tables up to the log,
//!    coalesced, off the answer path.
//!
//! `Handle` is the HTTP side's end: submit a request, mint a token, read a snapshot.

mod committer;
mod engine;
mod handoff;
mod health;
mod lag;
mod materializer;
mod stages;

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Instant;

use murphy_core::Command;
use murphy_store::{Backend, Recovered, StoreError, TokenRow};
use tokio::sync::oneshot;

pub(crate) use health::{Health, Refusal, RefusalKind};
pub(crate) use lag::Lag;
pub(crate) use stages::{Answer, RulesRefusal, TokenRefusal, TokenResult};

use crate::auth::TokenHash;
use crate::config::Limits;
use crate::metrics::{Metrics, WriterGauges};
use crate::snapshot::{Publisher, Tokens};
use committer::Committer;
use engine::Engine;
use handoff::Handoff;
use materializer::Materializer;
use stages::{Durable, Message, Sealed, Submission};

/// Why a request could not be handed to the loop.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SubmitError {
    /// The queue is full: shed load with `503`.
    Overloaded,
    /// The loop has stopped (shutdown or a failed append).
    Stopped,
}

/// The HTTP side's handle: a bounded queue into the loop.
#[derive(Clone)]
pub(crate) struct Handle {
    queue: SyncSender<Message>,
    metrics: Arc<Metrics>,
    lag: Arc<Lag>,
    health: Arc<Health>,
}

impl Handle {
    /// Whether the store takes writes (`/healthz` reports it).
    pub(crate) fn health(&self) -> &Health {
        &self.health
    }

    /// The pipeline's gauges now, for `/metrics`.
    pub(crate) fn gauges(&self) -> WriterGauges {
        WriterGauges {
            lag_commands: self.lag.commands(),
            lag_age: self.lag.age(),
            writes_accepted: self.health.refusal().is_none(),
        }
    }

    pub(crate) async fn submit(
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
    pub(crate) async fn mint_token(&self, student: String, hash: TokenHash) -> Result<TokenResult, SubmitError> {
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
                // The front door sheds writes while the queue is full; this is the race
                // of two writes for its last place.
                self.metrics.shed(crate::metrics::Shed::Queue);
                Err(SubmitError::Overloaded)
            }
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Stopped),
        }
    }
}

/// Starts the three stages over `backend`, from what start-up recovered. They run until
/// every `Handle` is dropped (then the loop drains its queue, the committer appends the
/// last batch, the materializer writes the last changes) or an append fails. The
/// returned thread ends when all three have.
/// `publisher` gets the recovered state first, then every durable state after it.
pub(crate) fn start(
    backend: Arc<dyn Backend>,
    recovered: Recovered,
    limits: Limits,
    metrics: Arc<Metrics>,
    publisher: Publisher,
) -> std::io::Result<(Handle, JoinHandle<Result<(), StoreError>>)> {
    let Recovered {
        tables,
        state,
        changes,
        mut sessions,
        tokens,
        ..
    } = recovered;
    let tokens = token_map(tokens)?;
    publisher.publish(&state, tokens.clone(), &changes);
    let lag = Arc::new(Lag::new(tables.lsn()));
    lag.appended(state.lsn());
    let handoff = Arc::new(Handoff::default());
    let (to_committer, committer_inbox) = sync_channel(limits.pipeline_batches_max);
    let (queue, inbox) = sync_channel(limits.queue_requests_max);
    let health = Arc::new(Health::default());
    let replayed = Durable {
        state: state.clone(),
        changes,
        sessions: sessions.take_changes(),
    };
    let shared = (lag.clone(), metrics.clone(), health.clone());
    let materializer = Materializer::new(backend.clone(), tables, replayed, shared, &limits);
    let committer = Committer {
        backend: backend.clone(),
        publisher,
        metrics: metrics.clone(),
        health: health.clone(),
        handoff: handoff.clone(),
        lag: lag.clone(),
        limits: limits.clone(),
    };
    let engine = Engine::new(
        (state, sessions),
        tokens,
        to_committer,
        backend,
        health.clone(),
        metrics.clone(),
        limits,
    );
    let thread = spawn_stages((engine, inbox), (committer, committer_inbox), (materializer, handoff))?;
    let handle = Handle {
        queue,
        metrics,
        lag,
        health,
    };
    Ok((handle, thread))
}

/// One thread per stage. The returned thread is the loop's; it ends after the committer,
/// which ends after the materializer: each drains what the one before handed it.
fn spawn_stages(
    (engine, inbox): (Engine, Receiver<Message>),
    (committer, committer_inbox): (Committer, Receiver<Sealed>),
    (materializer, handoff): (Materializer, Arc<Handoff>),
) -> std::io::Result<JoinHandle<Result<(), StoreError>>> {
    let spawn = |name: &str| std::thread::Builder::new().name(name.into());
    let materializer = spawn("murphy-materialize").spawn(move || materializer.run(&handoff))?;
    let committer = spawn("murphy-commit").spawn(move || {
        let result = committer.run(committer_inbox);
        // The committer has closed the handoff (on drop): the materializer writes the rest.
        let _ = materializer.join();
        result
    })?;
    spawn("murphy-loop").spawn(move || {
        engine.run(inbox);
        // The loop hung up on the committer: it drains the last batches and ends.
        committer
            .join()
            .unwrap_or_else(|_| Err(StoreError::Corrupt("the committer panicked".into())))
    })
}

/// Token hash -> student, from the store's rows.
pub(crate) fn token_map(rows: Vec<TokenRow>) -> std::io::Result<Tokens> {
    let mut tokens = imbl::HashMap::new();
    for token in rows {
        let hash = TokenHash::from_hex(&token.hash)
            .ok_or_else(|| std::io::Error::other(format!("a stored token hash is not hex: {:?}", token.hash)))?;
        tokens.insert(hash, token.student);
    }
    Ok(tokens)
}
