//! Before any guarantee is checked: is the history from this log at all? A history
//! checked against another server's log (the wrong `--url`) would list every answered
//! command as a lost write, thousands of "violations" that say nothing about murphy.
//! A history is foreign when its LSNs run past the log's end, or when not one of its
//! answered commands is in the log at the LSN it was told; a real lost write leaves
//! the others in place.

use std::collections::HashMap;

use murphy_core::LogEntry;

use crate::history::Record;

/// `Err` with a sentence saying why the history cannot be this log's.
pub fn same_server(history: &[Record], log: &[LogEntry]) -> Result<(), String> {
    let told: Vec<_> = history
        .iter()
        .filter_map(|r| r.results.as_ref().map(|results| r.commands.iter().zip(results)))
        .flatten()
        .collect();
    let Some(last_told) = told.iter().map(|(_, result)| result.lsn).max() else {
        return Ok(());
    };
    let log_end = log.last().map_or(0, |e| e.lsn);
    if last_told > log_end {
        return Err(format!(
            "the history's LSNs run past this log's end (it was told LSN {last_told}; the log ends at \
             {log_end}): is --url the server the bench drove?"
        ));
    }
    let by_lsn: HashMap<u64, &LogEntry> = log.iter().map(|e| (e.lsn, e)).collect();
    let matched = told
        .iter()
        .any(|(command, result)| by_lsn.get(&result.lsn).is_some_and(|e| e.command == **command));
    if !matched {
        return Err(format!(
            "none of the history's {} answered commands is in this log at the LSN it was told: \
             is --url the server the bench drove?",
            told.len()
        ));
    }
    Ok(())
}
