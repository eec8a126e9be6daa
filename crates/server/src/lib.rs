//! murphy's server: the write pipeline (`pipeline`: the state-owning event loop, the
//! group-committing appender, the materializer), the snapshots readers are served from
//! (`snapshot`), and the HTTP API v1 (`http`).
//!
//! `Server::open` recovers the state from the store and starts the pipeline;
//! `Server::serve` answers HTTP until its shutdown future resolves, then drains the
//! queue, appends the last batch, materializes the tables and closes the store.

pub mod auth;
pub mod config;
pub mod hello;
pub mod http;
pub mod metrics;
pub mod pipeline;
pub mod problem;
pub mod snapshot;

use std::sync::Arc;
use std::thread::JoinHandle;

use murphy_core::wire::CommandResult;
use murphy_core::{Command, Unknown};
use murphy_store::{Backend, Sqlite, StoreError};
use tokio::net::TcpListener;

pub use auth::{AdminTokenSource, Principal};
pub use config::{Config, Limits};

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
}

fn create_data_dir(config: &Config) -> Result<(), ServerError> {
    let dir = &config.data_dir;
    std::fs::create_dir_all(dir).map_err(|cause| {
        let fix = match cause.kind() {
            std::io::ErrorKind::PermissionDenied => {
                "create it with write permission for the user murphy runs as, or choose another (--data-dir)"
            }
            std::io::ErrorKind::ReadOnlyFilesystem => {
                "remount its file system read-write, or choose another (--data-dir)"
            }
            std::io::ErrorKind::StorageFull => "free some space on its disk, or choose another (--data-dir)",
            _ => "check the path, or choose another (--data-dir)",
        };
        ServerError::DataDir {
            path: dir.clone(),
            cause,
            fix,
        }
    })
}

fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServerError {
    move |cause| ServerError::Io {
        context: context.into(),
        cause,
    }
}

pub struct Server {
    app: Arc<http::App>,
    stopping: tokio::sync::watch::Sender<bool>,
    loop_thread: JoinHandle<Result<(), StoreError>>,
    admin_source: AdminTokenSource,
    replayed: u64,
}

impl Server {
    /// Opens the data directory (creating it) with the SQLite backend in it, recovers
    /// the state and starts the pipeline.
    pub fn open(config: Config) -> Result<Server, ServerError> {
        create_data_dir(&config)?;
        let store = Arc::new(Sqlite::open(&config.data_dir)?);
        Server::open_with(config, store)
    }

    /// Like `open`, over a given store (the data directory still holds the admin token).
    pub fn open_with(config: Config, store: Arc<dyn Backend>) -> Result<Server, ServerError> {
        let dir = &config.data_dir;
        create_data_dir(&config)?;
        let (admin_token, admin_source) = auth::admin_token(config.admin_token.as_deref(), dir).map_err(io_error(
            format!("reading or writing the admin token in {}", dir.display()),
        ))?;
        let recovered = murphy_store::recover(&*store, config.limits.sessions())?;
        let replayed = recovered.replayed;
        let metrics = Arc::new(metrics::Metrics::default());
        let (engine, loop_thread) = pipeline::start(store.clone(), recovered, config.limits.clone(), metrics.clone())
            .map_err(io_error("starting the event loop thread"))?;
        let (stopping, stopping_rx) = tokio::sync::watch::channel(false);
        let app = Arc::new(http::App {
            stopping: stopping_rx,
            engine,
            store,
            admin_token_hash: auth::hash_token(&admin_token),
            limits: config.limits,
            metrics,
        });
        Ok(Server {
            app,
            stopping,
            loop_thread,
            admin_source,
            replayed,
        })
    }

    pub fn admin_token_source(&self) -> &AdminTokenSource {
        &self.admin_source
    }

    /// Log entries start-up replayed past the materialized tables (normally 0).
    pub fn replayed(&self) -> u64 {
        self.replayed
    }

    /// The LSN of the latest durable command.
    pub fn lsn(&self) -> u64 {
        self.app.engine.snapshot().state.lsn()
    }

    /// Applies commands as the registrar, e.g. to seed a catalog before serving.
    pub async fn apply_as_admin(&self, commands: Vec<Command>) -> Result<Vec<CommandResult>, ServerError> {
        let answer = self
            .app
            .engine
            .submit(Principal::Admin.owner().into(), None, commands)
            .await;
        match answer {
            Ok(pipeline::Answer::Results(json)) => Ok(serde_json::from_str(&json).expect("the loop writes valid JSON")),
            Ok(pipeline::Answer::Unknown(unknown)) => Err(ServerError::Refused(format!("unknown {unknown:?}"))),
            other => Err(ServerError::Refused(format!("{other:?}"))),
        }
    }

    /// Issues a token for `student`, as `POST /api/v1/tokens` does.
    pub async fn mint_token(&self, student: &str) -> Result<String, ServerError> {
        let token = auth::new_token("mst_");
        match self
            .app
            .engine
            .mint_token(student.to_owned(), auth::hash_token(&token))
            .await
        {
            Ok(Ok(())) => Ok(token),
            Ok(Err(pipeline::TokenRefusal::Unknown(Unknown::Student(id) | Unknown::Section(id)))) => {
                Err(ServerError::Refused(format!("no student {id}")))
            }
            Ok(Err(pipeline::TokenRefusal::Refused(refusal))) => Err(ServerError::Refused(refusal.reason.to_string())),
            Err(e) => Err(ServerError::Refused(format!("{e:?}"))),
        }
    }

    /// Serves HTTP on `listener` until `shutdown` resolves (or the loop fails), then
    /// stops accepting, lets open requests finish, commits the last batch and returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Server {
            app,
            loop_thread,
            stopping,
            ..
        } = self;
        let limits = &app.limits;
        let header_read_time_max = limits.header_read_time_max;
        let listener = http::listener::LimitedListener::new(
            listener,
            limits.connections_max,
            limits.connection_idle_time_max,
            app.metrics.connections_turned_away.clone(),
        );
        let router = http::router(app.clone());
        drop(app);
        let (loop_done_tx, loop_done) = tokio::sync::oneshot::channel::<()>();
        let watcher = tokio::task::spawn_blocking(move || {
            let result = loop_thread.join();
            let _ = loop_done_tx.send(());
            result
        });
        let stop = async move {
            tokio::select! {
                () = shutdown => tracing::info!("shutting down: draining requests"),
                _ = loop_done => tracing::error!("the event loop stopped; shutting down"),
            }
            // Live event streams never end by themselves: tell them to.
            let _ = stopping.send(true);
        };
        http::serve(listener, router, header_read_time_max, stop).await;
        // The router (and with it every queue handle) is gone: the loop drains and ends.
        let joined = watcher.await.map_err(|e| ServerError::Loop(e.to_string()))?;
        match joined {
            Ok(result) => result.map_err(ServerError::from),
            Err(_) => Err(ServerError::Loop("the event loop panicked".into())),
        }
    }
}
