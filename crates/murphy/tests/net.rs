//! `murphy net` through the real binary: the fixed shape scripts rely on (`circuit
//! --trunks N --erlangs A --json` prints an object with "blocking"), and the same seed
//! and flags printing byte-identical JSON.

use std::process::Command;

fn murphy(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_murphy"))
        .args(args)
        .env_remove("MURPHY_NETWORK")
        .output()
        .expect("murphy runs");
    assert!(
        out.status.success(),
        "murphy {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn one_link_prints_its_blocking_as_json() {
    let out = murphy(&["net", "circuit", "--trunks", "10", "--erlangs", "8", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let blocking = report["blocking"].as_f64().expect("a number named blocking");
    // Erlang B for 10 trunks at 8 erlangs.
    assert!((blocking - 0.1217).abs() < 0.01, "{report}");
    assert_eq!(report["trunks"], 10);
}

#[test]
fn the_same_seed_prints_the_same_json() {
    for args in [
        &[
            "net",
            "circuit",
            "--trunks",
            "50",
            "--erlangs",
            "60",
            "--calls",
            "20000",
            "--seed",
            "9",
        ][..],
        &[
            "net",
            "circuit",
            "--duration",
            "300s",
            "--kill",
            "Chicago@150s",
            "--seed",
            "9",
        ],
        &[
            "net",
            "packet",
            "--kib",
            "512",
            "--messages",
            "40",
            "--kill",
            "Chicago@200ms",
            "--seed",
            "9",
        ],
        &["net", "baran", "--side", "8", "--trials", "5", "--seed", "9"],
        &[
            "net",
            "registration",
            "--students",
            "500",
            "--partition=-98@1s",
            "--seed",
            "9",
        ],
    ] {
        let mut args = args.to_vec();
        args.push("--json");
        let first = murphy(&args);
        assert!(
            first.starts_with(b"{") || first.starts_with(b"["),
            "{args:?} printed JSON"
        );
        assert_eq!(first, murphy(&args), "{args:?} printed different JSON");
    }
}
