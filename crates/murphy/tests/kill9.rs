//! Durability under `kill -9`: the real binary runs with many concurrent writers, gets
//! SIGKILL at a random moment, and restarts on the same data directory. Every write
//! that had been answered must be in the log at the same LSN with the same outcome,
//! the log must replay to exactly the stored tables, and every invariant must hold.
//! Five rounds, each killed at a different moment; then a SIGTERM drains cleanly.

mod common;

use std::path::Path;
use std::process::Command as Process;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use common::Murphy;
use murphy_client::{Client, Error};
use murphy_core::wire::CommandsRequest;
use murphy_core::{Command, LogEntry, Outcome};

const ADMIN_TOKEN: &str = "kill9-admin-token";
const ROUNDS: usize = 5;
const WRITERS: usize = 32;
const SECTIONS: usize = 12;
const STUDENTS: usize = 120;

struct Server {
    murphy: Murphy,
    client: Client,
}

fn start(data_dir: &Path) -> Server {
    let murphy = Murphy::serve(data_dir, ADMIN_TOKEN);
    let client = Client::new(&murphy.url, Some(ADMIN_TOKEN.into()));
    Server { murphy, client }
}

/// A small deterministic generator: the seed is printed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn random_command(rng: &mut Rng) -> Command {
    let student = format!("s{:03}", rng.below(STUDENTS));
    let index = rng.below(SECTIONS);
    let section = format!("SEC-{index}");
    match rng.below(6) {
        0 | 1 => Command::enroll(&student, &section, rng.below(2) == 0),
        2 => Command::Drop { student, section },
        3 => {
            let to = format!("SEC-{}", (index + 1 + rng.below(SECTIONS - 1)) % SECTIONS);
            Command::swap(&student, &section, &to)
        }
        4 => Command::Deposit {
            student,
            amount_cents: 1 + rng.below(5000) as i64,
        },
        _ => Command::Withdraw {
            student,
            amount_cents: 1 + rng.below(5000) as i64,
        },
    }
}

fn setup_commands() -> Vec<Command> {
    let mut commands: Vec<Command> = (0..SECTIONS)
        .map(|i| Command::create_section(&format!("SEC-{i}"), &format!("Section {i}"), 4, 5, 5, vec![]))
        .collect();
    commands.extend((0..STUDENTS).map(|i| Command::create_student(&format!("s{i:03}"), &format!("Student {i}"), 12)));
    commands
}

/// One answered request: what was sent and what the server said, command by command.
type Answered = (Command, u64, Outcome);

/// Writers send until the server dies; every answer they got is recorded.
async fn write_until_killed(client: Client, seed: u64, round: usize, answered: Arc<Mutex<Vec<Answered>>>) {
    let mut rng = Rng(seed | 1);
    let session = format!("writer-{seed}-{round}");
    for seq in 1.. {
        let commands: Vec<Command> = (0..1 + rng.below(3)).map(|_| random_command(&mut rng)).collect();
        let request = CommandsRequest {
            client: Some(session.clone()),
            seq: Some(seq),
            commands: commands.clone(),
        };
        let answer = match client.send(&request).await {
            Ok(answer) => answer,
            // The server is gone (killed) or going (SIGTERM): this writer is done.
            Err(Error::Transport(_)) => return,
            Err(Error::Problem { status: 503, .. }) => return,
            Err(other) => panic!("a valid request was refused: {other}"),
        };
        let mut answered = answered.lock().unwrap();
        for (command, result) in commands.into_iter().zip(answer.results) {
            answered.push((command, result.lsn, result.outcome));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answered_writes_survive_kill_9_at_random_moments() {
    let dir = tempfile::tempdir().unwrap();
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    println!("seed {seed}");
    let mut rng = Rng(seed | 1);
    let mut murphy = start(dir.path());
    for chunk in setup_commands().chunks(100) {
        murphy.client.commands(chunk.to_vec()).await.expect("setup");
    }
    let mut all_answered: Vec<Answered> = Vec::new();

    for round in 0..ROUNDS {
        let kill_after = Duration::from_millis(150 + rng.below(900) as u64);
        let answered = write_then_signal(&mut murphy, seed, round, kill_after, "KILL").await;
        println!(
            "round {round}: killed after {kill_after:?} with {} commands answered",
            answered.len()
        );
        all_answered.extend(answered);

        let restarted = Instant::now();
        murphy = start(dir.path());
        println!("round {round}: restarted in {:?}", restarted.elapsed());
        let log = murphy.client.full_log().await.expect("the log after restart");
        check_answers_are_logged(&log, &all_answered);
    }

    // A graceful stop under the same load: SIGTERM drains, commits, answers, exits 0.
    let answered = write_then_signal(&mut murphy, seed, ROUNDS, Duration::from_millis(400), "TERM").await;
    all_answered.extend(answered);
    let log = {
        use murphy_store::Backend as _;
        murphy_store::Sqlite::open(dir.path())
            .unwrap()
            .log(0, u64::MAX)
            .unwrap()
    };
    check_answers_are_logged(&log, &all_answered);

    // Offline: the whole log replays to exactly the stored tables, invariants included.
    let verify = common::murphy(&["verify", "--data-dir", dir.path().to_str().unwrap()]);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(verify.status.success(), "murphy verify: {report}");
    assert!(report.contains("the tables equal the replay"), "{report}");
}

/// Runs the writers against `murphy`, sends it `signal` after `delay`, waits for it to
/// exit, and returns every command that was answered.
async fn write_then_signal(
    murphy: &mut Server,
    seed: u64,
    round: usize,
    delay: Duration,
    signal: &str,
) -> Vec<Answered> {
    let answered = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            // Separate connection pools: many connections, as many clients would be.
            let client = Client::new(murphy.client.base_url(), Some(ADMIN_TOKEN.into()));
            let writer_seed = seed.wrapping_add((round * WRITERS + w) as u64 * 7919);
            tokio::spawn(write_until_killed(client, writer_seed, round, answered.clone()))
        })
        .collect();
    tokio::time::sleep(delay).await;
    let pid = murphy.murphy.child.id().to_string();
    assert!(
        Process::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = murphy.murphy.child.wait().unwrap();
    if signal == "TERM" {
        assert!(status.success(), "SIGTERM stops murphy cleanly: {status}");
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let answered = Arc::try_unwrap(answered).unwrap().into_inner().unwrap();
    assert!(
        !answered.is_empty(),
        "round {round}: the writers got answers before SIG{signal}"
    );
    answered
}

fn check_answers_are_logged(log: &[LogEntry], answered: &[Answered]) {
    for (i, entry) in log.iter().enumerate() {
        assert_eq!(entry.lsn, i as u64 + 1, "the log has no holes");
    }
    for (command, lsn, outcome) in answered {
        let entry = log
            .get(*lsn as usize - 1)
            .unwrap_or_else(|| panic!("answered lsn {lsn} is missing from the log"));
        assert_eq!(
            (&entry.command, &entry.outcome),
            (command, outcome),
            "lsn {lsn} differs from its answer"
        );
    }
}
