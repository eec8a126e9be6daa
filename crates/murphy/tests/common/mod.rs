//! The real `murphy` binary as a child process: started on 127.0.0.1 port 0 over a data
//! directory, its address read from its first lines, killed when dropped (so a failed
//! test never leaves a server behind).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

pub struct Murphy {
    pub child: Child,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
}

impl Murphy {
    /// `murphy serve` over `data_dir` with `admin_token`.
    pub fn serve(data_dir: &Path, admin_token: &str) -> Murphy {
        let mut child = Command::new(env!("CARGO_BIN_EXE_murphy"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--admin-token",
                admin_token,
                "--data-dir",
            ])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("murphy starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut line = String::new();
        let url = loop {
            line.clear();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "murphy exited before serving");
            if let Some(rest) = line.strip_prefix("murphy serving ") {
                break rest.split_whitespace().next().unwrap().trim_end_matches('/').to_owned();
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in stdout.lines() {});
        Murphy { child, url }
    }
}

impl Drop for Murphy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `murphy ARGS` to completion.
pub fn murphy(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(args)
        .output()
        .expect("murphy runs")
}
