//! Nodes of a cluster as real `murphy serve` processes over one PostgreSQL database (the
//! throwaway server the test suite starts; `MURPHY_TEST_POSTGRES` names it), each test
//! in a schema of its own. A node is killed (SIGKILL), paused (SIGSTOP) or resumed, and
//! restarted on the port it had, so clients that knew it find it again.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use murphy_client::Client;

use crate::common::served_url;
use murphy_core::wire::ClusterView;

pub const ADMIN_TOKEN: &str = "cluster-test-admin-token";
/// Short, so a paused primary is deposed quickly; a dead one is replaced at once anyway.
pub const LEASE_TIME_MS: u64 = 1000;

pub fn database_url() -> String {
    std::env::var("MURPHY_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "the cluster tests need PostgreSQL: run `bash scripts/test.sh` (which starts a throwaway server), \
             or `bash scripts/pg.sh start DIR` and set MURPHY_TEST_POSTGRES to the URL it prints"
        )
    })
}

pub struct Node {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub url: String,
    data: tempfile::TempDir,
    /// The flags it was started with besides the cluster's own.
    flags: Vec<String>,
}

pub struct Cluster {
    database: String,
    pub schema: String,
    pub nodes: Vec<Node>,
}

impl Cluster {
    /// `n` nodes on the test suite's PostgreSQL, one of which becomes the primary.
    pub async fn start(n: usize) -> Cluster {
        Cluster::start_on(database_url(), n).await
    }

    /// `n` nodes on the PostgreSQL at `database`, one of which becomes the primary
    /// (waited for).
    pub async fn start_on(database: String, n: usize) -> Cluster {
        Cluster::start_with(database, n, &[]).await
    }

    /// `n` nodes started with `flags` too (e.g. an older release's rules).
    pub async fn start_with(database: String, n: usize, flags: &[&str]) -> Cluster {
        let schema = format!(
            "t{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
                % 1_000_000_000
        );
        let mut cluster = Cluster {
            database,
            schema,
            nodes: Vec::new(),
        };
        let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
        for _ in 0..n {
            let data = tempfile::tempdir().unwrap();
            let node = cluster.spawn(data, "127.0.0.1:0".parse().unwrap(), flags.clone());
            cluster.nodes.push(node);
        }
        cluster.primary(Duration::from_secs(10)).await;
        cluster
    }

    /// The command that starts a node of this cluster on `listen`.
    pub fn command(&self, data: &std::path::Path, listen: SocketAddr, flags: &[String]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_murphy"));
        command
            .args(["serve", "--admin-token", ADMIN_TOKEN, "--database", &self.database])
            .args(["--database-schema", &self.schema, "--listen", &listen.to_string()])
            .args(["--lease-time-max-ms", &LEASE_TIME_MS.to_string(), "--data-dir"])
            .arg(data)
            .args(flags)
            // Warnings, and the role changes an operator reads, into the node's log file.
            .env("RUST_LOG", "warn,murphy_server::cluster=info");
        command
    }

    fn spawn(&self, data: tempfile::TempDir, listen: SocketAddr, flags: Vec<String>) -> Node {
        let mut child = self
            .command(data.path(), listen, &flags)
            .stdout(Stdio::piped())
            .stderr(log_file(data.path()))
            .spawn()
            .expect("murphy starts");
        let url = served_url(&mut child);
        let addr = url.trim_start_matches("http://").parse().unwrap();
        Node {
            child: Some(child),
            addr,
            url,
            data,
            flags,
        }
    }

    /// Starts one more node, with the flags of the first; its index.
    pub fn add(&mut self) -> usize {
        let flags = self.nodes[0].flags.clone();
        let node = self.spawn(tempfile::tempdir().unwrap(), "127.0.0.1:0".parse().unwrap(), flags);
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Waits up to 10 s for node `i`'s log to contain `text`.
    pub fn logged(&self, i: usize, text: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.nodes[i].log().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The PostgreSQL database the nodes serve from.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Every node's URL, comma-separated (for `murphy bench --url`).
    pub fn urls(&self) -> String {
        self.nodes.iter().map(|n| n.url.as_str()).collect::<Vec<_>>().join(",")
    }

    pub fn admin(&self, i: usize) -> Client {
        Client::new(self.nodes[i].url.clone(), Some(ADMIN_TOKEN.into()))
    }

    /// The node that is the primary, by what the live nodes say: waits up to `wait`.
    pub async fn primary(&self, wait: Duration) -> usize {
        let deadline = Instant::now() + wait;
        loop {
            for (i, node) in self.nodes.iter().enumerate() {
                if node.child.is_some() && view(&node.url).await.is_some_and(|v| v.role == "primary") {
                    return i;
                }
            }
            assert!(Instant::now() < deadline, "no node became the primary");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether node `i` is alive (not killed).
    pub fn alive(&self, i: usize) -> bool {
        self.nodes[i].child.is_some()
    }

    /// Sends `signal` (KILL, STOP, CONT) to node `i`; after KILL, waits for it to die.
    pub fn signal(&mut self, i: usize, signal: &str) {
        let child = self.nodes[i].child.as_mut().expect("a live node");
        let pid = child.id().to_string();
        assert!(
            Command::new("kill")
                .args([&format!("-{signal}"), &pid])
                .status()
                .unwrap()
                .success()
        );
        if signal == "KILL" {
            let _ = child.wait();
            self.nodes[i].child = None;
        }
    }

    /// Starts node `i` again, on the address it had, with the flags it had.
    pub fn restart(&mut self, i: usize) {
        let flags = self.nodes[i].flags.clone();
        self.restart_with(i, flags);
    }

    /// Starts node `i` again, on the address it had, with `flags` (e.g. as a newer
    /// release).
    pub fn restart_with(&mut self, i: usize, flags: Vec<String>) {
        let old = std::mem::replace(&mut self.nodes[i].data, tempfile::tempdir().unwrap());
        let node = self.spawn(old, self.nodes[i].addr, flags);
        self.nodes[i] = node;
    }

    /// Stops node `i` as an operator does (SIGTERM: it drains and hands the lease on)
    /// and waits for it to exit, at most `wait`.
    pub fn stop(&mut self, i: usize, wait: Duration) {
        self.signal(i, "TERM");
        let child = self.nodes[i].child.as_mut().expect("a live node");
        let deadline = Instant::now() + wait;
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "node {i} did not stop within {wait:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.nodes[i].child = None;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(child) = node.child.as_mut() {
                let _ = Command::new("kill").args(["-CONT", &child.id().to_string()]).status();
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// A node's stderr, kept across its restarts in its data directory.
fn log_file(data: &std::path::Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.join("murphy.log"))
        .expect("the node's log file opens")
}

impl Node {
    /// What the node logged so far (stderr, without colour codes: it is a file).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.path().join("murphy.log")).unwrap_or_default()
    }
}

/// `GET /api/v1/cluster` of the node at `url`, if it answers within a second.
pub async fn view(url: &str) -> Option<ClusterView> {
    let answer = reqwest::Client::new()
        .get(format!("{url}/api/v1/cluster"))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .ok()?;
    answer.json().await.ok()
}
