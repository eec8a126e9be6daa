//! The types that pass between the stages of the write pipeline. Every stage imports
//! them from here and none imports another stage, so the stages form a line, not a
//! circle: HTTP --Message--> engine --Sealed--> committer --Durable--> materializer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use murphy_core::{Changes, Command, CommandKind, RulesVersion, SessionChange, State, Unknown};
use murphy_store::Records;
use tokio::sync::oneshot;

use super::health::Refusal;
use crate::auth::TokenHash;

/// A write request for the loop: one request's commands, applied back to back.
pub(crate) struct Submission {
    /// The session owner: a student id, or `Principal::Admin.owner()`.
    pub(crate) owner: String,
    /// `(client, seq)` when the request is part of an exactly-once session.
    pub(crate) session: Option<(String, u64)>,
    pub(crate) commands: Vec<Command>,
    pub(crate) reply: oneshot::Sender<Answer>,
}

/// The loop's answer to a `Submission`, sent only after its batch is durable.
#[derive(Debug)]
pub(crate) enum Answer {
    /// The JSON array of `{"lsn","outcome"}`: fresh, or the kept answer of a retry.
    Results(Arc<str>),
    /// A retry of an earlier request of the session: its answer is these log entries.
    InLog {
        first_lsn: u64,
        last_lsn: u64,
    },
    /// The request names something that does not exist; nothing was applied.
    Unknown(Unknown),
    /// The request needs rules the cluster or this node is not at; nothing was applied.
    Rules(RulesRefusal),
    /// `seq` skipped ahead and the missing requests did not arrive in time.
    Gap {
        expected: u64,
        got: u64,
    },
    /// The session id belongs to someone else.
    NotOwner,
    /// The session was idle too long and has expired: start a new one.
    Expired,
    /// A retry older than the requests the session remembers.
    Forgotten {
        oldest: u64,
        got: u64,
    },
    /// No room for another session.
    TooManySessions,
    /// Writes are refused (a store fault): nothing of the request was applied.
    Refused(Refusal),
    ShuttingDown,
}

/// Why a request is refused for the rules version, before the log.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RulesRefusal {
    /// A command of a kind introduced by rules the log is not at yet: an older binary
    /// could not replay it.
    CommandTooNew {
        kind: CommandKind,
        since: RulesVersion,
        current: RulesVersion,
    },
    /// `upgrade_rules` to a version newer than this node knows.
    UpgradeUnknown { asked: RulesVersion, known: RulesVersion },
}

/// Whether a token was recorded.
pub(crate) type TokenResult = Result<(), TokenRefusal>;

/// Why a token was not recorded.
#[derive(Debug)]
pub(crate) enum TokenRefusal {
    Unknown(Unknown),
    Refused(Refusal),
}

/// What the HTTP side sends the loop.
pub(crate) enum Message {
    Submit(Submission, Instant),
    MintToken {
        student: String,
        hash: TokenHash,
        reply: oneshot::Sender<TokenResult>,
    },
}

/// A batch applied in memory by the loop, on its way to the log.
pub(crate) struct Sealed {
    /// The health generation the batch was applied in (see `Health`).
    pub(crate) generation: u64,
    pub(crate) records: Records,
    /// The state after the batch, and the entities it changed.
    pub(crate) state: State,
    pub(crate) changes: Changes,
    /// Sessions the batch started, advanced, expired or forgot.
    pub(crate) sessions: Vec<SessionChange>,
    /// Token hash -> student, after the batch.
    pub(crate) tokens: imbl::HashMap<TokenHash, String>,
    pub(crate) answers: Vec<(oneshot::Sender<Answer>, Answer)>,
    pub(crate) token_answers: Vec<(oneshot::Sender<TokenResult>, TokenResult)>,
    /// How long the batch's oldest request waited for the loop.
    pub(crate) lag: Duration,
}

impl Sealed {
    /// Answers every request of the batch with `refusal`: nothing of it was applied.
    pub(crate) fn refuse(self, refusal: &Refusal) {
        for (reply, _) in self.answers {
            let _ = reply.send(Answer::Refused(refusal.clone()));
        }
        for (reply, _) in self.token_answers {
            let _ = reply.send(Err(TokenRefusal::Refused(refusal.clone())));
        }
    }

    /// Appends a later batch, so both go to the log in one append.
    pub(crate) fn absorb(&mut self, later: Sealed) {
        self.records.entries.extend(later.records.entries);
        self.records.tokens.extend(later.records.tokens);
        self.state = later.state;
        self.changes.sections.extend(later.changes.sections);
        self.changes.students.extend(later.changes.students);
        self.sessions.extend(later.sessions);
        self.tokens = later.tokens;
        self.answers.extend(later.answers);
        self.token_answers.extend(later.token_answers);
        self.lag = self.lag.max(later.lag);
    }
}

/// What the committer hands the materializer after an append: the durable state and
/// what changed since the previous `Durable`.
pub(crate) struct Durable {
    pub(crate) state: State,
    pub(crate) changes: Changes,
    pub(crate) sessions: Vec<SessionChange>,
}
