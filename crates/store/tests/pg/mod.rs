//! What the PostgreSQL tests share: the throwaway server they run against (its URL in
//! `MURPHY_TEST_POSTGRES`, set by `scripts/pg-test.sh` and `scripts/test.sh`), a fresh
//! schema per store so tests run in parallel, and a store that takes the lease before
//! its first write, as a primary does.

#![allow(dead_code)] // each test file uses what it needs

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use murphy_core::LogEntry;
use murphy_store::{Backend, Materialization, Postgres, PostgresOptions, Records, Result, Tables, TokenRow};

pub const URL_VARIABLE: &str = "MURPHY_TEST_POSTGRES";

/// The lease time of stores that do not test the lease.
pub const LEASE_TIME: Duration = Duration::from_secs(30);

/// The throwaway server's URL. Fails (never skips) without one, saying how to run.
pub fn url() -> String {
    match std::env::var(URL_VARIABLE) {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "the PostgreSQL tests need a throwaway server: run `bash scripts/pg-test.sh` \
             (or the whole suite, `bash scripts/test.sh`), or start one with \
             `bash scripts/pg.sh start DIR` and set {URL_VARIABLE} to the URL it prints"
        ),
    }
}

/// A schema name no other test of any run uses.
pub fn fresh_schema() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn options(schema: &str) -> PostgresOptions {
    PostgresOptions {
        schema: schema.to_owned(),
        ..PostgresOptions::default()
    }
}

pub fn connect(url: &str, schema: &str) -> Postgres {
    Postgres::connect(url, options(schema)).unwrap()
}

/// A store that takes the lease before its first write, as a primary does at start:
/// stores opened only to read (a restart while another still writes) never take it.
pub struct Leased(pub Postgres);

impl Leased {
    fn lead(&self) -> Result<()> {
        if self.0.lease().held().is_none() {
            let epoch = self.0.lease().try_acquire("test", LEASE_TIME)?;
            assert!(epoch.is_some(), "another store holds the lease");
        }
        Ok(())
    }
}

impl Backend for Leased {
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn append(&self, records: &Records) -> Result<()> {
        self.lead()?;
        self.0.append(records)
    }
    fn materialize(&self, m: &Materialization<'_>) -> Result<()> {
        self.lead()?;
        self.0.materialize(m)
    }
    fn tables(&self) -> Result<Tables> {
        self.0.tables()
    }
    fn tokens(&self) -> Result<Vec<TokenRow>> {
        self.0.tokens()
    }
    fn log(&self, after: u64, limit: u64) -> Result<Vec<LogEntry>> {
        self.0.log(after, limit)
    }
}

/// A plain connection to the throwaway server, for what a test checks behind the
/// store's back.
pub fn raw(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}
