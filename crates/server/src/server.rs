//! `Server`: opening the store and recovering the state, then serving HTTP until told to
//! stop. Alone (SQLite), the node is its own primary from the start; in a cluster
//! (PostgreSQL), its manager takes or follows the primary's lease once it serves.

use std::sync::Arc;
use std::thread::JoinHandle;

use murphy_core::wire::CommandResult;
use murphy_core::{Command, Unknown};
use murphy_store::{Backend, Postgres, PostgresOptions, Sqlite, StoreError};
use tokio::net::TcpListener;

use crate::auth::{self, AdminTokenSource, Principal};
use crate::cluster::{self, Node};
use crate::config::{Config, Database};
use crate::lock::DataDirLock;
use crate::snapshot::Publisher;
use crate::{ServerError, http, line, metrics, pipeline};

pub struct Server {
    /// Held until the server has stopped: no other server opens this data directory.
    lock: DataDirLock,
    app: Arc<http::App>,
    stopping: tokio::sync::watch::Sender<bool>,
    mode: Mode,
    admin_source: AdminTokenSource,
    replayed: u64,
}

enum Mode {
    /// Alone: the pipeline's thread, which ends when it has drained.
    Alone(JoinHandle<Result<(), StoreError>>),
    /// In a cluster: the manager, started once the node's URL is known.
    Clustered {
        manager: Box<cluster::Manager>,
        advertise_url: Option<String>,
    },
}

// `Server::open` and the store's calls block, and a PostgreSQL client owns a runtime of
// its own: call them off the async threads (`spawn_blocking`), and let the last
// reference to the store go there too (`Ending`).
impl Server {
    /// Opens the data directory (creating it) and the store: SQLite in it, alone, or the
    /// PostgreSQL database of `config.database`, as a node of its cluster.
    pub fn open(config: Config) -> Result<Server, ServerError> {
        create_data_dir(&config)?;
        // Before the store is opened: its files are another server's if it is locked.
        let lock = DataDirLock::acquire(&config.data_dir)?;
        match config.database.clone() {
            None => {
                let store = Arc::new(Sqlite::open(&config.data_dir)?);
                Server::alone(config, store, lock)
            }
            Some(database) => Server::join(config, database, lock),
        }
    }

    /// Alone, over a given store (the data directory still holds the admin token, and
    /// is locked as `open` locks it).
    pub fn open_with(config: Config, store: Arc<dyn Backend>) -> Result<Server, ServerError> {
        create_data_dir(&config)?;
        let lock = DataDirLock::acquire(&config.data_dir)?;
        Server::alone(config, store, lock)
    }

    fn alone(config: Config, store: Arc<dyn Backend>, lock: DataDirLock) -> Result<Server, ServerError> {
        let (admin_token, admin_source) = admin_token(&config)?;
        let recovered = murphy_store::recover(&*store, config.limits.sessions(), config.limits.rules_version_max)?;
        let replayed = recovered.replayed;
        let metrics = Arc::new(metrics::Metrics::default());
        let publisher = Publisher::new(Default::default(), Default::default());
        let (writer, thread) = pipeline::start(
            store.clone(),
            recovered,
            config.limits.clone(),
            metrics.clone(),
            publisher.clone(),
        )
        .map_err(io_error("starting the event loop thread"))?;
        let node = Arc::new(Node::alone(publisher, writer));
        Server::new(
            lock,
            config,
            node,
            store,
            metrics,
            admin_token,
            admin_source,
            replayed,
            Mode::Alone(thread),
        )
    }

