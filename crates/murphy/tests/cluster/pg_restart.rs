//! PostgreSQL restarted under writes, on a server of the test's own (a restart would
//! disturb the other tests' shared one): while it is down writes are answered `503` and
//! nothing is lost; when it is back murphy recovers by itself, and every write a client
//! was told was done is in the log, once.

use std::path::PathBuf;
use std::process::Command as Process;
use std::time::{Duration, Instant};

use murphy_client::{Client, Session};

use super::harness::{ADMIN_TOKEN, Cluster};
use super::{create_student, deposit};

/// A throwaway PostgreSQL server of this test's own, stopped when dropped.
struct OwnPostgres {
    dir: tempfile::TempDir,
    url: String,
}

fn pg_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg.sh")
}

impl OwnPostgres {
    fn start() -> OwnPostgres {
        let dir = tempfile::tempdir().unwrap();
        let out = Process::new("bash")
            .arg(pg_script())
            .arg("start")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg.sh start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        OwnPostgres { dir, url }
    }

    fn restart(&self) {
        let out = Process::new("bash")
            .arg(pg_script())
            .args(["restart"])
            .arg(self.dir.path())
            .arg("immediate")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg.sh restart: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Process::new("bash")
            .arg(pg_script())
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_under_writes_loses_nothing_answered() {
    let pg = OwnPostgres::start();
    let cluster = Cluster::start_on(pg.url.clone(), 1).await;
    let admin = Client::new(cluster.nodes[0].url.clone(), Some(ADMIN_TOKEN.into()));
    admin.commands(vec![create_student("s1")]).await.unwrap();

    // One writer in an exactly-once session: every deposit it was answered is one cent.
    let writer = {
        let client = admin.clone();
        tokio::spawn(async move {
            let mut session = Session::new(client);
            let (mut answered, mut refused) = (0u64, 0u64);
            let until = Instant::now() + Duration::from_secs(6);
            while Instant::now() < until {
                match session.send(vec![deposit("s1", 1)]).await {
                    Ok(_) => answered += 1,
                    Err(_) => refused += 1,
                }
            }
            (answered, refused)
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let down = Instant::now();
    pg.restart();
    println!("PostgreSQL restarted in {:?}", down.elapsed());
    let (answered, refused) = writer.await.unwrap();
    println!("{answered} writes answered, {refused} given up (a session gives up after its retries)");
    assert!(answered > 10, "writes resumed after the restart");

    let recovered = Instant::now();
    let balance = loop {
        match admin.student("s1").await {
            Ok(student) => break student.balance_cents,
            Err(e) => assert!(
                recovered.elapsed() < Duration::from_secs(10),
                "reads did not come back: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Given-up requests may or may not have applied; answered ones must all be there.
    assert!(
        balance as u64 >= answered,
        "balance {balance} < {answered} answered deposits"
    );
    assert!(
        balance as u64 <= answered + refused,
        "balance {balance}: a deposit applied twice"
    );
    let log = admin.full_log().await.unwrap();
    let deposits = log
        .iter()
        .filter(|e| matches!(e.command, murphy_core::Command::Deposit { .. }))
        .count();
    assert_eq!(deposits as i64, balance, "each deposit in the log once");
}
