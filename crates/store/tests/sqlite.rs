//! The SQLite backend: the conformance suite, and what only SQLite has (its WAL).

mod conformance;

use conformance::{Harness, Model};
use murphy_store::{Backend, Sqlite, SqliteOptions};

struct TempSqlite {
    dir: tempfile::TempDir,
    options: SqliteOptions,
}

impl Harness for TempSqlite {
    type Backend = Sqlite;

    fn open(&self) -> Sqlite {
        Sqlite::open_with(self.dir.path(), self.options.clone()).unwrap()
    }
}

fn temp() -> TempSqlite {
    TempSqlite {
        dir: tempfile::tempdir().unwrap(),
        options: SqliteOptions::default(),
    }
}

conformance_suite!(temp());

/// A writer that never pauses must not grow the log's WAL without bound: the
/// checkpointer copies it into the file beside the writer, and the writer truncates it
/// once it passes its limit.
#[test]
fn the_wal_stays_bounded_under_a_writer_that_never_pauses() {
    const WAL_BYTES_MAX: u64 = 2_000_000;
    let harness = TempSqlite {
        options: SqliteOptions {
            wal_bytes_max: WAL_BYTES_MAX,
        },
        ..temp()
    };
    let backend = harness.open();
    let mut model = Model::set_up(&backend);
    let deposits: Vec<_> = (0..conformance::model::STUDENTS)
        .map(|i| murphy_core::Command::Deposit {
            student: format!("p{i}"),
            amount_cents: 1,
        })
        .collect();
    let wal = harness.dir.path().join("log.sqlite3-wal");
    // Enough entries to pass the limit several times over (about 10 MB of log), however
    // slow the machine; the deadline only stops a writer that hangs.
    const ENTRIES_MIN: u64 = 20_000;
    let mut wal_bytes_max = 0;
    let started = std::time::Instant::now();
    while model.state.lsn() < ENTRIES_MIN {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "wrote only {} entries in two minutes",
            model.state.lsn()
        );
        model.append(&backend, &deposits);
        wal_bytes_max = wal_bytes_max.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    // The limit plus what the writer adds while a truncation is held up.
    let bound = 2 * WAL_BYTES_MAX;
    assert!(
        wal_bytes_max < bound,
        "the WAL reached {wal_bytes_max} bytes; bound {bound}"
    );
    let recovered = murphy_store::recover(
        &harness.open(),
        conformance::model::limits(),
        murphy_core::RulesVersion::LATEST,
    )
    .unwrap();
    assert_eq!(recovered.state, model.state);
    drop(backend);
}

/// The log is plain SQLite: `sqlite3` (here, a plain connection) reads every entry.
#[test]
fn the_log_is_readable_as_plain_sql() {
    let harness = temp();
    let backend = harness.open();
    let model = Model::set_up(&backend);
    let conn = rusqlite::Connection::open(harness.dir.path().join("log.sqlite3")).unwrap();
    let (count, first): (u64, String) = conn
        .query_row(
            "SELECT COUNT(*), (SELECT json_extract(command, '$.type') FROM log WHERE lsn = 1) FROM log",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((count, first.as_str()), (model.state.lsn(), "create_section"));
    assert_eq!(backend.log(0, 1).unwrap()[0].lsn, 1);
}

/// Garbage in an old page of the log is found at start, not when a read reaches it:
/// opening refuses the file, naming it and what to restore.
#[test]
fn a_damaged_page_of_the_log_is_refused_at_start() {
    let harness = temp();
    let backend = harness.open();
    let mut model = Model::set_up(&backend);
    let deposits: Vec<_> = (0..conformance::model::STUDENTS)
        .map(|i| murphy_core::Command::Deposit {
            student: format!("p{i}"),
            amount_cents: 1,
        })
        .collect();
    while model.state.lsn() < 3000 {
        model.append(&backend, &deposits);
    }
    drop(backend); // the last connection checkpoints the WAL into the file
    let path = harness.dir.path().join("log.sqlite3");
    let mut bytes = std::fs::read(&path).unwrap();
    let page = 4096;
    assert!(bytes.len() > 20 * page, "a log of many pages: {}", bytes.len());
    // An old page in the middle of the file: no read of recent entries touches it.
    let middle = (bytes.len() / page / 2) * page;
    for (i, b) in bytes[middle..middle + page].iter_mut().enumerate() {
        *b = (i * 131 % 251) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();
    let refused = Sqlite::open(harness.dir.path())
        .err()
        .expect("a damaged log is refused");
    let text = refused.to_string();
    assert!(text.contains("log.sqlite3") && text.contains("damaged"), "{text}");
    assert!(text.contains("restore"), "says what to do: {text}");
}
