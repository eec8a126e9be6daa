//! Who watches what: the index from each section (and student) to the live streams
//! that watch it, so that announcing a durable change costs the watchers of what
//! changed, never every stream.
//!
//! A stream is a `Watcher`: a flag and a wake-up. Announcing a change sets the flag of
//! each watcher of each changed entity and wakes it if the flag was clear; the stream,
//! when it runs, clears its flag and reads the latest published snapshot for the
//! versions of what it watches. So a stream holds no queue of values, only the
//! versions it last sent: at most one pending value per entity (the snapshot's, latest
//! wins), and a slow reader's memory stays what it watches.
//!
//! No change is missed: the publisher stores the snapshot before it announces, and a
//! stream clears its flag before it reads the snapshot. A change announced after that
//! read sets the flag again.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use murphy_core::Changes;
use tokio::sync::Notify;

/// Shards of the index: streams subscribing and the publisher announcing rarely meet
/// on the same lock.
const SHARDS: usize = 16;

/// What a stream may watch: a section, or a student's record.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Watched {
    Section(Arc<str>),
    Student(Arc<str>),
}

/// One live stream's side of the index.
#[derive(Default)]
pub struct Watcher {
    woken: AtomicBool,
    wake: Notify,
}

impl Watcher {
    /// Waits until something it watches has changed since the last `clear`.
    pub async fn changed(&self) {
        if self.woken.load(SeqCst) {
            return;
        }
        self.wake.notified().await;
    }

    /// Called before reading the snapshot: what changes after this wakes it again.
    pub fn clear(&self) {
        self.woken.store(false, SeqCst);
    }

    fn poke(&self) {
        if !self.woken.swap(true, SeqCst) {
            self.wake.notify_one();
        }
    }
}

type Shard = Mutex<HashMap<Watched, Vec<Arc<Watcher>>>>;

/// The index from watched entities to their watchers; shared by the publisher (which
/// announces) and the streams (which subscribe).
pub struct Hub {
    shards: Box<[Shard]>,
    /// Streams that watch every section (the registrar's, without a list).
    everything: Mutex<Vec<Arc<Watcher>>>,
    hasher: RandomState,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            everything: Mutex::default(),
            hasher: RandomState::new(),
        }
    }
}

impl Hub {
    fn shard(&self, what: &Watched) -> &Shard {
        &self.shards[self.hasher.hash_one(what) as usize % SHARDS]
    }

    pub fn subscribe(&self, what: &Watched, watcher: &Arc<Watcher>) {
        let mut shard = self.shard(what).lock().expect("not poisoned");
        shard.entry(what.clone()).or_default().push(watcher.clone());
    }

    pub fn unsubscribe(&self, what: &Watched, watcher: &Arc<Watcher>) {
        let mut shard = self.shard(what).lock().expect("not poisoned");
        if let Some(list) = shard.get_mut(what) {
            list.retain(|w| !Arc::ptr_eq(w, watcher));
            if list.is_empty() {
                shard.remove(what);
            }
        }
    }

    pub fn subscribe_everything(&self, watcher: &Arc<Watcher>) {
        self.everything.lock().expect("not poisoned").push(watcher.clone());
    }

    pub fn unsubscribe_everything(&self, watcher: &Arc<Watcher>) {
        self.everything
            .lock()
            .expect("not poisoned")
            .retain(|w| !Arc::ptr_eq(w, watcher));
    }

    /// Wakes the watchers of what `changes` names (after it is durable and published).
    /// Costs one flag per watcher of a changed entity.
    pub fn announce(&self, changes: &Changes) {
        let sections = changes.sections.iter().map(|id| Watched::Section(id.as_str().into()));
        let students = changes.students.iter().map(|id| Watched::Student(id.as_str().into()));
        for what in sections.chain(students) {
            let shard = self.shard(&what).lock().expect("not poisoned");
            for watcher in shard.get(&what).into_iter().flatten() {
                watcher.poke();
            }
        }
        if !changes.sections.is_empty() {
            for watcher in self.everything.lock().expect("not poisoned").iter() {
                watcher.poke();
            }
        }
    }

    /// Subscriptions held, over all entities (for tests and metrics).
    pub fn subscriptions(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().expect("not poisoned").values().map(Vec::len).sum::<usize>())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_wakes_its_watchers_only_and_once_until_cleared() {
        let hub = Hub::default();
        let (a, b) = (Arc::new(Watcher::default()), Arc::new(Watcher::default()));
        let one = Watched::Section("A-1".into());
        hub.subscribe(&one, &a);
        hub.subscribe(&Watched::Section("B-1".into()), &b);
        let mut changes = Changes::default();
        changes.sections.insert("A-1".into());
        hub.announce(&changes);
        hub.announce(&changes);
        tokio::time::timeout(std::time::Duration::from_secs(1), a.changed())
            .await
            .expect("a is woken");
        assert!(!b.woken.load(SeqCst), "b watches something else");
        a.clear();
        assert!(!a.woken.load(SeqCst));
        hub.unsubscribe(&one, &a);
        hub.announce(&changes);
        assert!(!a.woken.load(SeqCst), "unsubscribed");
        assert_eq!(hub.subscriptions(), 1);
    }
}
