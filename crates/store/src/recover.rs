//! Start-up and verification, the same for every backend: the tables at their LSN,
//! then the log past them replayed through `core` (`State::replay`), each entry under
//! the rules version it records and checked against its logged outcome. The log alone
//! is the truth; the tables only save time. `known` is the newest rules version the
//! binary knows: a log past it is refused (`StoreError::RulesNewer`), never replayed
//! under other rules.

use murphy_core::{Changes, LogEntry, RulesVersion, SessionLimits, Sessions, State};

use crate::{Backend, Result, StoreError, TokenRow};

/// Entries read from the log per call while replaying.
const REPLAY_ENTRIES_PER_READ: u64 = 10_000;

/// What start-up rebuilt.
#[derive(Debug)]
pub struct Recovered {
    /// What the tables hold: where the materializer goes on from.
    pub tables: State,
    /// The state at the end of the log.
    pub state: State,
    /// The entities the replayed tail changed: not yet in the tables.
    pub changes: Changes,
    /// The sessions at the end of the log; the tail's changes are pending in it.
    pub sessions: Sessions,
    pub tokens: Vec<TokenRow>,
    /// Log entries past the tables, replayed.
    pub replayed: u64,
}

/// Loads the tables and replays the log past them. Refuses a log that ends before the
/// tables' position, that is at rules newer than `known`, or whose entries do not
/// replay to their logged outcomes. An empty log starts at `known`: a new cluster
/// decides under the newest rules its first node knows.
pub fn recover(backend: &dyn Backend, limits: SessionLimits, known: RulesVersion) -> Result<Recovered> {
    let tables = backend.tables()?;
    refuse_newer(tables.state.rules(), known)?;
    let tables_lsn = tables.state.lsn();
    if tables_lsn > 0 && backend.log(tables_lsn - 1, 1)?.is_empty() {
        return Err(StoreError::Corrupt(format!(
            "the tables are at lsn {tables_lsn} but the log ends before it"
        )));
    }
    let mut state = tables.state.clone();
    let mut sessions = Sessions::restore(limits, tables.sessions);
    let replayed = replay_from(backend, &mut state, known, |entry| sessions.replay(entry))?;
    if state.lsn() == 0 {
        state = State::starting_at(known);
    }
    let changes = state.take_changes();
    Ok(Recovered {
        tables: tables.state,
        state,
        changes,
        sessions,
        tokens: backend.tokens()?,
        replayed,
    })
}

/// What `verify` found.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    /// The last LSN of the log.
    pub log_lsn: u64,
    /// The tables' position, where they were compared with the replay.
    pub tables_lsn: u64,
}

/// Replays the whole log from nothing, each entry under its rules version, checking
/// every outcome and effect against the logged ones, compares the replay with the
/// tables at their position, and checks every invariant at the end. Offline; O(log).
pub fn verify(backend: &dyn Backend, known: RulesVersion) -> Result<Verified> {
    let tables = backend.tables()?.state;
    refuse_newer(tables.rules(), known)?;
    let mut state = State::default();
    let mut after = 0;
    let mut compared = tables.lsn() == 0;
    loop {
        let entries = backend.log(after, REPLAY_ENTRIES_PER_READ)?;
        let Some(last) = entries.last() else { break };
        after = last.lsn;
        for entry in &entries {
            state.replay(entry, known)?;
            if entry.lsn == tables.lsn() {
                compare(&state, &tables)?;
                compared = true;
            }
        }
    }
    if !compared {
        return Err(StoreError::Corrupt(format!(
            "the tables are at lsn {} but the log ends at {}",
            tables.lsn(),
            state.lsn()
        )));
    }
    state.check_invariants().map_err(StoreError::Corrupt)?;
    Ok(Verified {
        log_lsn: state.lsn(),
        tables_lsn: tables.lsn(),
    })
}

fn compare(replayed: &State, tables: &State) -> Result<()> {
    if replayed != tables {
        return Err(StoreError::Corrupt(format!(
            "the tables differ from a replay of the log at their lsn {}",
            tables.lsn()
        )));
    }
    Ok(())
}

/// Replays every entry after `state`'s LSN into it; returns how many.
fn replay_from(
    backend: &dyn Backend,
    state: &mut State,
    known: RulesVersion,
    mut each: impl FnMut(&LogEntry),
) -> Result<u64> {
    let mut replayed = 0;
    loop {
        let entries = backend.log(state.lsn(), REPLAY_ENTRIES_PER_READ)?;
        if entries.is_empty() {
            return Ok(replayed);
        }
        for entry in &entries {
            state.replay(entry, known)?;
            each(entry);
        }
        replayed += entries.len() as u64;
    }
}

/// Tables at rules newer than this binary knows: refused before anything is replayed.
fn refuse_newer(rules: RulesVersion, known: RulesVersion) -> Result<()> {
    let known = known.min(RulesVersion::LATEST);
    match rules > known {
        true => Err(StoreError::RulesNewer { log: rules, known }),
        false => Ok(()),
    }
}
