//! The materializer's lag is bounded: while it cannot write the tables (held here by
//! a gate around the real SQLite backend), appends go on until the tables trail the log
//! by `materializer_lag_commands_max`; then the answer path waits for it instead of the
//! lag growing. Released, it catches up and the waiting write is answered.

mod common;

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use common::{ADMIN_TOKEN, create_section, create_student};
use murphy_client::Client;
use murphy_core::{Command, LogEntry};
use murphy_server::{Config, Limits, Server};
use murphy_store::{Backend, Materialization, Records, Result, Sqlite, Tables, TokenRow};

/// SQLite, with `materialize` held until the gate opens.
struct Gated {
    inner: Sqlite,
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gated {
    fn release(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl Backend for Gated {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn append(&self, records: &Records) -> Result<()> {
        self.inner.append(records)
    }
    fn materialize(&self, m: &Materialization<'_>) -> Result<()> {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
        self.inner.materialize(m)
    }
    fn tables(&self) -> Result<Tables> {
        self.inner.tables()
    }
    fn tokens(&self) -> Result<Vec<TokenRow>> {
        self.inner.tokens()
    }
    fn log(&self, after: u64, limit: u64) -> Result<Vec<LogEntry>> {
        self.inner.log(after, limit)
    }
}

async fn lag_gauge(url: &str) -> u64 {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("murphy_materializer_lag_commands "))
        .expect("the lag gauge");
    line.parse().unwrap()
}

fn deposit() -> Vec<Command> {
    vec![Command::Deposit {
        student: "s1".into(),
        amount_cents: 1,
    }]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_its_lag_bound_the_answer_path_waits_for_the_materializer() {
    const LAG_MAX: u64 = 20;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Gated {
        inner: Sqlite::open(dir.path()).unwrap(),
        open: Mutex::new(false),
        opened: Condvar::new(),
    });
    let limits = Limits {
        materializer_lag_commands_max: LAG_MAX,
        materializer_interval: Duration::from_millis(10),
        ..Limits::default()
    };
    let url = serve(dir.path(), limits, store.clone()).await;
    let admin = Client::new(url.clone(), Some(ADMIN_TOKEN.into()));
    admin
        .commands(vec![create_section("MATH-1-1", 5, 0), create_student("s1")])
        .await
        .unwrap();

    // One write at a time, each appended alone: every one is answered until the tables
    // trail by more than LAG_MAX; the next waits.
    let mut answered = 0;
    let waiting = loop {
        let write = tokio::spawn({
            let admin = admin.clone();
            async move { admin.commands(deposit()).await }
        });
        match tokio::time::timeout(Duration::from_millis(500), async {
            while !write.is_finished() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        {
            Ok(()) => {
                write.await.unwrap().unwrap();
                answered += 1;
                assert!(answered < 100, "the lag is not bounded");
            }
            Err(_) => break write,
        }
    };
    let lag = lag_gauge(&url).await;
    assert_eq!(lag, LAG_MAX + 1, "the tables trail by the bound and one append");
    assert_eq!(answered, LAG_MAX - 1, "two setup commands, then one deposit per append");

    store.release();
    let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiting write is answered once the materializer catches up")
        .unwrap()
        .unwrap();
    assert_eq!(answer.results[0].lsn, LAG_MAX + 2);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while lag_gauge(&url).await > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the materializer did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn serve(dir: &Path, limits: Limits, store: Arc<Gated>) -> String {
    let config = Config {
        data_dir: dir.to_owned(),
        admin_token: Some(ADMIN_TOKEN.into()),
        limits,
    };
    let server = Server::open_with(config, store).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Stops with the test's runtime; nothing is checked after.
    tokio::spawn(server.serve(listener, std::future::pending()));
    url
}
