//! A rolling upgrade under load: three nodes of the older release (this build capped at
//! rules version 1 by its hidden flag, as the older binary would be), writers through
//! all of them, each node stopped in turn and started on the new release, then the
//! upgrade finalized. Before finalizing, every write is decided under version 1 and an
//! upgrade is refused while an old node is live; after it, `duplicate_course` refusals
//! begin. `murphy check` is clean on the whole history, no answered write is lost, no
//! write waits longer than a failover, and an old node can no longer start.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use murphy_client::Client;
use murphy_core::{Command, Outcome, RulesVersion};

use crate::harness::{ADMIN_TOKEN, Cluster, LEASE_TIME_MS, database_url, view};
use crate::{assert_history_clean, create_student};

/// The older release: this build, knowing rules up to version 1 only.
const OLD: &[&str] = &["--rules-version-max", "1"];
/// The probe's students, each enrolling in both sections of one course and leaving.
const PROBES: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_upgrade_under_load_then_finalized() {
    let mut cluster = Cluster::start_with(database_url(), 3, OLD).await;
    for node in &cluster.nodes {
        let v = view(&node.url).await.unwrap();
        assert_eq!((v.rules, v.rules_version_max), (RulesVersion::V1, RulesVersion::V1));
    }
    let p = cluster.primary(Duration::from_secs(5)).await;
    let mut seed = vec![
        Command::create_section("UPG-1-1", "Upgrades", 4, 100, 10, vec![]),
        Command::create_section("UPG-1-2", "Upgrades", 4, 100, 10, vec![]),
    ];
    seed.extend((0..PROBES).map(|i| create_student(&format!("w{i}"))));
    cluster.admin(p).commands(seed).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let bench = std::process::Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(["bench", "--url", &cluster.urls(), "--admin-token", ADMIN_TOKEN])
        .args([
            "--scenario",
            "registration-day",
            "--connections",
            "16",
            "--students",
            "160",
        ])
        .args(["--sections", "10", "--duration", "22", "--opens-after-ms", "200"])
        .args(["--timeout-ms", "3000", "--history"])
        .arg(&history)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let probe = tokio::spawn(probe(
        cluster.nodes.iter().map(|n| n.url.clone()).collect(),
        stop.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(2)).await;

    // One node at a time: stopped as an operator stops it, started on the new release.
    for i in 0..cluster.nodes.len() {
        cluster.stop(i, Duration::from_secs(10));
        cluster.restart_with(i, Vec::new());
        let v = view(&cluster.nodes[i].url).await.unwrap();
        assert_eq!((v.rules, v.rules_version_max), (RulesVersion::V1, RulesVersion::LATEST));
        cluster.primary(Duration::from_secs(5)).await;
        if i == 0 {
            // Old nodes are live: the upgrade is refused, whichever node is asked.
            let refused = upgrade(&cluster, i).await.unwrap_err();
            assert_eq!(refused.code(), Some("upgrade_refused"), "{refused}");
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }

    let finalize = std::process::Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args([
            "admin",
            "upgrade",
            "--url",
            &cluster.nodes[1].url,
            "--token",
            ADMIN_TOKEN,
        ])
        .output()
        .unwrap();
    assert!(
        finalize.status.success(),
        "{}",
        String::from_utf8_lossy(&finalize.stderr)
    );
    let latest = RulesVersion::LATEST;
    assert_eq!(
        String::from_utf8_lossy(&finalize.stdout).trim(),
        format!(
            "the rules are upgraded from version 1 to version {latest}: every command from now on is decided \
             under version {latest}"
        )
    );
    tokio::time::sleep(Duration::from_secs(3)).await;

    let bench = tokio::task::spawn_blocking(move || bench.wait_with_output().unwrap())
        .await
        .unwrap();
    println!("{}", String::from_utf8_lossy(&bench.stdout));
    stop.store(true, Ordering::SeqCst);
    let outage = probe.await.unwrap();
    println!("the longest time no node answered a write: {outage:?}");
    assert!(
        outage <= Duration::from_millis(LEASE_TIME_MS) + Duration::from_secs(1),
        "a write waited {outage:?}, longer than a failover"
    );

    let any = cluster.primary(Duration::from_secs(5)).await;
    assert_history_clean(&cluster.nodes[any].url, &history);
    let answered = std::fs::read_to_string(&history).unwrap().lines().count();
    assert!(
        answered > 500,
        "the history holds {answered} requests: the load did not run"
    );
    check_log(&cluster.admin(any)).await;
    for node in &cluster.nodes {
        assert_eq!(view(&node.url).await.unwrap().rules, RulesVersion::LATEST);
    }
    assert_an_old_node_cannot_start(&cluster);
}

async fn upgrade(cluster: &Cluster, i: usize) -> Result<murphy_core::wire::CommandsAnswer, murphy_client::Error> {
    let command = Command::UpgradeRules {
        rules: RulesVersion::V2,
    };
    // A session, as the CLI sends it: a write shed under the bench's load is retried.
    murphy_client::Session::new(cluster.admin(i)).send(vec![command]).await
}

/// Writes through every node at once until `stop`, one loop per node: a probe student
/// enrolls in both sections of course UPG-1 and leaves them, in one request. Returns
/// the longest time in which no node answered a write: how long the cluster as a whole
/// could not take one (a node that is down or starting holds only its own loop up).
async fn probe(urls: Vec<String>, stop: Arc<AtomicBool>) -> Duration {
    let answered = Arc::new(std::sync::Mutex::new(vec![Instant::now()]));
    let per_node = PROBES / urls.len();
    let loops: Vec<_> = urls
        .into_iter()
        .enumerate()
        .map(|(node, url)| {
            let (stop, answered) = (stop.clone(), answered.clone());
            tokio::spawn(async move {
                let client = Client::new(url, Some(ADMIN_TOKEN.into()));
                let mut n = 0usize;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let student = format!("w{}", node * per_node + n % per_node);
                    let enroll = |section: &str| Command::enroll(&student, section, false);
                    let leave = |section: &str| Command::Drop {
                        student: student.clone(),
                        section: section.into(),
                    };
                    let commands = vec![enroll("UPG-1-1"), enroll("UPG-1-2"), leave("UPG-1-1"), leave("UPG-1-2")];
                    let sent = tokio::time::timeout(Duration::from_secs(3), client.commands(commands)).await;
                    if let Ok(Ok(_)) = sent {
                        answered.lock().unwrap().push(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();
    for probe in loops {
        probe.await.unwrap();
    }
    let mut answered = answered.lock().unwrap().clone();
    answered.push(Instant::now());
    answered.sort();
    answered.windows(2).map(|w| w[1] - w[0]).max().unwrap_or_default()
}

/// The log's story: version 1 up to the one upgrade entry, the latest after it; a probe
/// holding both sections of UPG-1 before, `duplicate_course` only after.
async fn check_log(admin: &Client) {
    let log = admin.full_log().await.unwrap();
    let upgrades: Vec<_> = log
        .iter()
        .filter(|e| matches!(e.command, Command::UpgradeRules { .. }))
        .collect();
    assert_eq!(upgrades.len(), 1, "one upgrade: {upgrades:?}");
    let at = upgrades[0];
    assert_eq!(
        (at.rules, &at.outcome),
        (
            RulesVersion::V1,
            &Outcome::RulesUpgraded {
                from: RulesVersion::V1,
                to: RulesVersion::LATEST
            }
        )
    );
    for e in &log {
        let expected = if e.lsn <= at.lsn {
            RulesVersion::V1
        } else {
            RulesVersion::LATEST
        };
        assert_eq!(e.rules, expected, "lsn {} decided under the wrong rules", e.lsn);
    }
    let second =
        |e: &&murphy_core::LogEntry| matches!(&e.command, Command::Enroll { section, .. } if section == "UPG-1-2");
    let doubled = log.iter().filter(second).filter(|e| e.outcome == Outcome::Enrolled);
    let refused = log
        .iter()
        .filter(second)
        .filter(|e| matches!(e.outcome, Outcome::DuplicateCourse { .. }));
    assert!(
        doubled.clone().count() > 0,
        "under version 1 a probe held both sections"
    );
    assert!(
        doubled.clone().all(|e| e.lsn < at.lsn),
        "two sections of a course after the upgrade"
    );
    assert!(refused.clone().count() > 0, "no duplicate_course after the upgrade");
    assert!(
        refused.clone().all(|e| e.lsn > at.lsn),
        "duplicate_course before the upgrade"
    );
}

/// A node of the older release, started on the upgraded log, refuses to start, in one
/// line naming both versions and the fix.
fn assert_an_old_node_cannot_start(cluster: &Cluster) {
    let data = tempfile::tempdir().unwrap();
    let flags: Vec<String> = OLD.iter().map(|f| f.to_string()).collect();
    let old = cluster
        .command(data.path(), "127.0.0.1:0".parse().unwrap(), &flags)
        .output()
        .unwrap();
    assert!(!old.status.success(), "an old node started on an upgraded log");
    let stderr = String::from_utf8_lossy(&old.stderr);
    let said: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    let latest = RulesVersion::LATEST;
    assert_eq!(
        said,
        [format!(
            "error: the log is at rules version {latest}, but this murphy knows rules up to version 1: run a \
             murphy that knows version {latest} (an upgrade, once finalized, cannot be rolled back)"
        )],
        "{stderr}"
    );
}