    /// A node of a cluster: the state as the log has it now, a secondary until the
    /// manager takes the primary's lease.
    fn join(config: Config, database: Database, lock: DataDirLock) -> Result<Server, ServerError> {
        if config.admin_token.is_none() {
            return Err(ServerError::Refused(
                "the nodes of a cluster share one admin token: give it with --admin-token or MURPHY_ADMIN_TOKEN".into(),
            ));
        }
        let (admin_token, admin_source) = admin_token(&config)?;
        let options = PostgresOptions {
            schema: database.schema.clone(),
            ..PostgresOptions::default()
        };
        let postgres = Arc::new(Postgres::connect(&database.url, options)?);
        let store: Arc<dyn Backend> = postgres.clone();
        let mut recovered = murphy_store::recover(&*store, config.limits.sessions(), config.limits.rules_version_max)?;
        let tokens =
            pipeline::token_map(std::mem::take(&mut recovered.tokens)).map_err(io_error("reading the tokens"))?;
        let metrics = Arc::new(metrics::Metrics::default());
        let node = Arc::new(Node::clustered(
            Publisher::new(recovered.state, tokens),
            postgres.clone(),
        ));
        let manager = cluster::Manager {
            store: postgres,
            backend: store.clone(),
            node: node.clone(),
            limits: config.limits.clone(),
            metrics: metrics.clone(),
        };
        let mode = Mode::Clustered {
            manager: Box::new(manager),
            advertise_url: database.advertise_url,
        };
        Server::new(
            lock,
            config,
            node,
            store,
            metrics,
            admin_token,
            admin_source,
            recovered.replayed,
            mode,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn new(
        lock: DataDirLock,
        config: Config,
        node: Arc<Node>,
        store: Arc<dyn Backend>,
        metrics: Arc<metrics::Metrics>,
        admin_token: String,
        admin_source: AdminTokenSource,
        replayed: u64,
        mode: Mode,
    ) -> Result<Server, ServerError> {
        let (stopping, stopping_rx) = tokio::sync::watch::channel(false);
        let oidc = config
            .oidc
            .clone()
            .map(crate::oidc::Oidc::new)
            .transpose()
            .map_err(ServerError::Config)?;
        let forwarder = reqwest::Client::builder()
            .timeout(config.limits.request_time_max)
            .build()
            .expect("an HTTP client without TLS builds");
        let door = Arc::new(http::Door::new(&config.limits, metrics.clone()));
        let admin_token_hash = auth::hash_token(&admin_token);
        let key = line::PassKey::derive(&admin_token_hash);
        let room = Arc::new(line::Room::new(key, config.limits.clone(), metrics.clone()));
        let app = Arc::new(http::App {
            door,
            room,
            stopping: stopping_rx,
            node,
            forwarder,
            store,
            admin_token_hash,
            signer: crate::cookie::Signer::from_admin_token(&admin_token),
            oidc,
            auth_failures: http::failures::AuthFailures::new(
                config.limits.auth_failures_per_address_per_minute_max,
                config.limits.auth_failure_addresses_max,
            ),
            catalog: crate::catalog::Bodies::new(config.limits.catalog_bodies_bytes_max),
            streams: http::Streams::new(&config.limits),
            limits: config.limits,
            metrics,
        });
        Ok(Server {
            lock,
            app,
            stopping,
            mode,
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
        self.app.node.snapshot().state.lsn()
    }

    /// Applies commands as the registrar, e.g. to seed a catalog before serving.
    pub async fn apply_as_admin(&self, commands: Vec<Command>) -> Result<Vec<CommandResult>, ServerError> {
        let writer = self.writer()?;
        let answer = writer.submit(Principal::Admin.owner().into(), None, commands).await;
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
            .writer()?
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

    fn writer(&self) -> Result<pipeline::Handle, ServerError> {
        self.app
            .node
            .writer()
            .ok_or_else(|| ServerError::Refused("this node is not the primary".into()))
    }

    /// Serves HTTP on `listener` until `shutdown` resolves (or, alone, the pipeline
    /// fails), then stops accepting, lets open requests finish, and stops the pipeline
    /// (appending its last batch) or, in a cluster, hands the lease on.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Server {
            lock,
            app,
            mode,
            stopping,
            ..
        } = self;
        let address = listener
            .local_addr()
            .map_err(io_error("reading the listening address"))?;
        let (done_tx, done) = tokio::sync::oneshot::channel::<()>();
        let ending = match mode {
            Mode::Alone(thread) => Ending::Alone(tokio::task::spawn_blocking(move || {
                let result = thread.join();
                let _ = done_tx.send(());
                result
            })),
            Mode::Clustered { manager, advertise_url } => {
                // A cluster's pipelines come and go with the lease: none ends the node
                // (a dropped sender disables `serve`'s "loop stopped" arm).
                drop(done_tx);
                let url = advertise_url.unwrap_or_else(|| format!("http://{address}"));
                let store = manager.store.clone();
                let running = manager.start(url).map_err(io_error("starting the cluster manager"))?;
                Ending::Clustered(running, store)
            }
        };
        let stop = async move {
            tokio::select! {
                () = shutdown => tracing::info!("shutting down: draining requests"),
                Ok(()) = done => tracing::error!("the event loop stopped; shutting down"),
            }
            // Live event streams never end by themselves: tell them to.
            let _ = stopping.send(true);
        };
        tokio::spawn(tick_line(app.clone()));
        // Every handle on the pipeline goes with `app` when serving ends (the line's
        // ticks end when told to stop): the loop drains.
        http::serve(listener, app, stop).await;
        let ended = ending.wait().await;
        // Only now may another server open the directory: the store is closed.
        drop(lock);
        ended
    }
}

/// The waiting room's second, on the primary, until the server stops: what the room
/// decides goes to the log as the registrar's commands. On a secondary the room keeps
/// nothing (the primary keeps the line).
async fn tick_line(app: Arc<http::App>) {
    let mut stopping = app.stopping.clone();
    let mut ticks = tokio::time::interval(line::TICK_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = stopping.wait_for(|stop| *stop) => return,
        }
        let Some(writer) = app.node.writer() else {
            app.room.forget();
            continue;
        };
        let snapshot = app.node.snapshot();
        let reading = app.door.reading(http::now_ns());
        let may_open = snapshot.state.rules() >= murphy_core::CommandKind::OpenLine.since();
        let commands = app
            .room
            .tick(snapshot.state.line(), may_open, line::Clock::now(), reading);
        for command in commands {
            let answer = writer
                .submit(Principal::Admin.owner().into(), None, vec![command])
                .await;
            if !matches!(answer, Ok(pipeline::Answer::Results(_))) {
                tracing::debug!("the waiting room's command was not applied ({answer:?}); the next second retries");
            }
        }
    }
}

/// What `serve` waits for after HTTP has stopped.
enum Ending {
    Alone(tokio::task::JoinHandle<std::thread::Result<Result<(), StoreError>>>),
    /// The manager, and the store: dropped last, off the async threads.
    Clustered(cluster::Running, Arc<dyn murphy_store::Shared>),
}

impl Ending {
    async fn wait(self) -> Result<(), ServerError> {
        match self {
            // The router (and with it every queue handle) is gone: the loop drains.
            Ending::Alone(watcher) => match watcher.await.map_err(|e| ServerError::Loop(e.to_string()))? {
                Ok(result) => result.map_err(ServerError::from),
                Err(_) => Err(ServerError::Loop("the event loop panicked".into())),
            },
            Ending::Clustered(running, store) => tokio::task::spawn_blocking(move || {
                running.stop();
                drop(store);
            })
            .await
            .map_err(|e| ServerError::Loop(e.to_string())),
        }
    }
}

fn admin_token(config: &Config) -> Result<(String, AdminTokenSource), ServerError> {
    let dir = &config.data_dir;
    auth::admin_token(config.admin_token.as_deref(), dir).map_err(io_error(format!(
        "reading or writing the admin token in {}",
        dir.display()
    )))
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
