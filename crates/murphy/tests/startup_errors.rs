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
