//! What a user types, against the real binary: money in dollars as every answer prints
//! it, server addresses in the forms people write them, and a command run with a
//! token of the wrong role, each answered in a sentence that says what to do.

mod common;

use common::{CliServer as Server, both, stdout};

#[test]
fn money_is_typed_in_dollars_as_it_is_printed() {
    let server = Server::start();
    let [ada, _] = &server.students(&["s0001", "s0002"])[..] else {
        panic!("two tokens")
    };
    let said = |args: &[&str]| {
        let out = server.murphy_as(ada, args);
        assert!(out.status.success(), "{args:?}: {}", both(&out));
        stdout(&out).trim().to_owned()
    };
    assert_eq!(said(&["deposit", "12.50"]), "deposited $12.50; your balance is $12.50");
    assert_eq!(said(&["deposit", "$7.5"]), "deposited $7.50; your balance is $20.00");
    assert_eq!(said(&["withdraw", "5"]), "withdrew $5.00; your balance is $15.00");
    assert_eq!(
        said(&["transfer", "s0002", "0.25"]),
        "transferred $0.25 to s0002; your balance is $14.75"
    );
    let json: serde_json::Value = serde_json::from_str(&said(&["balance", "--json"])).unwrap();
    assert_eq!(json["balance_cents"], 1475, "the API keeps cents: {json}");

    for typed in ["12.345", "0", "ten"] {
        let refused = server.murphy_as(ada, &["deposit", typed]);
        assert_eq!(refused.status.code(), Some(2), "{typed}: {}", both(&refused));
        assert!(
            both(&refused).contains("write it as 12.50, $12.50 or 12"),
            "{typed}: {}",
            both(&refused)
        );
    }
}

#[test]
fn a_url_without_a_scheme_is_http_and_listen_takes_a_host_name_or_a_port() {
    let server = Server::start();
    let bare = server.url.strip_prefix("http://").unwrap();
    let sections = server.murphy(&["sections", "--url", bare]);
    assert!(sections.status.success(), "{}", both(&sections));
    assert!(stdout(&sections).contains("0 sections"), "{}", both(&sections));
    let wrong = server.murphy(&["sections", "--url", &format!("ftp://{bare}")]);
    assert_eq!(wrong.status.code(), Some(2), "{}", both(&wrong));
    assert!(both(&wrong).contains("murphy speaks http://"), "{}", both(&wrong));

    for listen in ["localhost:0", "0"] {
        let data = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_murphy"))
            .args(["serve", "--admin-token", "t", "--listen", listen, "--data-dir"])
            .arg(data.path())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let url = common::served_url(&mut child);
        let _ = child.kill();
        let _ = child.wait();
        assert!(url.starts_with("http://127.0.0.1:"), "--listen {listen}: {url}");
    }
}

#[test]
fn the_wrong_role_and_other_refusals_are_said_once_in_the_command_lines_words() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "{}MATH-31A-1,Differential Calculus,4,10,0,MWF,09:00,09:50\n",
        common::CSV_HEADER
    );
    assert!(server.import(dir.path(), &csv).status.success());
    let [ada] = &server.students(&["s0001"])[..] else {
        panic!("a token")
    };

    // A registrar's command with a student's token: whatever it would have sent first.
    let file = dir.path().join("sections.csv");
    for args in [
        vec!["admin", "permission", "s0001", "MATH-31A-1"],
        vec!["admin", "import", file.to_str().unwrap()],
        vec!["admin", "complete", "s0001", "MATH-1"],
        vec!["admin", "token", "s0001"],
    ] {
        let out = server.murphy_as(ada, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", both(&out));
        assert!(
            both(&out).starts_with("error: this needs the admin token"),
            "{args:?}: {}",
            both(&out)
        );
    }

    // A student's sentences name commands, not API paths.
    let nope = server.murphy_as(ada, &["section", "NOPE-1"]);
    assert_eq!(
        both(&nope).trim(),
        "error: there is no section NOPE-1; `murphy sections` lists them"
    );
    // A cause already said is not said again.
    let bad = server.murphy_as("not-a-token", &["sections"]);
    assert_eq!(both(&bad).lines().count(), 1, "{}", both(&bad));
    // A name that does not resolve is no server to start.
    let dns = server.murphy_as(ada, &["sections", "--url", "http://no-such-host.invalid:3000"]);
    assert_eq!(dns.status.code(), Some(3), "{}", both(&dns));
    assert!(both(&dns).contains("its name does not resolve"), "{}", both(&dns));
    assert!(!both(&dns).contains("is it running?"), "{}", both(&dns));
}
