//! What readers see: an immutable, durable state, and where it is published. Cloning the
//! state is O(1) (persistent maps); the catalog's index (`catalog::Index`) is made on
//! demand and kept from snapshot to snapshot until a section is added.
//!
//! `Publisher` is the one way a durable state reaches readers: the snapshot they read,
//! the live events of the sections it changed, and the version that reads asking for a
//! minimum version wait for. A primary's committer publishes after each append; a
//! secondary's follower after each stretch of the log it applied.

use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use murphy_core::{Changes, State};
use tokio::sync::watch;

use crate::auth::TokenHash;
use crate::catalog::Index;
use crate::live::Hub;

/// Token hash -> student id.
pub(crate) type Tokens = imbl::HashMap<TokenHash, String>;

pub(crate) struct Snapshot {
    pub(crate) state: State,
    pub(crate) tokens: Tokens,
    /// The catalog's fixed facts, for filters and pages: made on demand, and the same
    /// for every snapshot with as many sections.
    index: Arc<OnceLock<Arc<Index>>>,
}

impl Snapshot {
    pub(crate) fn first(state: State, tokens: Tokens) -> Snapshot {
        Snapshot {
            state,
            tokens,
            index: Default::default(),
        }
    }

    /// The snapshot after `self`, keeping the catalog's index while no section was
    /// added (sections are never removed, and their indexed facts never change).
    pub(crate) fn next(&self, state: State, tokens: Tokens) -> Snapshot {
        let index = if state.section_count() == self.state.section_count() {
            self.index.clone()
        } else {
            Default::default()
        };
        Snapshot { state, tokens, index }
    }

    /// The catalog's index for this state.
    pub(crate) fn index(&self) -> Arc<Index> {
        let index = self.index.get_or_init(|| Arc::new(Index::new(&self.state))).clone();
        debug_assert_eq!(index.len(), self.state.section_count());
        index
    }
}

/// Where durable states are published; cheap to clone, every clone publishes to the same
/// readers.
#[derive(Clone)]
pub(crate) struct Publisher {
    snapshot: Arc<ArcSwap<Snapshot>>,
    /// Live streams, by what they watch.
    hub: Arc<Hub>,
    /// The LSN of the published state.
    version: watch::Sender<u64>,
}

impl Publisher {
    pub(crate) fn new(state: State, tokens: Tokens) -> Publisher {
        let (version, _) = watch::channel(state.lsn());
        Publisher {
            snapshot: Arc::new(ArcSwap::from_pointee(Snapshot::first(state, tokens))),
            hub: Arc::default(),
            version,
        }
    }

    /// The latest durable state. Never waits.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Where live streams subscribe to what they watch.
    pub(crate) fn hub(&self) -> &Arc<Hub> {
        &self.hub
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
        // After the store: a stream woken now reads this snapshot or a later one.
        self.hub.announce(changes);
    }

    /// Replaces the tokens only (a secondary learning of tokens minted elsewhere).
    pub(crate) fn publish_tokens(&self, tokens: Tokens) {
        let previous = self.snapshot.load_full();
        self.snapshot
            .store(Arc::new(previous.next(previous.state.clone(), tokens)));
    }
}
