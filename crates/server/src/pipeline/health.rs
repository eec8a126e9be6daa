//! Whether the pipeline can write. A store fault is not a crash: when an append fails
//! cleanly (the disk is full, an I/O error the store rolled back), nothing of the batch
//! is in the log, so the batch and everything applied after it are discarded and
//! answered "not applied"; the loop rebuilds its state from the store and refuses
//! writes, trying one batch now and then, until an append succeeds again. Reads go on
//! from the last durable snapshot throughout. A failure that leaves the store in doubt
//! (a failed fsync) stops writes until a restart: never silently goes on.
//!
//! The `generation` counts clean failures: batches applied in an older generation built
//! on a batch that never reached the log, and the committer discards them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Why writes are refused, as answered to the requests refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    /// What failed, with the store's words (the path, the cause).
    pub(crate) reason: Arc<str>,
    pub(crate) kind: RefusalKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefusalKind {
    /// A passing fault (a full disk): nothing applied; writes resume by themselves.
    Unavailable,
    /// The append's commit was never confirmed (the connection to the database broke
    /// as it committed): the request may or may not have been applied; the state is
    /// rebuilt from the log, which knows, and a retry with the same session seq is
    /// answered from it.
    OutcomeUnknown,
    /// The store is in doubt: writes stop until a restart.
    Failed,
    /// Another node has taken the primary's lease: this one writes nothing more.
    Deposed,
}

impl Refusal {
    /// Whether writes stay refused for good (in this pipeline).
    pub(crate) fn stopped(&self) -> bool {
        matches!(self.kind, RefusalKind::Failed | RefusalKind::Deposed)
    }
}

#[derive(Default)]
pub(crate) struct Health {
    inner: Mutex<Inner>,
    changed: Condvar,
    /// Mirrors `inner.refused.is_some()`: read on every write without the lock.
    refusing: AtomicBool,
}

#[derive(Default)]
struct Inner {
    generation: u64,
    refused: Option<Refusal>,
    /// When the writes were first refused, for the operator.
    since: Option<Instant>,
    /// Why the tables are not being written, when they are not.
    tables: Option<Arc<str>>,
}

impl Health {
    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// `None` while writes are accepted.
    pub(crate) fn refusal(&self) -> Option<Refusal> {
        if !self.refusing.load(Ordering::Acquire) {
            return None;
        }
        self.lock().refused.clone()
    }

    /// An append failed without writing (`Unavailable`) or without knowing whether it
    /// wrote (`OutcomeUnknown`): a new generation begins, and writes are refused.
    pub(crate) fn append_failed(&self, reason: &str, kind: RefusalKind) {
        let mut inner = self.lock();
        inner.generation += 1;
        if inner.refused.as_ref().is_none_or(|r| !r.stopped()) {
            inner.refused = Some(Refusal {
                reason: reason.into(),
                kind,
            });
        }
        inner.since.get_or_insert_with(Instant::now);
        self.refusing.store(true, Ordering::Release);
        self.changed.notify_all();
    }

    /// The store is in doubt (`Failed`) or this node was deposed (`Deposed`): writes
    /// stop for good.
    pub(crate) fn stop(&self, reason: &str, kind: RefusalKind) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.refused = Some(Refusal {
            reason: reason.into(),
            kind,
        });
        inner.since.get_or_insert_with(Instant::now);
        self.refusing.store(true, Ordering::Release);
        self.changed.notify_all();
    }

    /// An append succeeded: writes are accepted again (unless stopped).
    pub(crate) fn append_succeeded(&self) {
        if !self.refusing.load(Ordering::Acquire) {
            return;
        }
        let mut inner = self.lock();
        if inner.refused.as_ref().is_some_and(|r| !r.stopped()) {
            inner.refused = None;
            inner.since = None;
            self.refusing.store(false, Ordering::Release);
            self.changed.notify_all();
        }
    }

    /// Waits, at most `timeout`, until writes are accepted again or the generation moves
    /// past `generation`; returns whether writes are accepted.
    pub(crate) fn wait_for_verdict(&self, generation: u64, timeout: Duration) -> bool {
        let inner = self.lock();
        let (inner, _) = self
            .changed
            .wait_timeout_while(inner, timeout, |i| i.refused.is_some() && i.generation == generation)
            .unwrap_or_else(|p| p.into_inner());
        inner.refused.is_none()
    }

    /// The materializer's state: `Some` when its last step failed.
    pub(crate) fn tables(&self, failure: Option<&str>) {
        self.lock().tables = failure.map(Into::into);
    }

    /// Why the tables cannot be written, while the materializer's steps fail.
    pub(crate) fn tables_failing(&self) -> Option<Arc<str>> {
        self.lock().tables.clone()
    }

    /// `None` when all is well; else what `/healthz` reports. `reasons` adds the
    /// store's own words, which name files and hosts: for the operator (the admin), not
    /// for anyone who can reach the port.
    pub(crate) fn describe(&self, reasons: bool) -> Option<String> {
        let inner = self.lock();
        let why = |reason: &str| if reasons { format!(": {reason}") } else { String::new() };
        let writes = inner.refused.as_ref().map(|r| {
            let how_long = inner.since.map_or(0, |s| s.elapsed().as_secs());
            let why = why(&r.reason);
            match r.kind {
                RefusalKind::Failed => format!("writes stopped {how_long} s ago until a restart{why}"),
                RefusalKind::Deposed => format!("deposed as primary {how_long} s ago{why}"),
                _ => format!("writes refused for {how_long} s, retried by themselves{why}"),
            }
        });
        let tables = inner
            .tables
            .as_ref()
            .map(|t| format!("the tables are not being written (the log is){}", why(t)));
        match (writes, tables) {
            (None, None) => None,
            (a, b) => Some(a.into_iter().chain(b).collect::<Vec<_>>().join("; ")),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}
