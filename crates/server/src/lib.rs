//! murphy's server: the write pipeline (`pipeline`: the state-owning event loop, the
//! group-committing appender, the materializer), the snapshots readers are served from
//! (`snapshot`), the roles of a cluster's nodes (`cluster`), the waiting room (`line`),
//! and the HTTP API v1 (`http`).
//!
//! `Server::open` recovers the state from the store and starts the pipeline (alone, on
//! SQLite) or joins a cluster (on PostgreSQL); `Server::serve` answers HTTP until its
//! shutdown future resolves, then drains the queue, appends the last batch, materializes
//! the tables and closes the store.

mod auth;
mod catalog;
mod cluster;
mod config;
mod cookie;
pub mod hello;
mod http;
mod line;
mod live;
mod lock;
mod metrics;
/// The identity provider's configuration, which `murphy serve` builds from its flags.
pub mod oidc;
mod pipeline;
/// The problem codes the server answers with, public for the API document's test.
pub mod problem;
mod server;
mod snapshot;

use murphy_store::StoreError;

pub use auth::AdminTokenSource;
pub use config::{Config, Database, Limits};
pub use server::Server;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Said once: the cause is part of the message, not a second line.
    #[error("{context}: {cause}")]
    Io { context: String, cause: std::io::Error },
    #[error("cannot create the data directory {}: {cause}; {fix}", path.display())]
    DataDir {
        path: std::path::PathBuf,
        cause: std::io::Error,
        fix: &'static str,
    },
    #[error("the event loop stopped: {0}")]
    Loop(String),
    #[error("{0}")]
    Refused(String),
    /// The configuration cannot work (say, an identity provider over plain HTTP).
    #[error("{0}")]
    Config(String),
    /// Another process serves the data directory.
    #[error("{}", lock::locked_message(dir, *holder))]
    Locked {
        dir: std::path::PathBuf,
        holder: Option<u32>,
    },
}
