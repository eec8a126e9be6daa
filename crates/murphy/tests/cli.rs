//! The `murphy` client subcommands against the real binary serving on port 0:
//! a warm disk cache revalidates with `If-None-Match` and gets `304` (seen from the
//! server's metrics and from the CLI's own answer), a CSV with one bad row imports
//! nothing and names the line, a refusal reads as a sentence, a student's commands
//! need only the token, and the catalog lists ids in numeric order, in aligned columns.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;

use common::{CSV_HEADER, CliServer as Server, both, post, stdout};

/// `GET /metrics` over a plain socket: the server's own count, not the CLI's word.
fn responses(server: &Server, class: &str) -> u64 {
    responses_of(server, &[class])
}

/// The sum of several classes, read in ONE request (each read is itself a 2xx).
fn responses_of(server: &Server, classes: &[&str]) -> u64 {
    let addr = server.url.trim_start_matches("http://");
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

    let before = responses(&server, "3xx");
    let warm = server.murphy(&["section", "COMSCI-35L-1", "--json"]);
    assert!(warm.status.success(), "{}", both(&warm));
    let warm: serde_json::Value = serde_json::from_str(&stdout(&warm)).unwrap();
    assert_eq!(responses(&server, "3xx"), before + 1, "the server answered one 304");
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
    let before = responses_of(&server, &["2xx", "3xx"]);
    let stale = server.murphy(&["section", "COMSCI-35L-1", "--json", "--max-age", "600"]);
    let stale: serde_json::Value = serde_json::from_str(&stdout(&stale)).unwrap();
    assert_eq!(stale["cache"]["source"], "cache", "{stale}");
    // The only new response is the 2xx of the metrics read itself.
    assert_eq!(responses_of(&server, &["2xx", "3xx"]), before + 1);
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

/// A row the server refuses (here the last of 450: a lab another lecture already
/// links) leaves none of the file, and the answer names the row and why.
#[test]
fn a_csv_with_one_row_the_server_refuses_imports_nothing() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let header = "section,title,units,capacity,waitlist_capacity,days,start,end,linked\n";
    let first = format!("{header}LAB-1A,Lab,0,20,0,F,09:00,09:50,\nLEC-1,Lecture,4,20,0,M,09:00,09:50,LAB-1A\n");
    let imported = server.import(dir.path(), &first);
    assert!(imported.status.success(), "{}", both(&imported));

    let mut csv = header.to_owned();
    for i in 0..449 {
        csv.push_str(&format!("NEW-{i},Section {i},4,30,5,TR,10:00,10:50,\n"));
    }
    csv.push_str("LEC-2,Another lecture,4,20,0,W,09:00,09:50,LAB-1A\n");
    let refused = server.import(dir.path(), &csv);
    let text = both(&refused);
    assert_eq!(refused.status.code(), Some(1), "refused: {text}");
    assert!(
        text.contains("row 450 of 450 was refused, so nothing was imported: LAB-1A cannot be linked to LEC-2"),
        "{text}"
    );
    let listed = server.murphy(&["sections", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert_eq!(
        listed["sections"].as_array().unwrap().len(),
        2,
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
    // The admin token is no student's: it names the student with --student.

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

#[test]
fn a_student_command_needs_only_the_token() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let csv = format!("{CSV_HEADER}MATH-31A-1,Differential Calculus,4,10,0,MWF,09:00,09:50\n");
    assert!(server.import(dir.path(), &csv).status.success());
    let [ada, _] = &server.students(&["s0001", "s0002"])[..] else {
        panic!("two tokens")
    };

    // No --student, no MURPHY_STUDENT: the token says who this is.
    let enrolled = server.murphy_as(ada, &["enroll", "MATH-31A-1"]);
    assert_eq!(
        stdout(&enrolled).trim(),
        "you are enrolled in MATH-31A-1",
        "{}",
        both(&enrolled)
    );
    let schedule = server.murphy_as(ada, &["schedule", "--json"]);
    let schedule: serde_json::Value = serde_json::from_str(&stdout(&schedule)).unwrap();
    assert_eq!(schedule["student"], "s0001", "{schedule}");
    assert_eq!(schedule["enrolled"][0]["id"], "MATH-31A-1", "{schedule}");

    // A student token acts only as its own student, whatever --student says.
    let other = server.murphy_as(ada, &["balance", "--student", "s0002"]);
    assert_eq!(other.status.code(), Some(1), "{}", both(&other));
    // The admin token is no student's: murphy says to name one.
    let admin = server.murphy(&["balance"]);
    assert_eq!(admin.status.code(), Some(2), "{}", both(&admin));
    assert!(both(&admin).contains("--student"), "{}", both(&admin));
}

#[test]
fn sections_are_listed_in_numeric_order_in_aligned_columns() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let long = "Introduction to Algorithms and Complexity, with a Very Long Subtitle";
    let csv = format!(
        "{CSV_HEADER}COMSCI-111-1,Operating Systems Principles,5,30,5,MW,10:00,11:50\n\
         COMSCI-31-1,Introduction to Computer Science I,4,60,10,TR,14:00,15:50\n\
         COMSCI-180-1,\"{long}\",4,120,20,MWF,09:00,09:50\n\
         COMSCI-35L-1,Software Construction,4,160,20,MW,14:00,15:50\n"
    );
    assert!(server.import(dir.path(), &csv).status.success());
    let listed = server.murphy(&["sections"]);
    let text = stdout(&listed);
    let lines: Vec<&str> = text.lines().collect();
    let ids: Vec<&str> = lines[1..5]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["COMSCI-31-1", "COMSCI-35L-1", "COMSCI-111-1", "COMSCI-180-1"],
        "{text}"
    );
    // Every column starts where its header does, the long title's row included.
    for column in ["UNITS", "ENROLLED", "WAITLIST", "MEETS"] {
        let at = lines[0].find(column).unwrap();
        for line in &lines[1..5] {
            let before = line.chars().take(at).collect::<String>();
            assert!(
                before.ends_with("  ") && !line.chars().nth(at).unwrap().is_whitespace(),
                "{column} is out of line:\n{text}"
            );
        }
    }
    assert!(text.contains("Introduction to Algorithms and Complexi…"), "{text}");
}
