//! A real murphy server for tests: bound to 127.0.0.1 port 0 over a temporary data
//! directory, driven through the real socket by the client library, stopped on drop.

#![allow(dead_code)]

pub mod faulty;
pub mod sse;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use murphy_client::Client;
use murphy_core::Command;
use murphy_server::{Config, Limits, Server};
use murphy_store::{Backend, Sqlite};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN_TOKEN: &str = "test-admin-token";

pub struct TestServer {
    pub dir: TempDir,
    pub addr: SocketAddr,
    pub admin: Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), String>>>,
}

impl TestServer {
    /// A server with the default limits, but for shedding by waits: a debug build
    /// answers bursts slower than a request may wait by default, and the tests that do
    /// not set their limits are not about shedding (overload.rs and front_door.rs are).
    pub async fn start() -> TestServer {
        Self::start_with(functional_limits()).await
    }

    pub async fn start_with(limits: Limits) -> TestServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        Self::start_in(dir, limits, |dir| Arc::new(Sqlite::open(dir).unwrap())).await
    }

    /// A server over the backend `store` opens in `dir` (say, one with faults injected).
    pub async fn start_in(dir: TempDir, limits: Limits, store: impl FnOnce(&Path) -> Arc<dyn Backend>) -> TestServer {
        let backend = store(dir.path());
        let (addr, stop, task) = launch_on(dir.path(), limits, backend).await;
        TestServer {
            dir,
            addr,
            admin: client(addr, ADMIN_TOKEN),
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn client(&self, token: &str) -> Client {
        client(self.addr, token)
    }

    /// Stops the server gracefully (drain, commit, close) and waits for it.
    pub async fn stop(&mut self) {
        self.stop_result().await.expect("the server ran and stopped cleanly");
    }

    /// Stops the server and returns how its run ended.
    pub async fn stop_result(&mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.expect("server task"),
            None => Ok(()),
        }
    }

    /// Stops, then starts a new server over the same data directory.
    pub async fn restart(&mut self, limits: Limits) {
        self.stop().await;
        let (addr, stop, task) = launch(self.dir.path(), limits).await;
        self.addr = addr;
        self.admin = client(addr, ADMIN_TOKEN);
        self.stop = Some(stop);
        self.task = Some(task);
    }

    /// Applies admin commands (100 to a request), asserting none was refused.
    pub async fn setup(&self, commands: Vec<Command>) {
        for chunk in commands.chunks(100) {
            let answer = self.admin.commands(chunk.to_vec()).await.expect("setup commands");
            for result in answer.results {
                assert!(!result.outcome.is_refusal(), "setup refused: {:?}", result.outcome);
            }
        }
    }

    /// Creates a student and returns a client holding the student's token.
    pub async fn student(&self, id: &str) -> Client {
        self.setup(vec![create_student(id)]).await;
        let token = self.admin.create_token(id).await.expect("token").token;
        self.client(&token)
    }

    pub async fn log_len(&self) -> usize {
        self.admin.full_log().await.expect("log").len()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub fn functional_limits() -> Limits {
    Limits {
        queue_wait_time_max: std::time::Duration::from_secs(10),
        sojourn_time_target: std::time::Duration::from_secs(10),
        sojourn_time_max: std::time::Duration::from_secs(60),
        ..Limits::default()
    }
}

type Launched = (SocketAddr, oneshot::Sender<()>, JoinHandle<Result<(), String>>);

async fn launch(dir: &Path, limits: Limits) -> Launched {
    launch_on(dir, limits, Arc::new(Sqlite::open(dir).expect("the store opens"))).await
}

async fn launch_on(dir: &Path, limits: Limits, store: Arc<dyn Backend>) -> Launched {
    let config = Config {
        data_dir: dir.to_owned(),
        admin_token: Some(ADMIN_TOKEN.into()),
        limits,
        database: None,
        oidc: None,
    };
    let server = Server::open_with(config, store).expect("server opens");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        server
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
            .map_err(|e| e.to_string())
    });
    (addr, stop, task)
}

/// Unthrottled: the tests look at what the server itself answers, 503s included.
fn client(addr: SocketAddr, token: &str) -> Client {
    Client::new(format!("http://{addr}"), Some(token.to_owned())).unthrottled()
}

pub fn create_section(id: &str, capacity: u32, waitlist_capacity: u32) -> Command {
    Command::create_section(id, &format!("Section {id}"), 4, capacity, waitlist_capacity, vec![])
}

pub fn create_student(id: &str) -> Command {
    Command::create_student(id, &format!("Student {id}"), 20)
}

pub fn enroll(student: &str, section: &str) -> Command {
    Command::enroll(student, section, false)
}
