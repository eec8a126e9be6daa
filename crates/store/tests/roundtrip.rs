//! The store writes only what a batch changed (line diffs, upserts); this checks that
//! what it loads back is always exactly the state the batches built, and that the log
//! replays to the same state, for random command sequences cut into random batches.

use murphy_core::{Command, LogEntry, Meeting, State};
use murphy_store::{Batch, Reader, Store};
use proptest::prelude::*;
use time::OffsetDateTime;

const SECTIONS: u8 = 4;
const STUDENTS: u8 = 10;

fn setup() -> Vec<Command> {
    let slots = [
        ("MW", "10:00", "11:00"),
        ("MW", "10:30", "11:30"),
        ("TR", "10:00", "11:00"),
        ("F", "09:00", "10:00"),
    ];
    let mut commands: Vec<Command> = (0..SECTIONS)
        .map(|i| {
            let (days, start, end) = slots[i as usize];
            Command::CreateSection {
                section: format!("S{i}"),
                title: format!("Section {i}"),
                units: 4,
                capacity: 2,
                waitlist_capacity: 3,
                meetings: vec![Meeting::parse(days, start, end).unwrap()],
            }
        })
        .collect();
    commands.extend((0..STUDENTS).map(|i| Command::CreateStudent {
        student: format!("p{i}"),
        name: format!("Student {i}"),
        max_units: 12,
    }));
    commands
}

fn command((kind, student, section, other, amount): (u8, u8, u8, u8, i64)) -> Command {
    let (student, section) = (format!("p{}", student % STUDENTS), format!("S{}", section % SECTIONS));
    let to = format!(
        "S{}",
        (section.as_bytes()[1] - b'0' + 1 + other % (SECTIONS - 1)) % SECTIONS
    );
    match kind % 7 {
        0 | 1 => Command::Enroll {
            student,
            section,
            waitlist: other % 2 == 0,
        },
        2 => Command::Drop { student, section },
        3 => Command::Swap {
            student,
            from: section,
            to,
        },
        4 => Command::Deposit {
            student,
            amount_cents: amount,
        },
        5 => Command::Withdraw {
            student,
            amount_cents: amount,
        },
        _ => Command::SetCapacity {
            section,
            capacity: u32::from(other % 4) + 1,
        },
    }
}

/// Applies `commands` to `state` as one committed batch.
fn commit(store: &mut Store, state: &mut State, commands: &[Command], at: OffsetDateTime) {
    let before = state.clone();
    let entries = commands
        .iter()
        .map(|c| {
            let applied = state.apply(at, c);
            LogEntry {
                lsn: applied.lsn,
                at,
                client: None,
                seq: None,
                command: c.clone(),
                outcome: applied.outcome,
                effects: applied.effects,
            }
        })
        .collect();
    let changes = state.take_changes();
    store
        .commit(
            &Batch {
                entries,
                ..Batch::default()
            },
            &before,
            state,
            &changes,
        )
        .unwrap();
}

/// A new database holding the setup commands, and the state they built.
fn set_up() -> (tempfile::TempDir, std::path::PathBuf, Store, State) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("murphy.sqlite3");
    let mut store = Store::open(&path).unwrap();
    let mut state = State::default();
    commit(&mut store, &mut state, &setup(), OffsetDateTime::UNIX_EPOCH);
    (dir, path, store, state)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn what_is_loaded_is_what_was_committed(
        script in prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), 1i64..6000), 1..120),
        cuts in prop::collection::vec(1usize..12, 1..40),
    ) {
        let (_dir, path, mut store, mut state) = set_up();
        let at = OffsetDateTime::UNIX_EPOCH;
        let commands: Vec<Command> = script.into_iter().map(command).collect();
        let mut rest = &commands[..];
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (batch, tail) = rest.split_at((*cut).min(rest.len()));
            commit(&mut store, &mut state, batch, at);
            rest = tail;
            let loaded = Store::open(&path).unwrap().load().unwrap();
            prop_assert_eq!(&loaded.state, &state);
            prop_assert_eq!(loaded.replayed, 0);
        }
        prop_assert_eq!(Reader::open(&path).unwrap().replay_all().unwrap(), state);
    }
}

/// A writer that never pauses must not grow the WAL without bound: the checkpointer
/// copies it into the database beside the writer, and the writer truncates it once it
/// passes its limit.
#[test]
fn the_wal_stays_bounded_under_a_writer_that_never_pauses() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    const WAL_BYTES_MAX: u64 = 2_000_000;
    let (dir, path, mut store, mut state) = set_up();
    let at = OffsetDateTime::UNIX_EPOCH;
    let checkpointer = murphy_store::Checkpointer::open(&path).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let largest = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut largest = 0;
            while !done.load(Ordering::Relaxed) {
                largest = largest.max(checkpointer.checkpoint().unwrap());
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            largest
        })
    };
    let deposits: Vec<Command> = (0..STUDENTS)
        .map(|i| Command::Deposit {
            student: format!("p{i}"),
            amount_cents: 1,
        })
        .collect();
    let wal = dir.path().join("murphy.sqlite3-wal");
    let mut wal_bytes_max = 0;
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(2) {
        commit(&mut store, &mut state, &deposits, at);
        store.truncate_wal_over(WAL_BYTES_MAX).unwrap();
        wal_bytes_max = wal_bytes_max.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    done.store(true, Ordering::Relaxed);
    let largest = largest.join().unwrap();
    assert!(largest > 0, "the checkpointer saw the WAL");
    // The limit plus what the writer adds while a truncation is held up.
    let bound = 2 * WAL_BYTES_MAX;
    assert!(
        wal_bytes_max < bound,
        "the WAL reached {wal_bytes_max} bytes; bound {bound}"
    );
    assert_eq!(Store::open(&path).unwrap().load().unwrap().state, state);
}

/// Log entries past the tables (a crash between writing the log and the tables, were
/// they ever written apart) are replayed at load and written back, so that later
/// commits, which write only what they change, build on the right rows.
#[test]
fn a_log_tail_past_the_tables_is_written_back_at_load() {
    let (_dir, path, store, mut state) = set_up();
    let at = OffsetDateTime::UNIX_EPOCH;
    drop(store);

    // One more command reaches the log, and only the log.
    let enroll = Command::Enroll {
        student: "p0".into(),
        section: "S0".into(),
        waitlist: false,
    };
    let applied = state.apply(at, &enroll);
    state.take_changes();
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute(
        "INSERT INTO log (lsn, at, command, outcome) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![
            applied.lsn as i64,
            at.format(&time::format_description::well_known::Rfc3339).unwrap(),
            serde_json::to_string(&enroll).unwrap(),
            serde_json::to_string(&applied.outcome).unwrap(),
        ],
    )
    .unwrap();
    drop(raw);

    let mut store = Store::open(&path).unwrap();
    let loaded = store.load().unwrap();
    assert_eq!((loaded.replayed, &loaded.state), (1, &state));
    // The next commit writes only its own change to S0's line; it must land on the
    // line that already holds p0.
    let mut state = loaded.state;
    let next = Command::Enroll {
        student: "p1".into(),
        section: "S0".into(),
        waitlist: false,
    };
    commit(&mut store, &mut state, &[next], at);
    let reloaded = Store::open(&path).unwrap().load().unwrap();
    assert_eq!((reloaded.replayed, &reloaded.state), (0, &state));
    assert_eq!(reloaded.state.section("S0").unwrap().enrolled, ["p0", "p1"]);
}
