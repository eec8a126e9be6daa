//! The real `murphy` binary as a child process: started on 127.0.0.1 port 0 over a data
//! directory, its address read from its first lines, killed when dropped (so a failed
//! test never leaves a server behind). `CliServer` adds what the command-line tests
//! share: a temporary data directory and cache, and `murphy ARGS` run against it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub struct Murphy {
    pub child: Child,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
}

impl Murphy {
    /// `murphy serve` over `data_dir` with `admin_token`.
    pub fn serve(data_dir: &Path, admin_token: &str) -> Murphy {
        Murphy::serve_with(data_dir, admin_token, &[])
    }

    /// `murphy serve` with more flags (limits, say).
    pub fn serve_with(data_dir: &Path, admin_token: &str, flags: &[&str]) -> Murphy {
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
            .args(flags)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("murphy starts");
        let url = served_url(&mut child);
        Murphy { child, url }
    }
}

/// The URL a `murphy serve` child with piped stdout says it serves on (no trailing
/// slash). Its stdout is drained afterwards, so the child never blocks on a full pipe.
pub fn served_url(child: &mut Child) -> String {
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout piped"));
    let mut line = String::new();
    let url = loop {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "murphy exited before serving");
        if let Some(rest) = line.strip_prefix("murphy serving ") {
            break rest.split_whitespace().next().unwrap().trim_end_matches('/').to_owned();
        }
    };
    std::thread::spawn(move || for _ in stdout.lines() {});
    url
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

/// The admin token of every `CliServer`.
pub const CLI_ADMIN_TOKEN: &str = "cli-test-admin-token";

/// The real server over a temporary data directory, killed when the test ends, and a
/// cache directory of the test's own for the client commands.
pub struct CliServer {
    /// Held for its `Drop`, which stops the server.
    _murphy: Murphy,
    pub url: String,
    _data: tempfile::TempDir,
    pub cache: tempfile::TempDir,
}

impl CliServer {
    pub fn start() -> CliServer {
        let data = tempfile::tempdir().unwrap();
        let murphy = Murphy::serve(data.path(), CLI_ADMIN_TOKEN);
        let url = murphy.url.clone();
        CliServer {
            _murphy: murphy,
            url,
            _data: data,
            cache: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs `murphy ARGS` as the admin, with this test's own cache directory.
    pub fn murphy(&self, args: &[&str]) -> Output {
        self.murphy_as(CLI_ADMIN_TOKEN, args)
    }

    /// Runs `murphy ARGS` with `token`, and no `MURPHY_STUDENT` from the environment.
    pub fn murphy_as(&self, token: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_murphy"))
            .args(args)
            .env("MURPHY_URL", &self.url)
            .env("MURPHY_TOKEN", token)
            .env("MURPHY_CACHE_DIR", self.cache.path())
            .env_remove("MURPHY_STUDENT")
            .env_remove("RUST_BACKTRACE")
            .output()
            .expect("murphy runs")
    }

    /// Imports `csv` (written into `dir`) as the admin.
    pub fn import(&self, dir: &Path, csv: &str) -> Output {
        let file = dir.join("sections.csv");
        std::fs::write(&file, csv).unwrap();
        self.murphy(&["admin", "import", file.to_str().unwrap()])
    }

    /// Creates students (as the admin, over a plain socket: the CLI has no command for
    /// it) and returns a token for each, issued with `murphy admin token`.
    pub fn students(&self, ids: &[&str]) -> Vec<String> {
        ids.iter()
            .map(|id| {
                let create = format!(r#"{{"commands":[{{"type":"create_student","student":"{id}","name":"Joe"}}]}}"#);
                post(&self.url, "/api/v1/commands", &create);
                let token = self.murphy(&["admin", "token", id]);
                assert!(token.status.success(), "{}", both(&token));
                stdout(&token).trim().to_owned()
            })
            .collect()
    }
}

/// The CSV header of `murphy admin import`.
pub const CSV_HEADER: &str = "section,title,units,capacity,waitlist_capacity,days,start,end\n";

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn both(output: &Output) -> String {
    format!("{}{}", stdout(output), stderr(output))
}

/// A POST as the CLI admin over a plain socket, for setup the CLI has no command for.
pub fn post(url: &str, path: &str, body: &str) {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {CLI_ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}
