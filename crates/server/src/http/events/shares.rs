//! `Shares`: how many live streams are open, in all and per student, so that streams
//! cannot take every connection and no one student can take the streams. A `Slot` is
//! one open stream's place, given back when the stream ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;

use crate::auth::Principal;
use crate::problem::{Code, Problem};

pub struct Shares {
    open: Mutex<Open>,
    streams_max: usize,
    per_owner_max: usize,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_owner: HashMap<String, usize>,
}

/// One open stream's place; dropping it gives the place back.
pub struct Slot {
    shares: Arc<Shares>,
    owner: String,
}

impl Shares {
    pub fn new(streams_max: usize, per_owner_max: usize) -> Shares {
        Shares {
            open: Mutex::default(),
            streams_max,
            per_owner_max,
        }
    }

    /// A place for a stream of `principal`'s, or the problem that says why not.
    pub fn take(self: &Arc<Self>, principal: &Principal) -> Result<Slot, Problem> {
        let mut open = self.open.lock().expect("not poisoned");
        if open.total >= self.streams_max {
            return Err(Problem::unavailable(
                Code::TooManyStreams,
                format!(
                    "the server holds as many live streams as it may ({}); retry shortly, or refresh by reading \
                     instead",
                    self.streams_max
                ),
            ));
        }
        let owner = principal.owner().to_owned();
        let mine = open.by_owner.get(&owner).copied().unwrap_or(0);
        if *principal != Principal::Admin && mine >= self.per_owner_max {
            return Err(Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                Code::StreamShareUsed,
                format!(
                    "you already have {mine} live streams open, a student's share; close one (another tab or device) \
                     and retry"
                ),
            ));
        }
        open.total += 1;
        *open.by_owner.entry(owner.clone()).or_default() += 1;
        Ok(Slot {
            shares: self.clone(),
            owner,
        })
    }

    /// Streams open now.
    pub fn open(&self) -> usize {
        self.open.lock().expect("not poisoned").total
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.shares.open.lock().expect("not poisoned");
        open.total -= 1;
        let mine = open.by_owner.get_mut(&self.owner).expect("a slot's owner is counted");
        *mine -= 1;
        if *mine == 0 {
            open.by_owner.remove(&self.owner);
        }
    }
}
