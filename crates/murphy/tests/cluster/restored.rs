//! The cluster's database restored to an older point (`pg_dump`, then the schema
//! replaced by the dump in one transaction, as an operator restores a backup): its log
//! then ends before LSNs the nodes have served, and a primary on it would hand those
//! LSNs out again for other commands. No node takes over: not the secondary that
//! served them, nor a node started afresh, which learns them from the register; each
//! says what to restore. Restored to a point that reaches them, the cluster serves
//! again with every answered write.

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

use super::create_student;
use super::harness::{Cluster, LEASE_TIME_MS, view};

fn pg_program(name: &str) -> PathBuf {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg.sh");
    let out = Process::new("bash").arg(script).arg("bindir").output().unwrap();
    assert!(
        out.status.success(),
        "pg.sh bindir: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim()).join(name)
}

fn run(command: &mut Process) {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A plain-SQL dump of the cluster's schema into `file`.
fn dump(cluster: &Cluster, file: &Path) {
    run(Process::new(pg_program("pg_dump"))
        .args(["--dbname", cluster.database(), "--schema", &cluster.schema, "--file"])
        .arg(file));
}

/// The cluster's schema replaced by the dump in `file`, in one transaction.
fn restore(cluster: &Cluster, file: &Path) {
    run(Process::new(pg_program("psql"))
        .args(["--dbname", cluster.database(), "--single-transaction", "--quiet"])
        .args(["--set", "ON_ERROR_STOP=1", "--command"])
        .arg(format!("DROP SCHEMA {} CASCADE", cluster.schema))
        .arg("--file")
        .arg(file));
}

async fn create_students(cluster: &Cluster, node: usize, ids: std::ops::Range<u32>) {
    for i in ids {
        let answer = cluster
            .admin(node)
            .commands(vec![create_student(&format!("s{i}"))])
            .await
            .unwrap();
        assert!(!answer.results[0].outcome.is_refusal(), "{answer:?}");
    }
}

/// Waits until node `i` serves reads at `lsn` or later.
async fn serves(cluster: &Cluster, i: usize, lsn: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while view(&cluster.nodes[i].url).await.is_none_or(|v| v.version < lsn) {
        assert!(Instant::now() < deadline, "node {i} never served lsn {lsn}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restored_to_an_older_point_is_refused_until_restored_past_what_was_served() {
    let mut cluster = Cluster::start(2).await;
    let p = cluster.primary(Duration::from_secs(5)).await;
    let s = 1 - p;
    let dumps = tempfile::tempdir().unwrap();
    let (older, newer) = (dumps.path().join("older.sql"), dumps.path().join("newer.sql"));

    create_students(&cluster, s, 0..3).await;
    dump(&cluster, &older);
    create_students(&cluster, s, 3..6).await;
    let served = view(&cluster.nodes[p].url).await.unwrap().version;
    serves(&cluster, s, served).await;
    dump(&cluster, &newer);

    // The primary dies, and the database is restored to the older dump.
    cluster.signal(p, "KILL");
    restore(&cluster, &older);
    let refusal = format!("has already served lsn {served}");
    assert!(cluster.logged(s, &refusal), "{}", cluster.nodes[s].log());
    assert!(cluster.nodes[s].log().contains("Restore it to a point that reaches"));

    // A node started afresh has served nothing, but the register says what was.
    let fresh = cluster.add();
    let named = format!("the node at {} {refusal}", cluster.nodes[s].url);
    assert!(cluster.logged(fresh, &named), "{}", cluster.nodes[fresh].log());
    tokio::time::sleep(Duration::from_millis(4 * LEASE_TIME_MS)).await;
    for i in [s, fresh] {
        let role = view(&cluster.nodes[i].url).await.map(|v| v.role);
        assert_eq!(
            role.as_deref(),
            Some("secondary"),
            "node {i} took over a log that lost lsn {served}"
        );
    }

    // Restored to the newer dump, which reaches what was served: the cluster serves
    // again, with every write it answered.
    restore(&cluster, &newer);
    let q = cluster.primary(Duration::from_secs(10)).await;
    for i in 0..6 {
        let student = cluster.admin(q).student(&format!("s{i}")).await;
        assert!(student.is_ok(), "s{i} was answered as created: {student:?}");
    }
    create_students(&cluster, q, 6..7).await;
}
