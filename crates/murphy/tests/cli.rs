//! The `murphy` client subcommands against the real binary serving on port 0:
//! a warm disk cache revalidates with `If-None-Match` and gets `304` (seen from the
//! server's metrics and from the CLI's own answer), a CSV with one bad row imports
//! nothing and names the line, and a refusal reads as a sentence.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command as Process, Output};

use common::Murphy;

const ADMIN_TOKEN: &str = "cli-test-admin-token";

const CSV_HEADER: &str = "section,title,units,capacity,waitlist_capacity,days,start,end\n";

/// The real server over a temporary data directory, killed when the test ends.
struct Server {
    /// Held for its `Drop`, which stops the server.
    _murphy: Murphy,
    url: String,
    _data: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let data = tempfile::tempdir().unwrap();
        let murphy = Murphy::serve(data.path(), ADMIN_TOKEN);
        let url = murphy.url.clone();
        Server {
            _murphy: murphy,
            url,
            _data: data,
            cache: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs `murphy ARGS` as the admin, with this test's own cache directory.
    fn murphy(&self, args: &[&str]) -> Output {
        Process::new(env!("CARGO_BIN_EXE_murphy"))
            .args(args)
            .env("MURPHY_URL", &self.url)
            .env("MURPHY_TOKEN", ADMIN_TOKEN)
            .env("MURPHY_CACHE_DIR", self.cache.path())
            .env_remove("MURPHY_STUDENT")
            .output()
            .expect("murphy runs")
    }

    fn import(&self, dir: &Path, csv: &str) -> Output {
        let file = dir.join("sections.csv");
        std::fs::write(&file, csv).unwrap();
        self.murphy(&["admin", "import", file.to_str().unwrap()])
    }

    /// `GET /metrics` over a plain socket: the server's own count, not the CLI's word.
    fn responses(&self, class: &str) -> u64 {
        self.responses_of(&[class])
    }

    /// The sum of several classes, read in ONE request (each read is itself a 2xx).
    fn responses_of(&self, classes: &[&str]) -> u64 {
        let addr = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        let count = |class: &&str| -> u64 {
            let key = format!("murphy_http_responses_total{{class=\"{class}\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(&key))
                .unwrap_or_else(|| panic!("no {key} in {text}"))
                .trim()
                .parse()
                .unwrap()
        };
        classes.iter().map(count).sum()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn both(output: &Output) -> String {
    format!("{}{}", stdout(output), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn a_second_section_read_with_a_warm_cache_is_a_304() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let csv = format!("{CSV_HEADER}COMSCI-35L-1,Software Construction,4,160,20,MW,14:00,15:50\n");
    let imported = server.import(dir.path(), &csv);
    assert!(imported.status.success(), "{}", both(&imported));

    let cold = server.murphy(&["section", "COMSCI-35L-1", "--json"]);
    assert!(cold.status.success(), "{}", both(&cold));
    let cold: serde_json::Value = serde_json::from_str(&stdout(&cold)).unwrap();
    assert_eq!(cold["cache"]["source"], "downloaded", "{cold}");
    assert_eq!(cold["section"]["capacity"], 160);

    let before = server.responses("3xx");
    let warm = server.murphy(&["section", "COMSCI-35L-1", "--json"]);
    assert!(warm.status.success(), "{}", both(&warm));
    let warm: serde_json::Value = serde_json::from_str(&stdout(&warm)).unwrap();
    assert_eq!(server.responses("3xx"), before + 1, "the server answered one 304");
    assert_eq!(warm["cache"]["source"], "revalidated", "{warm}");
    assert_eq!(warm["cache"]["revalidated"], true);
    assert_eq!(warm["section"], cold["section"], "the cached body is the same section");

    // The human output says so too, and stale-OK mode does not ask at all.
    let human = server.murphy(&["section", "COMSCI-35L-1"]);
    assert!(
        stdout(&human).contains("revalidated with the server (304"),
        "{}",
        both(&human)
    );
    let before = server.responses_of(&["2xx", "3xx"]);
    let stale = server.murphy(&["section", "COMSCI-35L-1", "--json", "--max-age", "600"]);
    let stale: serde_json::Value = serde_json::from_str(&stdout(&stale)).unwrap();
    assert_eq!(stale["cache"]["source"], "cache", "{stale}");
    // The only new response is the 2xx of the metrics read itself.
    assert_eq!(server.responses_of(&["2xx", "3xx"]), before + 1);
}

#[test]
fn a_csv_with_one_bad_row_imports_nothing_and_names_its_line() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "{CSV_HEADER}COMSCI-31-1,Introduction to Computer Science I,4,200,10,MWF,10:00,10:50\n\
         COMSCI-32-1,Introduction to Computer Science II,4,200,10,TR,12:00,11:00\n\
         COMSCI-33-1,Computer Organization,4,150,10,MW,14:00,15:50\n"
    );
    let refused = server.import(dir.path(), &csv);
    let text = both(&refused);
    assert!(!refused.status.success(), "{text}");
    assert!(text.contains("line 3:"), "names the bad row's line: {text}");
    assert!(!text.contains("line 2:") && !text.contains("line 4:"), "{text}");
    assert!(text.contains("nothing was imported"), "{text}");

    let listed = server.murphy(&["sections", "--json"]);
    assert!(listed.status.success(), "{}", both(&listed));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(
        listed["sections"].as_array().unwrap().len(),
        0,
        "nothing imported: {listed}"
    );
}

#[test]
fn a_full_section_is_refused_in_a_sentence() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let csv = format!("{CSV_HEADER}MATH-31A-1,Differential Calculus,4,1,0,MWF,09:00,09:50\n");
    assert!(server.import(dir.path(), &csv).status.success());
    for student in ["s1", "s2"] {
        let create = format!(r#"{{"commands":[{{"type":"create_student","student":"{student}","name":"Joe"}}]}}"#);
        post(&server.url, "/api/v1/commands", &create);
    }

    let enrolled = server.murphy(&["enroll", "MATH-31A-1", "--student", "s1"]);
    assert_eq!(
        stdout(&enrolled).trim(),
        "you are enrolled in MATH-31A-1",
        "{}",
        both(&enrolled)
    );
    let full = server.murphy(&["enroll", "MATH-31A-1", "--waitlist", "--student", "s2"]);
    assert_eq!(full.status.code(), Some(1), "a refusal exits with 1");
    assert_eq!(stdout(&full).trim(), "MATH-31A-1 is full and its waitlist too");
    let schedule = server.murphy(&["schedule", "--student", "s1"]);
    assert!(stdout(&schedule).contains("09:00  MATH-31A-1"), "{}", both(&schedule));
}

/// A POST as the admin over a plain socket, for setup the CLI has no command for.
fn post(url: &str, path: &str, body: &str) {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}
