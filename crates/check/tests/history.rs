//! The history file: JSON lines that round-trip, and a malformed line named by number.

use murphy_check::Record;
use murphy_check::history::{read, write};
use murphy_core::Command;
use murphy_core::Outcome;
use murphy_core::wire::CommandResult;

fn record(seq: u64) -> Record {
    Record {
        client: "c1".into(),
        seq: Some(seq),
        sent_ns: 1_000 * seq,
        answered_ns: Some(1_000 * seq + 500),
        commands: vec![Command::Deposit {
            student: "s1".into(),
            amount_cents: 100,
        }],
        results: Some(vec![CommandResult {
            lsn: seq,
            outcome: Outcome::Balance {
                cents: 100 * seq as i64,
                fee_cents: 0,
            },
        }]),
        status: None,
    }
}

#[test]
fn records_round_trip() {
    let records = vec![record(1), record(2)];
    let mut bytes = Vec::new();
    write(&mut bytes, &records).unwrap();
    assert_eq!(read(&bytes[..]).unwrap(), records);
}

#[test]
fn a_malformed_line_is_named_by_its_number() {
    let mut bytes = Vec::new();
    write(&mut bytes, &[record(1), record(2)]).unwrap();
    bytes.extend_from_slice(b"\n{\"client\":\"c1\",\"sent_ns\":\"soon\"}\n");
    let error = read(&bytes[..]).unwrap_err();
    assert!(error.starts_with("line 4: "), "{error}");
}
