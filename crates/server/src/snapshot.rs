//! What readers see: an immutable, durable state, published by the loop after each
//! commit. Cloning the state is O(1) (persistent maps); the serialized catalog is
//! cached per catalog version, so a busy `GET /api/v1/sections` serializes once.

use std::sync::{Arc, OnceLock};

use murphy_core::State;

use crate::auth::TokenHash;

pub struct Snapshot {
    pub state: State,
    /// Token hash -> student id.
    pub tokens: imbl::HashMap<TokenHash, String>,
    /// The JSON of `GET /api/v1/sections` at `state.catalog_version()`, made on demand.
    catalog_json: Arc<OnceLock<Arc<str>>>,
}

impl Snapshot {
    pub fn first(state: State, tokens: imbl::HashMap<TokenHash, String>) -> Snapshot {
        Snapshot {
            state,
            tokens,
            catalog_json: Default::default(),
        }
    }

    /// The snapshot after `self`, keeping the cached catalog if no section changed.
    pub fn next(&self, state: State, tokens: imbl::HashMap<TokenHash, String>) -> Snapshot {
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

    pub fn catalog_json(&self, make: impl FnOnce(&State) -> String) -> Arc<str> {
        self.catalog_json.get_or_init(|| make(&self.state).into()).clone()
    }
}
