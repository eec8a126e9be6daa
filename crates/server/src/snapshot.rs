//! What readers see: an immutable, durable state, and where it is published. Cloning the
//! state is O(1) (persistent maps); the serialized catalog is cached per catalog version,
//! so a busy `GET /api/v1/sections` serializes once.
//!
//! `Publisher` is the one way a durable state reaches readers: the snapshot they read,
//! the live events of the sections it changed, and the version that reads asking for a
//! minimum version wait for. A primary's committer publishes after each append; a
//! secondary's follower after each stretch of the log it applied.

use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use murphy_core::wire::SectionEvent;
use murphy_core::{Changes, State};
use tokio::sync::{broadcast, watch};

use crate::auth::TokenHash;

/// Token hash -> student id.
pub(crate) type Tokens = imbl::HashMap<TokenHash, String>;

/// Appends a live watcher may fall behind by before it is dropped.
const EVENT_BATCHES_BUFFERED_MAX: usize = 1024;

pub(crate) struct Snapshot {
    pub(crate) state: State,
    pub(crate) tokens: Tokens,
    /// The JSON of `GET /api/v1/sections` at `state.catalog_version()`, made on demand.
    catalog_json: Arc<OnceLock<Arc<str>>>,
}

impl Snapshot {
    pub(crate) fn first(state: State, tokens: Tokens) -> Snapshot {
        Snapshot {
            state,
            tokens,
            catalog_json: Default::default(),
        }
    }

    /// The snapshot after `self`, keeping the cached catalog if no section changed.
    pub(crate) fn next(&self, state: State, tokens: Tokens) -> Snapshot {
        let catalog_json = if state.catalog_version() == self.state.catalog_version() {
            self.catalog_json.clone()
        } else {
            Default::default()
        };
        Snapshot {
            state,
            tokens,
            catalog_json,
        }
    }

    pub(crate) fn catalog_json(&self, make: impl FnOnce(&State) -> String) -> Arc<str> {
        self.catalog_json.get_or_init(|| make(&self.state).into()).clone()
    }
}

/// Where durable states are published; cheap to clone, every clone publishes to the same
/// readers.
#[derive(Clone)]
pub(crate) struct Publisher {
    snapshot: Arc<ArcSwap<Snapshot>>,
    events: broadcast::Sender<Arc<Vec<SectionEvent>>>,
    /// The LSN of the published state.
    version: watch::Sender<u64>,
}

impl Publisher {
    pub(crate) fn new(state: State, tokens: Tokens) -> Publisher {
        let (events, _) = broadcast::channel(EVENT_BATCHES_BUFFERED_MAX);
        let (version, _) = watch::channel(state.lsn());
        Publisher {
            snapshot: Arc::new(ArcSwap::from_pointee(Snapshot::first(state, tokens))),
            events,
            version,
        }
    }

    /// The latest durable state. Never waits.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Live seat counts: the sections each published state changed.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<SectionEvent>>> {
        self.events.subscribe()
    }

    /// The published version, to wait on.
    pub(crate) fn version(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Publishes `state` (durable) with `tokens`; `changes` are the entities changed
    /// since the last publication, announced to live watchers.
    pub(crate) fn publish(&self, state: &State, tokens: Tokens, changes: &Changes) {
        let previous = self.snapshot.load_full();
        self.snapshot.store(Arc::new(previous.next(state.clone(), tokens)));
        self.version.send_replace(state.lsn());
        self.announce(state, changes);
    }

    /// Replaces the tokens only (a secondary learning of tokens minted elsewhere).
    pub(crate) fn publish_tokens(&self, tokens: Tokens) {
        let previous = self.snapshot.load_full();
        self.snapshot
            .store(Arc::new(previous.next(previous.state.clone(), tokens)));
    }

    /// Tells live watchers what changed, after it is durable and published. A watcher
    /// too slow to keep up is dropped by the channel, never waited for.
    fn announce(&self, state: &State, changes: &Changes) {
        if changes.sections.is_empty() || self.events.receiver_count() == 0 {
            return;
        }
        let mut events: Vec<SectionEvent> = changes
            .sections
            .iter()
            .filter_map(|id| state.section(id))
            .map(SectionEvent::from)
            .collect();
        events.sort_by_key(|e| e.version);
        let _ = self.events.send(Arc::new(events));
    }
}
