//! A start-up that cannot go on says where, why and what to do, once: a data directory
//! murphy cannot write in (a read-only file system when the test runs as root, which no
//! file permission stops; a directory without write permission otherwise).

use std::path::Path;
use std::process::Command;

/// A tmpfs mounted read-only, unmounted when dropped.
struct ReadOnlyMount<'a>(&'a Path);

impl Drop for ReadOnlyMount<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0).status();
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn a_data_directory_murphy_cannot_write_in_is_named_with_its_cause_and_fix() {
    let parent = tempfile::tempdir().unwrap();
    let _mount = if is_root() {
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "ro,size=1M", "tmpfs"])
            .arg(parent.path())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("skipped: root, but mounting a read-only tmpfs is not allowed here");
            return;
        }
        Some(ReadOnlyMount(parent.path()))
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(parent.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
        None
    };
    let data_dir = parent.path().join("data");
    let output = Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-token", "t", "--data-dir"])
        .arg(&data_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "a failure, not a usage error: {stderr}");
    assert!(
        stderr.contains(&*data_dir.to_string_lossy()),
        "names the path: {stderr}"
    );
    let cause = ["Read-only file system", "Permission denied"];
    assert!(cause.iter().any(|c| stderr.contains(c)), "says why: {stderr}");
    assert!(
        stderr.contains("choose another (--data-dir)"),
        "says what to do: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().collect();
    let mut unique = lines.clone();
    unique.dedup();
    assert_eq!(lines, unique, "each line once");
    assert_eq!(
        stderr.matches(&*data_dir.to_string_lossy()).count(),
        1,
        "the path once: {stderr}"
    );
}

/// One server per data directory: a second `murphy serve` over the directory a first
/// one serves says which process holds it and exits `3`, and the first serves on.
#[test]
fn a_second_server_on_one_data_directory_exits_3_naming_the_first() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut first = Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-token", "t", "--data-dir"])
        .arg(&data_dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(first.stdout.take().unwrap()).lines();
    let serving = lines.next().unwrap().unwrap();
    assert!(serving.starts_with("murphy serving "), "{serving}");
    let mut second = Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(["serve", "--listen", "127.0.0.1:0", "--admin-token", "t", "--data-dir"])
        .arg(&data_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A second server that starts would serve until stopped: give it a while, then stop it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while second.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = second.kill();
    let second = second.wait_with_output().unwrap();
    let still_up = first.try_wait().unwrap().is_none();
    let _ = first.kill();
    let _ = first.wait();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("process {}", first.id())),
        "names the holder: {stderr}"
    );
    assert!(
        stderr.contains(&*data_dir.to_string_lossy()),
        "names the directory: {stderr}"
    );
    assert!(!String::from_utf8_lossy(&second.stdout).contains("murphy serving"));
    assert!(still_up, "the first server serves on");
}

/// A cluster node whose address is taken says so in one error and exits `3`: no panic,
/// no backtrace (its PostgreSQL client used to be dropped inside the async runtime).
#[test]
fn a_cluster_node_on_a_port_in_use_says_so_and_exits_3() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(["serve", "--admin-token", "t", "--listen", &address])
        .args(["--database", "postgres://murphy@127.0.0.1:1/murphy", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&address), "names the address: {stderr}");
    assert!(
        stderr.contains(&format!("another process listens on {address}")),
        "says why: {stderr}"
    );
    assert!(!stderr.contains("panicked") && stderr.lines().count() <= 3, "{stderr}");
}

/// A port another process holds is said so, with what to do, and the failed start
/// leaves nothing behind: no data directory for the next start to trip over.
#[test]
fn an_address_in_use_is_named_and_the_failed_start_creates_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("data");
    for command in ["serve", "demo"] {
        let output = Command::new(env!("CARGO_BIN_EXE_murphy"))
            .args([command, "--listen", &addr, "--admin-token", "t", "--data-dir"])
            .arg(&data_dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{stderr}");
        assert!(
            stderr.contains(&format!("another process listens on {addr}: stop it, or pass --listen")),
            "{stderr}"
        );
        assert!(!data_dir.exists(), "murphy {command} created {}", data_dir.display());
    }
}
