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

/// The data directory as a crash would leave it while `backend` is open: every file
/// copied (SQLite's shared-memory index left out: it is rebuilt from the WAL), then
/// the log's WAL cut back to its header, as storage damage might. A reader pinned at
/// an early entry kept the checkpointer from copying later entries into the log's
/// file, so they were in the WAL only.
fn crashed_with_a_truncated_wal(from: &std::path::Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for file in std::fs::read_dir(from).unwrap() {
        let file = file.unwrap();
        let name = file.file_name();
        if !name.to_string_lossy().ends_with("-shm") {
            std::fs::copy(file.path(), copy.path().join(&name)).unwrap();
        }
    }
    let wal = std::fs::OpenOptions::new()
        .write(true)
        .open(copy.path().join("log.sqlite3-wal"))
        .unwrap();
    wal.set_len(32).unwrap();
    copy
}

/// A connection holding a read of the log open at its current end, once everything
/// so far is copied into the log's file: passive checkpoints copy nothing past it.
fn pin_the_log(dir: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(dir.join("log.sqlite3")).unwrap();
    let _: (i64, i64, i64) = conn
        .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    conn.execute_batch("BEGIN").unwrap();
    let _: u64 = conn.query_row("SELECT COUNT(*) FROM log", [], |r| r.get(0)).unwrap();
    conn
}

fn deposits() -> Vec<murphy_core::Command> {
    (0..conformance::model::STUDENTS)
        .map(|i| murphy_core::Command::Deposit {
            student: format!("p{i}"),
            amount_cents: 1,
        })
        .collect()
}

/// A log that lost its WAL's tail, with the tables behind what it lost: without the
/// high-water mark it opens as a shorter log and would hand out answered LSNs again;
/// with it, opening refuses, naming what to restore.
#[test]
fn a_truncated_wal_with_the_tables_behind_is_refused_at_start() {
    let harness = temp();
    let backend = harness.open();
    let mut model = Model::set_up(&backend);
    model.materialize(&backend);
    let tables_lsn = model.state.lsn();
    let _pin = pin_the_log(harness.dir.path());
    for _ in 0..20 {
        model.append(&backend, &deposits());
    }
    let answered = model.state.lsn();
    let damaged = crashed_with_a_truncated_wal(harness.dir.path());

    let refused = Sqlite::open(damaged.path())
        .err()
        .expect("a log shorter than its mark is refused");
    let text = refused.to_string();
    assert!(
        text.contains(&format!("reached lsn {answered}")) && text.contains("log.high-water"),
        "{text}"
    );
    assert!(text.contains("Restore log.sqlite3"), "names what to restore: {text}");
    assert_eq!(text.lines().count(), 1, "one line: {text}");

    // The damage is real: without the mark, the shorter log opens, behind what was
    // answered (and ahead of the tables, so nothing else would notice).
    std::fs::remove_file(damaged.path().join("log.high-water")).unwrap();
    let shorter = Sqlite::open(damaged.path()).expect("without its mark the damage goes unseen");
    let recovered = murphy_store::recover(
        &shorter,
        conformance::model::limits(),
        murphy_core::RulesVersion::LATEST,
    )
    .unwrap();
    assert!(
        (tables_lsn..answered).contains(&recovered.state.lsn()),
        "the log ends at {} after the damage; answered up to {answered}",
        recovered.state.lsn()
    );
}

/// The same damage with the tables materialized past what the log kept: refused,
/// naming the tables as what reached further.
#[test]
fn a_truncated_wal_with_the_tables_ahead_is_refused_at_start() {
    let harness = temp();
    let backend = harness.open();
    let mut model = Model::set_up(&backend);
    let _pin = pin_the_log(harness.dir.path());
    for _ in 0..20 {
        model.append(&backend, &deposits());
    }
    model.materialize(&backend);
    let damaged = crashed_with_a_truncated_wal(harness.dir.path());
    let refused = Sqlite::open(damaged.path())
        .err()
        .expect("tables ahead of the log are refused");
    let text = refused.to_string();
    assert!(
        text.contains(&format!(
            "its tables (tables.sqlite3) reached lsn {}",
            model.state.lsn()
        )),
        "{text}"
    );
    assert!(text.contains("Restore log.sqlite3"), "names what to restore: {text}");
}

/// A whole log opens with its mark, after a clean stop and after a crash alike.
#[test]
fn a_whole_log_opens_with_its_mark() {
    let harness = temp();
    let backend = harness.open();
    let mut model = Model::set_up(&backend);
    model.append(&backend, &deposits());
    let crashed = tempfile::tempdir().unwrap();
    for file in std::fs::read_dir(harness.dir.path()).unwrap() {
        let file = file.unwrap();
        std::fs::copy(file.path(), crashed.path().join(file.file_name())).unwrap();
    }
    Sqlite::open(crashed.path()).expect("a crash with the WAL whole opens");
    drop(backend);
    Sqlite::open(harness.dir.path()).expect("a clean stop opens");
}
