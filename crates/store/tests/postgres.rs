//! The PostgreSQL backend: the conformance suite, each test in a schema of its own on
//! the throwaway server, and what only PostgreSQL has (the log in plain SQL, followers
//! woken by LISTEN/NOTIFY).

mod conformance;
mod pg;

use std::time::{Duration, Instant};

use conformance::{Harness, Model};
use murphy_store::Backend;
use pg::Leased;

struct TempSchema {
    url: String,
    schema: String,
}

impl Harness for TempSchema {
    type Backend = Leased;

    fn open(&self) -> Leased {
        Leased(pg::connect(&self.url, &self.schema))
    }
}

fn temp() -> TempSchema {
    TempSchema {
        url: pg::url(),
        schema: pg::fresh_schema(),
    }
}

conformance_suite!(temp());
