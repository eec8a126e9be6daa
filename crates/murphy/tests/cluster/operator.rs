//! What an operator sees of a cluster: every node logs its role as it learns it (a
//! secondary names the primary, and logs the change when the primary dies and another
//! takes over), and `murphy verify --database` checks the cluster's log against its
//! tables while the nodes run.

use std::time::Duration;

use crate::harness::{ADMIN_TOKEN, Cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_logs_its_role_and_verify_checks_the_clusters_database() {
    let mut cluster = Cluster::start(2).await;
    let p = cluster.primary(Duration::from_secs(5)).await;
    let s = 1 - p;
    let primary_url = cluster.nodes[p].url.clone();
    assert!(
        cluster.logged(p, "this node is the primary now"),
        "{}",
        cluster.nodes[p].log()
    );
    let named = format!("this node is a secondary; the primary is {primary_url}");
    assert!(cluster.logged(s, &named), "{}", cluster.nodes[s].log());

    cluster
        .admin(s)
        .commands(vec![crate::create_student("s1")])
        .await
        .unwrap();

    // The primary dies: the secondary says it takes over.
    cluster.signal(p, "KILL");
    assert!(
        cluster.logged(s, "this node is the primary now"),
        "{}",
        cluster.nodes[s].log()
    );

    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args([
            "verify",
            "--database",
            cluster.database(),
            "--database-schema",
            &cluster.schema,
        ])
        .env("MURPHY_ADMIN_TOKEN", ADMIN_TOKEN)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(
        said.starts_with(&format!("ok (PostgreSQL schema {}): 1 log entries", cluster.schema)),
        "{said}"
    );

    let nowhere = std::process::Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args([
            "verify",
            "--database",
            cluster.database(),
            "--database-schema",
            "no_such_schema",
        ])
        .output()
        .unwrap();
    assert_eq!(
        nowhere.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&nowhere.stderr)
    );
}
